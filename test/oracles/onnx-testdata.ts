import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'protobufjs';

/**
 * Reader for the ONNX operator test vectors of Debian's `libonnx-testdata`: each case is a folder
 * `<root>/<suite>/<name>/` with model.onnx and `test_data_set_N/{input,output}_K.pb`, every .pb one
 * serialized TensorProto.
 */

/** Where Debian installs the vectors; EIN_ONNX_TESTDATA overrides it. */
export const DEBIAN_ONNX_TESTDATA = '/usr/share/libonnx-testdata/data';
const SUITES = ['node', 'pytorch-operator', 'pytorch-converted', 'simple', 'real'];

// The fields of onnx.proto's TensorProto that hold dense tensors (segments, strings and external
// data are left out: the operator vectors Ein uses have none).
const TENSOR_PROTO = parse(
  `syntax = "proto2";
  message TensorProto {
    repeated int64 dims = 1;
    optional int32 data_type = 2;
    repeated float float_data = 4 [packed = true];
    repeated int32 int32_data = 5 [packed = true];
    repeated int64 int64_data = 7 [packed = true];
    optional string name = 8;
    optional bytes raw_data = 9;
    repeated double double_data = 10 [packed = true];
  }`,
  { keepCase: true },
).root.lookupType('TensorProto');

interface DecodedTensor {
  dims: string[];
  data_type: number;
  float_data: number[];
  int32_data: number[];
  int64_data: string[];
  name: string;
  raw_data: Uint8Array;
  double_data: number[];
}

export type OnnxTensorData =
  | Float32Array
  | Float64Array
  | Int32Array
  | BigInt64Array
  | Int16Array
  | Uint16Array
  | Int8Array
  | Uint8Array;

export interface OnnxTensor {
  name: string;
  dims: number[];
  /** TensorProto.DataType name in lower case: 'float', 'int64', 'bool', ... */
  dataType: string;
  /** float16 tensors are widened to Float32Array; bool tensors are Uint8Array of 0 and 1. */
  data: OnnxTensorData;
}

export interface OnnxTestCase {
  name: string;
  folder: string;
  inputs: OnnxTensor[];
  outputs: OnnxTensor[];
}

export type OnnxTestCaseLookup = { ok: true; testCase: OnnxTestCase } | { ok: false; reason: string };

interface ElementType {
  name: string;
  bytes: number;
  /** Builds the array from little-endian bytes (always a fresh, aligned copy). */
  fromRaw(raw: ArrayBuffer): OnnxTensorData;
  /** Builds the array from the typed field that holds this type when raw_data is empty. */
  fromFields(t: DecodedTensor): OnnxTensorData;
}

// TensorProto.DataType numbers.
const ELEMENT_TYPES: Record<number, ElementType> = {
  1: {
    name: 'float',
    bytes: 4,
    fromRaw: (b) => new Float32Array(b),
    fromFields: (t) => Float32Array.from(t.float_data),
  },
  2: {
    name: 'uint8',
    bytes: 1,
    fromRaw: (b) => new Uint8Array(b),
    fromFields: (t) => Uint8Array.from(t.int32_data),
  },
  3: {
    name: 'int8',
    bytes: 1,
    fromRaw: (b) => new Int8Array(b),
    fromFields: (t) => Int8Array.from(t.int32_data),
  },
  4: {
    name: 'uint16',
    bytes: 2,
    fromRaw: (b) => new Uint16Array(b),
    fromFields: (t) => Uint16Array.from(t.int32_data),
  },
  5: {
    name: 'int16',
    bytes: 2,
    fromRaw: (b) => new Int16Array(b),
    fromFields: (t) => Int16Array.from(t.int32_data),
  },
  6: {
    name: 'int32',
    bytes: 4,
    fromRaw: (b) => new Int32Array(b),
    fromFields: (t) => Int32Array.from(t.int32_data),
  },
  7: {
    name: 'int64',
    bytes: 8,
    fromRaw: (b) => new BigInt64Array(b),
    fromFields: (t) => BigInt64Array.from(t.int64_data, (v) => BigInt(v)),
  },
  9: {
    name: 'bool',
    bytes: 1,
    fromRaw: (b) => new Uint8Array(b),
    fromFields: (t) => Uint8Array.from(t.int32_data),
  },
  10: {
    name: 'float16',
    bytes: 2,
    fromRaw: (b) => Float32Array.from(new Uint16Array(b), halfToFloat),
    fromFields: (t) => Float32Array.from(t.int32_data, halfToFloat),
  },
  11: {
    name: 'double',
    bytes: 8,
    fromRaw: (b) => new Float64Array(b),
    fromFields: (t) => Float64Array.from(t.double_data),
  },
};

function halfToFloat(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 31) return fraction ? NaN : sign * Infinity;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

/** Decodes one serialized TensorProto. */
export function decodeTensorProto(bytes: Uint8Array): OnnxTensor {
  const message = TENSOR_PROTO.decode(bytes);
  const t = TENSOR_PROTO.toObject(message, { longs: String, arrays: true, defaults: true }) as DecodedTensor;
  const type = ELEMENT_TYPES[t.data_type];
  if (!type) throw new Error(`tensor '${t.name}': TensorProto data_type ${t.data_type} is not supported`);
  const dims = t.dims.map(Number);
  const count = dims.reduce((n, d) => n * d, 1);
  let data: OnnxTensorData;
  if (t.raw_data.byteLength > 0) {
    const raw = t.raw_data;
    data = type.fromRaw(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength) as ArrayBuffer);
  } else {
    data = type.fromFields(t);
  }
  if (data.length !== count) {
    throw new Error(
      `tensor '${t.name}': dims [${dims}] need ${count} elements but the data has ${data.length}`,
    );
  }
  return { name: t.name, dims, dataType: type.name, data };
}

/** The vectors' folder, or why there is none and how to get it. */
export function onnxTestDataRoot(): { ok: true; root: string } | { ok: false; reason: string } {
  const root = process.env.EIN_ONNX_TESTDATA ?? DEBIAN_ONNX_TESTDATA;
  if (existsSync(root)) return { ok: true, root };
  return {
    ok: false,
    reason: `ONNX test vectors not found at ${root}: install Debian's libonnx-testdata (apt-get install libonnx-testdata) or set EIN_ONNX_TESTDATA`,
  };
}

/** Tensors named `<prefix>_<k>.pb` in a data set folder, in k order. */
function readTensors(folder: string, prefix: 'input' | 'output'): OnnxTensor[] {
  const pattern = new RegExp(`^${prefix}_(\\d+)\\.pb$`);
  return readdirSync(folder)
    .map((file) => ({ file, index: pattern.exec(file)?.[1] }))
    .filter((entry): entry is { file: string; index: string } => entry.index !== undefined)
    .sort((x, y) => Number(x.index) - Number(y.index))
    .map(({ file }) => decodeTensorProto(readFileSync(join(folder, file))));
}

/**
 * The inputs and expected outputs of an ONNX test case such as 'test_softmax_axis_1'. When the
 * package is absent this says so, with how to install it; a case name it does not have throws.
 */
export function readOnnxTestCase(name: string, dataSet = 0): OnnxTestCaseLookup {
  const data = onnxTestDataRoot();
  if (!data.ok) return data;
  const { root } = data;
  const folder = SUITES.map((suite) => join(root, suite, name)).find((path) => existsSync(path));
  if (!folder) throw new Error(`no ONNX test case '${name}' in ${root}/{${SUITES.join(',')}}`);
  const dataFolder = join(folder, `test_data_set_${dataSet}`);
  if (!existsSync(dataFolder)) throw new Error(`ONNX test case '${name}' has no test_data_set_${dataSet}`);
  return {
    ok: true,
    testCase: {
      name,
      folder,
      inputs: readTensors(dataFolder, 'input'),
      outputs: readTensors(dataFolder, 'output'),
    },
  };
}
