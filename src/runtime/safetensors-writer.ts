import type { ByteSink } from './byte-source.js';
import { MemoryByteSink } from './byte-source.js';
import { EinRuntimeError } from './errors.js';
import { formatShape, shapeElementCount } from './shape.js';
import { safetensorsDtypeBytes, type SafetensorsDtype } from './safetensors.js';

// Writes safetensors files tensor by tensor, so large (e.g. random test) weights need not all be in
// memory at once: an entry's data may be a function called only when that tensor is written.

export type SafetensorsData = Float32Array | Uint16Array;

export interface SafetensorsWriteEntry {
  readonly name: string;
  /** F32 takes a Float32Array; F16 and BF16 take raw 16-bit patterns (see half-float.ts). */
  readonly dtype: SafetensorsDtype;
  readonly shape: readonly number[];
  readonly data: SafetensorsData | (() => SafetensorsData | Promise<SafetensorsData>);
}

export async function writeSafetensors(
  sink: ByteSink,
  entries: readonly SafetensorsWriteEntry[],
  metadata: Readonly<Record<string, string>> = {},
): Promise<void> {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  const names = new Set<string>(['__metadata__']);
  let offset = 0;
  for (const entry of entries) {
    if (names.has(entry.name)) {
      throw new EinRuntimeError(`safetensors writer: tensor name '${entry.name}' is reserved or repeated`);
    }
    names.add(entry.name);
    const byteLength = shapeElementCount(entry.shape) * safetensorsDtypeBytes[entry.dtype];
    header[entry.name] = {
      dtype: entry.dtype,
      shape: entry.shape,
      data_offsets: [offset, offset + byteLength],
    };
    offset += byteLength;
  }
  // Pad the JSON with spaces so the data section starts 8-byte aligned, as the reference writer does.
  const unpadded = new TextEncoder().encode(JSON.stringify(header));
  const jsonBytes = new Uint8Array(unpadded.length + ((8 - (unpadded.length % 8)) % 8)).fill(0x20);
  jsonBytes.set(unpadded);
  const lengthBytes = new Uint8Array(8);
  new DataView(lengthBytes.buffer).setBigUint64(0, BigInt(jsonBytes.length), true);
  await sink.write(lengthBytes);
  await sink.write(jsonBytes);
  for (const entry of entries) {
    const data = typeof entry.data === 'function' ? await entry.data() : entry.data;
    checkData(entry, data);
    await sink.write(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  }
}

/** The whole file in memory: convenient for small test files. */
export async function serializeSafetensors(
  entries: readonly SafetensorsWriteEntry[],
  metadata: Readonly<Record<string, string>> = {},
): Promise<Uint8Array> {
  const sink = new MemoryByteSink();
  await writeSafetensors(sink, entries, metadata);
  return sink.toBytes();
}

function checkData(entry: SafetensorsWriteEntry, data: SafetensorsData): void {
  const wanted = entry.dtype === 'F32' ? Float32Array : Uint16Array;
  const count = shapeElementCount(entry.shape);
  if (!(data instanceof wanted) || data.length !== count) {
    throw new EinRuntimeError(
      `safetensors writer: tensor '${entry.name}' (${entry.dtype}, shape ${formatShape(entry.shape)}) needs a ` +
        `${wanted.name} of ${count} elements, got a ${data.constructor.name} of ${data.length}`,
    );
  }
}
