/**
 * A small ONNX graph encoder (hand-written protobuf) for the GEMM, attention, MLP and GPT-2
 * benchmarks: nodes with int / ints / float attributes, float and int64 initializers, float and int64
 * inputs and outputs with fixed or symbolic dimensions. Field numbers from onnx/onnx.proto: ModelProto
 * (ir_version 1, graph 7, opset_import 8), GraphProto (node 1, name 2, initializer 5, input 11,
 * output 12), NodeProto (input 1, output 2, op_type 4, attribute 5), AttributeProto (name 1, f 2, i 3,
 * ints 8, type 20), TensorProto (dims 1, data_type 2, name 8, raw_data 9), TensorShapeProto.Dimension
 * (dim_value 1, dim_param 2).
 *
 * The model is written into ONE buffer whose size is known before any byte is written, and an
 * initializer may be given as a function that fills its values in place, one tensor at a time: a
 * model of 0.5 GB of weights then costs 0.5 GB of JavaScript memory, not several copies of it.
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
const INT64 = 7;
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

/** An initializer's values: float32 given or filled in place (into a view of the model's bytes), or int64. */
export type InitializerData = Float32Array | ((into: Float32Array) => void) | BigInt64Array;

export interface OnnxValue {
  name: string;
  /** A number is a fixed size, a string a symbolic one (dim_param). */
  dims: (number | string)[];
  /** Default float. */
  type?: 'float' | 'int64';
}

export interface OnnxGraph {
  nodes: OnnxNode[];
  initializers: { name: string; dims: number[]; data: InitializerData }[];
  inputs: OnnxValue[];
  outputs: OnnxValue[];
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

function valueInfo(field: number, value: OnnxValue): Field {
  const shape = value.dims.map((dim) =>
    message(1, [typeof dim === 'number' ? intField(1, dim) : stringField(2, dim)]),
  );
  const elementType = value.type === 'int64' ? INT64 : FLOAT;
  const tensorType = message(1, [intField(1, elementType), message(2, shape)]);
  return message(field, [stringField(1, value.name), message(2, [tensorType])]);
}

/** The header of an initializer's TensorProto up to its raw_data length prefix; the values follow. */
function initializerHead(t: OnnxGraph['initializers'][number], dataBytes: number): Field {
  const head = concat([
    ...t.dims.map((d) => intField(1, d)),
    intField(2, t.data instanceof BigInt64Array ? INT64 : FLOAT),
    stringField(8, t.name),
    new Uint8Array([...varint((9 << 3) | 2), ...varint(dataBytes)]),
  ]);
  return concat([new Uint8Array([...varint((5 << 3) | 2), ...varint(head.length + dataBytes)]), head]);
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
  const initializers = graph.initializers.map((t) => {
    const dataBytes =
      t.data instanceof BigInt64Array ? t.data.byteLength : 4 * t.dims.reduce((a, b) => a * b, 1);
    return { tensor: t, head: initializerHead(t, dataBytes), dataBytes };
  });
  const rest = concat([
    stringField(2, 'bench'),
    ...graph.inputs.map((i) => valueInfo(11, i)),
    ...graph.outputs.map((o) => valueInfo(12, o)),
  ]);
  const graphBytes =
    nodes.reduce((sum, n) => sum + n.length, 0) +
    initializers.reduce((sum, i) => sum + i.head.length + i.dataBytes, 0) +
    rest.length;
  const head = concat([intField(1, 8), new Uint8Array([...varint((7 << 3) | 2), ...varint(graphBytes)])]);
  const opset = message(8, [stringField(1, ''), intField(2, graph.opset)]);
  const out = new Uint8Array(head.length + graphBytes + opset.length);
  let offset = 0;
  const put = (bytes: Uint8Array) => {
    out.set(bytes, offset);
    offset += bytes.length;
  };
  put(head);
  for (const n of nodes) put(n);
  for (const { tensor, head: tensorHead, dataBytes } of initializers) {
    put(tensorHead);
    const { data } = tensor;
    if (typeof data === 'function') {
      // raw_data need not be 4-byte aligned in the model's bytes: fill a tensor-sized scratch, copy.
      const values = new Float32Array(dataBytes / 4);
      data(values);
      put(new Uint8Array(values.buffer));
    } else put(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  }
  put(rest);
  put(opset);
  return out;
}
