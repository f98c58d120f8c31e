/**
 * A small ONNX graph encoder (hand-written protobuf) for the GEMM,
 * the attention and MLP benchmarks: nodes with int / ints / float attributes, float initializers,
 * float inputs and outputs. Field numbers from onnx/onnx.proto: ModelProto (ir_version 1, graph 7,
 * opset_import 8), GraphProto (node 1, name 2, initializer 5, input 11, output 12), NodeProto
 * (input 1, output 2, op_type 4, attribute 5), AttributeProto (name 1, f 2, i 3, ints 8, type 20),
 * TensorProto (dims 1, data_type 2, name 8, raw_data 9).
 */
type Field = Uint8Array;

function varint(value: number): number[] {
  const bytes: number[] = [];
  let v = BigInt.asUintN(64, BigInt(value));
  while (v >= 0x80n) {
    bytes.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  bytes.push(Number(v));
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
const floatField = (field: number, value: number): Field => {
  const bytes = new Uint8Array(4);
  new DataView(bytes.buffer).setFloat32(0, value, true);
  return concat([new Uint8Array(varint((field << 3) | 5)), bytes]);
};
const message = (field: number, parts: Field[]): Field => bytesField(field, concat(parts));

const FLOAT = 1;
const ATTRIBUTE_FLOAT = 1;
const ATTRIBUTE_INT = 2;
const ATTRIBUTE_INTS = 7;

export type Attribute = number | number[] | { float: number };

export interface OnnxNode {
  op: string;
  inputs: string[];
  outputs: string[];
  attributes?: Record<string, Attribute>;
}

export interface OnnxGraph {
  nodes: OnnxNode[];
  initializers: { name: string; dims: number[]; data: Float32Array }[];
  inputs: { name: string; dims: number[] }[];
  outputs: { name: string; dims: number[] }[];
  opset: number;
}

function attribute(name: string, value: Attribute): Field {
  if (Array.isArray(value))
    return message(5, [
      stringField(1, name),
      ...value.map((v) => intField(8, v)),
      intField(20, ATTRIBUTE_INTS),
    ]);
  if (typeof value === 'number')
    return message(5, [stringField(1, name), intField(3, value), intField(20, ATTRIBUTE_INT)]);
  return message(5, [stringField(1, name), floatField(2, value.float), intField(20, ATTRIBUTE_FLOAT)]);
}

function valueInfo(field: number, name: string, dims: number[]): Field {
  const shape = dims.map((dim) => message(1, [intField(1, dim)]));
  const tensorType = message(1, [intField(1, FLOAT), message(2, shape)]);
  return message(field, [stringField(1, name), message(2, [tensorType])]);
}

export function encodeModel(graph: OnnxGraph): Uint8Array {
  const nodes = graph.nodes.map((n) =>
    message(1, [
      ...n.inputs.map((i) => stringField(1, i)),
      ...n.outputs.map((o) => stringField(2, o)),
      stringField(4, n.op),
      ...Object.entries(n.attributes ?? {}).map(([k, v]) => attribute(k, v)),
    ]),
  );
  const initializers = graph.initializers.map((t) =>
    message(5, [
      ...t.dims.map((d) => intField(1, d)),
      intField(2, FLOAT),
      stringField(8, t.name),
      bytesField(9, new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength)),
    ]),
  );
  const body = message(7, [
    ...nodes,
    stringField(2, 'bench'),
    ...initializers,
    ...graph.inputs.map((i) => valueInfo(11, i.name, i.dims)),
    ...graph.outputs.map((o) => valueInfo(12, o.name, o.dims)),
  ]);
  const opset = message(8, [stringField(1, ''), intField(2, graph.opset)]);
  return concat([intField(1, 8), body, opset]);
}
