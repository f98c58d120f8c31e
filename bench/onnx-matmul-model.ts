/**
 * A hand-written protobuf encoder for the one ONNX model the benchmarks need:
 * Y[M, N] = MatMul(A[M, K], B[K, N]) with B stored as an initializer (so onnxruntime can
 * pre-pack it, its best case). Field numbers from onnx/onnx.proto (ModelProto, GraphProto,
 * NodeProto, ValueInfoProto, TypeProto, TensorShapeProto, TensorProto).
 */
type Field = Uint8Array;

function varint(value: number): number[] {
  const bytes: number[] = [];
  while (value >= 0x80) {
    bytes.push((value % 0x80) | 0x80);
    value = Math.floor(value / 0x80);
  }
  bytes.push(value);
  return bytes;
}

const concat = (parts: Field[]): Field => {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
};

const intField = (field: number, value: number): Field =>
  new Uint8Array([...varint(field << 3), ...varint(value)]);
const bytesField = (field: number, value: Field): Field =>
  concat([new Uint8Array([...varint((field << 3) | 2), ...varint(value.length)]), value]);
const stringField = (field: number, value: string): Field =>
  bytesField(field, new TextEncoder().encode(value));
const message = (field: number, parts: Field[]): Field => bytesField(field, concat(parts));

const FLOAT = 1;

function valueInfo(field: number, name: string, dims: number[]): Field {
  const shape = dims.map((dim) => message(1, [intField(1, dim)]));
  const tensorType = message(1, [intField(1, FLOAT), message(2, shape)]);
  return message(field, [stringField(1, name), message(2, [tensorType])]);
}

export function matMulModel(m: number, k: number, n: number, weights: Float32Array): Uint8Array {
  const node = message(1, [
    stringField(1, 'A'),
    stringField(1, 'B'),
    stringField(2, 'Y'),
    stringField(4, 'MatMul'),
  ]);
  const raw = new Uint8Array(weights.buffer, weights.byteOffset, weights.byteLength);
  const initializer = message(5, [
    intField(1, k),
    intField(1, n),
    intField(2, FLOAT),
    stringField(8, 'B'),
    bytesField(9, raw),
  ]);
  const graph = message(7, [
    node,
    stringField(2, 'matmul'),
    initializer,
    valueInfo(11, 'A', [m, k]),
    valueInfo(12, 'Y', [m, n]),
  ]);
  const opset = message(8, [stringField(1, ''), intField(2, 13)]);
  return concat([intField(1, 8), graph, opset]);
}
