import { assertLittleEndianHost, type ByteSource } from './byte-source.js';
import { EinRuntimeError } from './errors.js';
import { bf16ArrayToF32, f16ArrayToF32 } from './half-float.js';
import { assertShape, formatShape, shapeElementCount } from './shape.js';

// Reader for safetensors files: an 8-byte little-endian header length N, N bytes of JSON
// ({name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {...}}), then the data section,
// which offsets are relative to. Validation follows the reference implementation: tensors must tile
// the data section exactly, without overlaps or holes. Tensors are read one at a time on demand.

export type SafetensorsDtype = 'F32' | 'F16' | 'BF16';

export const safetensorsDtypeBytes: Readonly<Record<SafetensorsDtype, number>> = { F32: 4, F16: 2, BF16: 2 };

// Valid in the format but not readable here: named in errors so users know why a file is refused.
const otherFormatDtypes = [
  'BOOL',
  'U8',
  'I8',
  'F8_E5M2',
  'F8_E4M3',
  'I16',
  'U16',
  'I32',
  'U32',
  'F64',
  'I64',
  'U64',
];
// The reference implementation refuses headers above 100 MB; so do we, before allocating one.
const maxHeaderBytes = 100_000_000;

export interface SafetensorsTensorInfo {
  readonly name: string;
  readonly dtype: SafetensorsDtype;
  readonly shape: readonly number[];
  /** Absolute position in the file (data_offsets[0] plus the data section's start). */
  readonly byteOffset: number;
  readonly byteLength: number;
}

/** F32 tensors as float32; F16 and BF16 as their raw 16-bit patterns (widen with `toFloat32`). */
export type SafetensorsTensor = SafetensorsTensorInfo &
  (
    | { readonly dtype: 'F32'; readonly data: Float32Array }
    | { readonly dtype: 'F16' | 'BF16'; readonly data: Uint16Array }
  );

export class SafetensorsFile {
  private readonly byName: ReadonlyMap<string, SafetensorsTensorInfo>;

  private constructor(
    readonly source: ByteSource,
    /** In file order. */
    readonly tensors: readonly SafetensorsTensorInfo[],
    readonly metadata: Readonly<Record<string, string>>,
  ) {
    this.byName = new Map(tensors.map((tensor) => [tensor.name, tensor]));
  }

  /** Reads and validates the header; no tensor data is read yet. */
  static async open(source: ByteSource): Promise<SafetensorsFile> {
    assertLittleEndianHost();
    const fail = (detail: string) =>
      new EinRuntimeError(`${source.name}: not a valid safetensors file: ${detail}`);
    if (source.size < 8) throw fail(`${source.size} bytes, too short for the 8-byte header length`);
    const lengthBytes = new Uint8Array(8);
    await source.readInto(0, lengthBytes);
    const headerLength = new DataView(lengthBytes.buffer).getBigUint64(0, true);
    if (headerLength > BigInt(source.size - 8)) {
      throw fail(`header length ${headerLength} exceeds the ${source.size - 8} bytes after it`);
    }
    if (headerLength > BigInt(maxHeaderBytes))
      throw fail(`header length ${headerLength} is over the 100 MB limit`);
    const headerBytes = new Uint8Array(Number(headerLength));
    await source.readInto(8, headerBytes);
    let header: unknown;
    try {
      header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(headerBytes));
    } catch (error) {
      throw fail(
        `header is not valid UTF-8 JSON (${error instanceof Error ? error.message : String(error)})`,
      );
    }
    const dataStart = 8 + headerBytes.length;
    const { tensors, metadata } = parseHeader(header, dataStart, source.size - dataStart, fail);
    return new SafetensorsFile(source, tensors, metadata);
  }

  info(name: string): SafetensorsTensorInfo {
    const info = this.byName.get(name);
    if (!info) throw new EinRuntimeError(`${this.source.name}: has no tensor '${name}'`);
    return info;
  }

  /** Reads one tensor's data; with `expectedShape`, a tensor of any other shape is an error. */
  async readTensor(
    name: string,
    options: { expectedShape?: readonly number[] } = {},
  ): Promise<SafetensorsTensor> {
    const info = this.info(name);
    if (options.expectedShape) assertShape(this.source.name, name, info.shape, options.expectedShape);
    const count = info.byteLength / safetensorsDtypeBytes[info.dtype];
    if (info.dtype === 'F32') {
      const data = new Float32Array(count);
      await this.source.readInto(info.byteOffset, new Uint8Array(data.buffer));
      return { ...info, dtype: 'F32', data };
    }
    const data = new Uint16Array(count);
    await this.source.readInto(info.byteOffset, new Uint8Array(data.buffer));
    return { ...info, dtype: info.dtype, data };
  }

  /** Yields the tensors in file order, each read only when the consumer asks for the next. */
  async *streamTensors(): AsyncGenerator<SafetensorsTensor> {
    for (const info of this.tensors) yield await this.readTensor(info.name);
  }

  close(): Promise<void> {
    return this.source.close();
  }
}

/** Widens a tensor's values to float32 (F32 data is returned as is). */
export function toFloat32(tensor: SafetensorsTensor): Float32Array {
  if (tensor.dtype === 'F32') return tensor.data;
  return tensor.dtype === 'F16' ? f16ArrayToF32(tensor.data) : bf16ArrayToF32(tensor.data);
}

function parseHeader(
  header: unknown,
  dataStart: number,
  dataBytes: number,
  fail: (detail: string) => EinRuntimeError,
): { tensors: SafetensorsTensorInfo[]; metadata: Record<string, string> } {
  if (!isRecord(header)) throw fail('the JSON header is not an object');
  let metadata: Record<string, string> = {};
  const entries: { name: string; dtype: SafetensorsDtype; shape: number[]; begin: number; end: number }[] =
    [];
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') {
      if (!isRecord(entry) || !Object.values(entry).every((value) => typeof value === 'string')) {
        throw fail('__metadata__ must be an object of strings');
      }
      // fromEntries defines own properties, so even a '__proto__' key stays plain data.
      metadata = Object.fromEntries(Object.entries(entry)) as Record<string, string>;
      continue;
    }
    if (!isRecord(entry)) throw fail(`tensor '${name}' is not an object`);
    const { dtype, shape, data_offsets: offsets } = entry;
    if (typeof dtype !== 'string') throw fail(`tensor '${name}' has no dtype`);
    if (!(dtype in safetensorsDtypeBytes)) {
      const known = otherFormatDtypes.includes(dtype);
      throw fail(
        `tensor '${name}' has ${known ? 'unsupported' : 'unknown'} dtype '${dtype}' (Ein reads F32, F16, BF16)`,
      );
    }
    if (!Array.isArray(shape) || !shape.every(isCount)) {
      throw fail(`tensor '${name}' shape ${JSON.stringify(shape)} is not a list of non-negative integers`);
    }
    if (
      !Array.isArray(offsets) ||
      offsets.length !== 2 ||
      !offsets.every(isCount) ||
      offsets[0] > offsets[1]
    ) {
      throw fail(
        `tensor '${name}' data_offsets ${JSON.stringify(offsets)} are not [begin, end] with begin <= end`,
      );
    }
    const [begin, end] = offsets as [number, number];
    const typedDtype = dtype as SafetensorsDtype;
    const expected = shapeElementCount(shape) * safetensorsDtypeBytes[typedDtype];
    if (end - begin !== expected) {
      throw fail(
        `tensor '${name}' of shape ${formatShape(shape)} and dtype ${dtype} needs ${expected} bytes, ` +
          `but its data_offsets [${begin}, ${end}] span ${end - begin}`,
      );
    }
    if (end > dataBytes) {
      throw fail(
        `tensor '${name}' data_offsets [${begin}, ${end}] run past the ${dataBytes}-byte data section`,
      );
    }
    entries.push({ name, dtype: typedDtype, shape, begin, end });
  }
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let covered = 0;
  let previous = '';
  for (const entry of entries) {
    if (entry.begin < covered) {
      throw fail(
        `tensor '${entry.name}' data_offsets [${entry.begin}, ${entry.end}] overlap tensor '${previous}'`,
      );
    }
    if (entry.begin > covered) {
      throw fail(
        `bytes ${covered}..${entry.begin} of the data section belong to no tensor (before '${entry.name}')`,
      );
    }
    covered = entry.end;
    previous = entry.name;
  }
  if (covered !== dataBytes) {
    throw fail(
      `the tensors cover ${covered} bytes but the data section has ${dataBytes} (truncated or padded file)`,
    );
  }
  const tensors = entries.map(({ name, dtype, shape, begin, end }) => ({
    name,
    dtype,
    shape,
    byteOffset: dataStart + begin,
    byteLength: end - begin,
  }));
  return { tensors, metadata };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}
