import { MemoryByteSink, type ByteSink } from './byte-source.js';
import { EinRuntimeError } from './errors.js';
import {
  ggmlTypes,
  ggufDefaultAlignment,
  ggufMagic,
  ggufValueTypes,
  type GgmlTypeName,
  type GgufElement,
  type GgufTensorData,
  type GgufValue,
  type GgufValueType,
} from './gguf-types.js';
import { formatShape, shapeElementCount } from './shape.js';

// Writes GGUF v3 (or v2) files, tensor by tensor: an entry's data may be a function called only when
// that tensor is written. Alignment comes from a 'general.alignment' u32 in the metadata, else 32.

export interface GgufWriteTensor {
  readonly name: string;
  readonly type: GgmlTypeName;
  /** Row-major, outermost first (written to the file reversed, in ggml order). */
  readonly shape: readonly number[];
  /** As GgufTensorData: Float32Array for F32, 16-bit patterns for F16/BF16, raw blocks otherwise. */
  readonly data: GgufTensorData['data'] | (() => GgufTensorData['data'] | Promise<GgufTensorData['data']>);
}

export interface GgufWriteOptions {
  readonly version?: 2 | 3;
  readonly metadata?: ReadonlyMap<string, GgufValue> | Readonly<Record<string, GgufValue>>;
  readonly tensors: readonly GgufWriteTensor[];
}

export async function writeGguf(sink: ByteSink, options: GgufWriteOptions): Promise<void> {
  const metadata = new Map(
    options.metadata instanceof Map ? options.metadata : Object.entries(options.metadata ?? {}),
  );
  const alignmentEntry = metadata.get('general.alignment');
  const alignment = alignmentEntry?.type === 'u32' ? alignmentEntry.value : ggufDefaultAlignment;
  const header = new ByteWriter();
  header.u32(ggufMagic);
  header.u32(options.version ?? 3);
  header.u64(options.tensors.length);
  header.u64(metadata.size);
  for (const [key, value] of metadata) {
    header.string(key);
    header.u32(ggufValueTypes.indexOf(value.type));
    if (value.type === 'array') writeArray(header, value.elementType, value.value);
    else writeElement(header, value.type, value.value);
  }
  const sizes = options.tensors.map(tensorByteLength);
  let offset = 0;
  options.tensors.forEach((tensor, i) => {
    if (tensor.shape.length < 1 || tensor.shape.length > 4) {
      throw new EinRuntimeError(`GGUF writer: tensor '${tensor.name}' must have 1 to 4 dimensions`);
    }
    header.string(tensor.name);
    header.u32(tensor.shape.length);
    for (const extent of tensor.shape.toReversed()) header.u64(extent);
    header.u32(ggmlTypes[tensor.type].id);
    header.u64(offset);
    offset = alignUp(offset + sizes[i], alignment);
  });
  header.zeros(alignUp(header.length, alignment) - header.length);
  await sink.write(header.toBytes());
  for (const [i, tensor] of options.tensors.entries()) {
    const data = typeof tensor.data === 'function' ? await tensor.data() : tensor.data;
    if (data.byteLength !== sizes[i]) {
      throw new EinRuntimeError(
        `GGUF writer: tensor '${tensor.name}' (${tensor.type}, shape ${formatShape(tensor.shape)}) needs ` +
          `${sizes[i]} bytes of data, got ${data.byteLength}`,
      );
    }
    await sink.write(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    await sink.write(new Uint8Array(alignUp(sizes[i], alignment) - sizes[i]));
  }
}

/** The whole file in memory: convenient for small test files. */
export async function serializeGguf(options: GgufWriteOptions): Promise<Uint8Array> {
  const sink = new MemoryByteSink();
  await writeGguf(sink, options);
  return sink.toBytes();
}

function tensorByteLength(tensor: GgufWriteTensor): number {
  const { blockSize, blockBytes } = ggmlTypes[tensor.type];
  const innermost = tensor.shape[tensor.shape.length - 1];
  if (innermost % blockSize !== 0) {
    throw new EinRuntimeError(
      `GGUF writer: tensor '${tensor.name}' of type ${tensor.type} needs its last dimension to be a multiple of ${blockSize}`,
    );
  }
  return (shapeElementCount(tensor.shape) / blockSize) * blockBytes;
}

function alignUp(value: number, alignment: number): number {
  return Math.ceil(value / alignment) * alignment;
}

function writeArray(out: ByteWriter, elementType: GgufValueType, values: readonly GgufElement[]): void {
  out.u32(ggufValueTypes.indexOf(elementType));
  out.u64(values.length);
  for (const value of values) writeElement(out, elementType, value);
}

function writeElement(out: ByteWriter, type: GgufValueType, value: GgufElement): void {
  const mismatch = () => new EinRuntimeError(`GGUF writer: ${String(value)} is not a valid ${type} value`);
  if (type === 'array') {
    if (typeof value !== 'object') throw mismatch();
    return writeArray(out, value.elementType, value.value);
  }
  if (type === 'string') {
    if (typeof value !== 'string') throw mismatch();
    return out.string(value);
  }
  if (type === 'bool') {
    if (typeof value !== 'boolean') throw mismatch();
    return out.scalar(1, (view) => view.setUint8(0, value ? 1 : 0));
  }
  if (type === 'u64' || type === 'i64') {
    if (typeof value !== 'bigint') throw mismatch();
    return out.scalar(8, (view) =>
      (type === 'u64' ? view.setBigUint64 : view.setBigInt64).call(view, 0, value, true),
    );
  }
  if (typeof value !== 'number') throw mismatch();
  const setters = {
    u8: [1, (v: DataView) => v.setUint8(0, value)],
    i8: [1, (v: DataView) => v.setInt8(0, value)],
    u16: [2, (v: DataView) => v.setUint16(0, value, true)],
    i16: [2, (v: DataView) => v.setInt16(0, value, true)],
    u32: [4, (v: DataView) => v.setUint32(0, value, true)],
    i32: [4, (v: DataView) => v.setInt32(0, value, true)],
    f32: [4, (v: DataView) => v.setFloat32(0, value, true)],
    f64: [8, (v: DataView) => v.setFloat64(0, value, true)],
  } as const;
  const [size, set] = setters[type];
  out.scalar(size, set);
}

/** Growable little-endian byte buffer for the header. */
class ByteWriter {
  private bytes = new Uint8Array(1024);
  length = 0;

  scalar(size: number, set: (view: DataView) => void): void {
    this.reserve(size);
    set(new DataView(this.bytes.buffer, this.length, size));
    this.length += size;
  }

  u32(value: number): void {
    this.scalar(4, (view) => view.setUint32(0, value, true));
  }

  u64(value: number): void {
    this.scalar(8, (view) => view.setBigUint64(0, BigInt(value), true));
  }

  string(value: string): void {
    const encoded = new TextEncoder().encode(value);
    this.u64(encoded.length);
    this.reserve(encoded.length);
    this.bytes.set(encoded, this.length);
    this.length += encoded.length;
  }

  zeros(count: number): void {
    this.reserve(count);
    this.length += count; // the buffer is zero-filled beyond length
  }

  toBytes(): Uint8Array {
    return this.bytes.slice(0, this.length);
  }

  private reserve(extra: number): void {
    if (this.length + extra <= this.bytes.length) return;
    const grown = new Uint8Array(Math.max(this.bytes.length * 2, this.length + extra));
    grown.set(this.bytes.subarray(0, this.length));
    this.bytes = grown;
  }
}
