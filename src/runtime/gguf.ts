import { SequentialReader } from './binary-reader.js';
import { assertLittleEndianHost, type ByteSource } from './byte-source.js';
import { EinRuntimeError } from './errors.js';
import {
  ggmlTypeById,
  ggmlTypes,
  ggufDefaultAlignment,
  ggufMagic,
  ggufValueTypes,
  unsupportedGgmlTypeNames,
  type GgmlTypeName,
  type GgufElement,
  type GgufTensorData,
  type GgufValue,
  type GgufValueType,
} from './gguf-types.js';
import { assertShape, formatShape, shapeElementCount } from './shape.js';

// Reader for GGUF v2/v3 files (little-endian): magic, version, tensor and metadata counts (u64), the
// metadata key/values, the tensor infos, then tensor data from the first multiple of
// general.alignment. Headers are parsed in streamed chunks; tensor data is read one tensor at a time.

const supportedVersions = [2, 3];
const maxDims = 4; // GGML_MAX_DIMS
// Smallest encoding of one value of each type, to refuse absurd array counts before allocating.
const minValueBytes: Readonly<Record<GgufValueType, number>> = {
  u8: 1,
  i8: 1,
  bool: 1,
  u16: 2,
  i16: 2,
  u32: 4,
  i32: 4,
  f32: 4,
  u64: 8,
  i64: 8,
  f64: 8,
  string: 8,
  array: 12,
};

export interface GgufTensorInfo {
  readonly name: string;
  readonly type: GgmlTypeName;
  /** ggml order as stored: dims[0] is the innermost (contiguous) dimension. */
  readonly dims: readonly number[];
  /** Row-major, outermost first: `dims` reversed. */
  readonly shape: readonly number[];
  /** Absolute position in the file. */
  readonly byteOffset: number;
  readonly byteLength: number;
}

export type GgufTensor = GgufTensorInfo & GgufTensorData;

export class GgufFile {
  private readonly byName: ReadonlyMap<string, GgufTensorInfo>;

  private constructor(
    readonly source: ByteSource,
    readonly version: number,
    readonly metadata: ReadonlyMap<string, GgufValue>,
    readonly tensors: readonly GgufTensorInfo[],
    readonly alignment: number,
    readonly dataOffset: number,
  ) {
    this.byName = new Map(tensors.map((tensor) => [tensor.name, tensor]));
  }

  /** Parses and validates the header, metadata and tensor infos; no tensor data is read yet. */
  static async open(source: ByteSource): Promise<GgufFile> {
    assertLittleEndianHost();
    const reader = new SequentialReader(source);
    const magic = await reader.u32('the magic number');
    if (magic !== ggufMagic) {
      throw reader.corrupt(
        `not a GGUF file: starts with 0x${magic.toString(16).padStart(8, '0')}, expected "GGUF"`,
      );
    }
    const version = await reader.u32('the version');
    if (!supportedVersions.includes(version)) {
      const hint = version > 0xffff ? ' (a big-endian file?)' : '';
      throw reader.corrupt(`GGUF version ${version}${hint} is not supported (Ein reads versions 2 and 3)`);
    }
    const tensorCount = await reader.u64Count('the tensor count');
    const metadataCount = await reader.u64Count('the metadata count');
    const metadata = new Map<string, GgufValue>();
    for (let i = 0; i < metadataCount; i++) {
      const key = await readString(reader, `the key of metadata entry ${i}`);
      if (metadata.has(key)) throw reader.corrupt(`metadata key '${key}' appears twice`);
      metadata.set(key, await readValue(reader, `metadata '${key}'`));
    }
    const alignment = readAlignment(reader, metadata);
    const pending: Omit<GgufTensorInfo, 'byteOffset'>[] = [];
    const relativeOffsets: number[] = [];
    for (let i = 0; i < tensorCount; i++) {
      const { info, offset } = await readTensorInfo(reader, i, alignment);
      pending.push(info);
      relativeOffsets.push(offset);
    }
    const dataOffset = Math.ceil(reader.position / alignment) * alignment;
    const tensors = pending.map((info, i) => ({ ...info, byteOffset: dataOffset + relativeOffsets[i] }));
    checkTensorPlacement(reader, tensors, dataOffset);
    return new GgufFile(source, version, metadata, tensors, alignment, dataOffset);
  }

  info(name: string): GgufTensorInfo {
    const info = this.byName.get(name);
    if (!info) throw new EinRuntimeError(`${this.source.name}: has no tensor '${name}'`);
    return info;
  }

  /** A metadata number (any integer or float type), or an error naming the key. */
  metadataNumber(key: string): number {
    const entry = this.requireMetadata(key);
    if (typeof entry.value === 'number') return entry.value;
    if (typeof entry.value === 'bigint' && entry.value <= BigInt(Number.MAX_SAFE_INTEGER))
      return Number(entry.value);
    throw new EinRuntimeError(`${this.source.name}: metadata '${key}' is a ${entry.type}, expected a number`);
  }

  metadataString(key: string): string {
    const entry = this.requireMetadata(key);
    if (entry.type !== 'string') {
      throw new EinRuntimeError(
        `${this.source.name}: metadata '${key}' is a ${entry.type}, expected a string`,
      );
    }
    return entry.value;
  }

  /** Reads one tensor as stored (quantized types as raw blocks); optionally checks its row-major shape. */
  async readTensor(name: string, options: { expectedShape?: readonly number[] } = {}): Promise<GgufTensor> {
    const info = this.info(name);
    if (options.expectedShape) assertShape(this.source.name, name, info.shape, options.expectedShape);
    const bytes = new Uint8Array(info.byteLength);
    await this.source.readInto(info.byteOffset, bytes);
    switch (info.type) {
      case 'F32':
        return { ...info, type: info.type, data: new Float32Array(bytes.buffer) };
      case 'F16':
      case 'BF16':
        return { ...info, type: info.type, data: new Uint16Array(bytes.buffer) };
      case 'Q4_0':
      case 'Q8_0':
        return { ...info, type: info.type, data: bytes };
    }
  }

  /** Yields the tensors in header order, each read only when the consumer asks for the next. */
  async *streamTensors(): AsyncGenerator<GgufTensor> {
    for (const info of this.tensors) yield await this.readTensor(info.name);
  }

  close(): Promise<void> {
    return this.source.close();
  }

  private requireMetadata(key: string): GgufValue {
    const entry = this.metadata.get(key);
    if (!entry) throw new EinRuntimeError(`${this.source.name}: metadata '${key}' is missing`);
    return entry;
  }
}

async function readString(reader: SequentialReader, what: string): Promise<string> {
  const length = await reader.u64Count(`the length of ${what}`);
  return reader.utf8(length, what);
}

async function readValueType(reader: SequentialReader, what: string): Promise<GgufValueType> {
  const id = await reader.u32(`the type of ${what}`);
  const type = ggufValueTypes[id];
  if (type === undefined) throw reader.corrupt(`${what} has unknown value type ${id}`);
  return type;
}

async function readValue(reader: SequentialReader, what: string): Promise<GgufValue> {
  const type = await readValueType(reader, what);
  if (type === 'array') return readArray(reader, what);
  const value = await readElement(reader, type, what);
  return { type, value } as GgufValue;
}

async function readArray(reader: SequentialReader, what: string): Promise<GgufValue> {
  const elementType = await readValueType(reader, `the elements of ${what}`);
  const count = await reader.u64Count(`the length of ${what}`);
  if (count * minValueBytes[elementType] > reader.remaining) {
    throw reader.corrupt(`${what} claims ${count} ${elementType} elements, more than the file can hold`);
  }
  const value: GgufElement[] = [];
  for (let i = 0; i < count; i++) value.push(await readElement(reader, elementType, `${what}[${i}]`));
  return { type: 'array', elementType, value };
}

async function readElement(
  reader: SequentialReader,
  type: GgufValueType,
  what: string,
): Promise<GgufElement> {
  switch (type) {
    case 'u8':
      return reader.u8(what);
    case 'i8':
      return reader.i8(what);
    case 'u16':
      return reader.u16(what);
    case 'i16':
      return reader.i16(what);
    case 'u32':
      return reader.u32(what);
    case 'i32':
      return reader.i32(what);
    case 'f32':
      return reader.f32(what);
    case 'f64':
      return reader.f64(what);
    case 'u64':
      return reader.u64(what);
    case 'i64':
      return reader.i64(what);
    case 'bool': {
      const byte = await reader.u8(what);
      if (byte > 1) throw reader.corrupt(`${what} is a bool stored as ${byte}, expected 0 or 1`);
      return byte === 1;
    }
    case 'string':
      return readString(reader, what);
    case 'array':
      return readArray(reader, what) as Promise<GgufElement>;
  }
}

function readAlignment(reader: SequentialReader, metadata: ReadonlyMap<string, GgufValue>): number {
  const entry = metadata.get('general.alignment');
  if (!entry) return ggufDefaultAlignment;
  if (entry.type !== 'u32' || entry.value === 0 || (entry.value & (entry.value - 1)) !== 0) {
    throw reader.corrupt(
      `general.alignment must be a power-of-two u32, found ${entry.type} ${String(entry.value)}`,
    );
  }
  return entry.value;
}

async function readTensorInfo(
  reader: SequentialReader,
  index: number,
  alignment: number,
): Promise<{ info: Omit<GgufTensorInfo, 'byteOffset'>; offset: number }> {
  const name = await readString(reader, `the name of tensor ${index}`);
  const what = `tensor '${name}'`;
  const dimCount = await reader.u32(`the dimension count of ${what}`);
  if (dimCount < 1 || dimCount > maxDims)
    throw reader.corrupt(`${what} has ${dimCount} dimensions, expected 1..${maxDims}`);
  const dims: number[] = [];
  for (let d = 0; d < dimCount; d++) dims.push(await reader.u64Count(`dimension ${d} of ${what}`));
  const typeId = await reader.u32(`the type of ${what}`);
  const type = ggmlTypeById(typeId);
  if (!type) {
    const known = unsupportedGgmlTypeNames[typeId];
    const supported = Object.keys(ggmlTypes).join(', ');
    throw reader.corrupt(
      `${what} has ggml type ${typeId}${known ? ` (${known})` : ''}, which Ein does not read (${supported})`,
    );
  }
  const offset = await reader.u64Count(`the data offset of ${what}`);
  if (offset % alignment !== 0)
    throw reader.corrupt(`${what} data offset ${offset} is not a multiple of the alignment ${alignment}`);
  const { blockSize, blockBytes } = ggmlTypes[type];
  if (dims[0] % blockSize !== 0) {
    throw reader.corrupt(
      `${what} of type ${type} has innermost dimension ${dims[0]}, not a multiple of its block size ${blockSize}`,
    );
  }
  const byteLength = (shapeElementCount(dims) / blockSize) * blockBytes;
  if (!Number.isSafeInteger(byteLength))
    throw reader.corrupt(`${what} dimensions ${formatShape(dims)} are too large`);
  return { info: { name, type, dims, shape: dims.toReversed(), byteLength }, offset };
}

function checkTensorPlacement(
  reader: SequentialReader,
  tensors: readonly GgufTensorInfo[],
  dataOffset: number,
): void {
  const fileSize = reader.source.size;
  const seen = new Set<string>();
  for (const tensor of tensors) {
    if (seen.has(tensor.name)) throw reader.corrupt(`tensor '${tensor.name}' appears twice`);
    seen.add(tensor.name);
    if (tensor.byteOffset + tensor.byteLength > fileSize) {
      throw reader.corrupt(
        `truncated: tensor '${tensor.name}' ${tensor.type} ${formatShape(tensor.shape)} needs bytes ` +
          `${tensor.byteOffset}..${tensor.byteOffset + tensor.byteLength}, file has ${fileSize} (data starts at ${dataOffset})`,
      );
    }
  }
  // Empty tensors occupy no bytes and may share an offset with anything.
  const ordered = tensors.filter((t) => t.byteLength > 0).toSorted((a, b) => a.byteOffset - b.byteOffset);
  for (let i = 1; i < ordered.length; i++) {
    const [previous, tensor] = [ordered[i - 1], ordered[i]];
    if (tensor.byteOffset < previous.byteOffset + previous.byteLength) {
      throw reader.corrupt(`tensor '${tensor.name}' data overlaps tensor '${previous.name}'`);
    }
  }
}
