// Shared vocabulary of the GGUF reader, writer and dequantizers: ggml tensor types and GGUF
// metadata values.

/** ggml tensor types Ein reads. Quantized types are kept as raw blocks for the kernels to decode. */
export type GgmlTypeName = 'F32' | 'F16' | 'BF16' | 'Q4_0' | 'Q8_0';

export interface GgmlTypeTraits {
  readonly id: number;
  /** Elements per block along the innermost dimension (1 for plain floats). */
  readonly blockSize: number;
  readonly blockBytes: number;
}

export const ggmlTypes: Readonly<Record<GgmlTypeName, GgmlTypeTraits>> = {
  F32: { id: 0, blockSize: 1, blockBytes: 4 },
  F16: { id: 1, blockSize: 1, blockBytes: 2 },
  // f16 scale + 16 bytes of 4-bit values (offset by 8).
  Q4_0: { id: 2, blockSize: 32, blockBytes: 18 },
  // f16 scale + 32 int8 values.
  Q8_0: { id: 8, blockSize: 32, blockBytes: 34 },
  BF16: { id: 30, blockSize: 1, blockBytes: 2 },
};

/** Names of other ggml types, so a refused file can say what it contains. */
export const unsupportedGgmlTypeNames: Readonly<Record<number, string>> = {
  3: 'Q4_1',
  6: 'Q5_0',
  7: 'Q5_1',
  9: 'Q8_1',
  10: 'Q2_K',
  11: 'Q3_K',
  12: 'Q4_K',
  13: 'Q5_K',
  14: 'Q6_K',
  15: 'Q8_K',
  24: 'I8',
  25: 'I16',
  26: 'I32',
  27: 'I64',
  28: 'F64',
};

export function ggmlTypeById(id: number): GgmlTypeName | undefined {
  return (Object.keys(ggmlTypes) as GgmlTypeName[]).find((name) => ggmlTypes[name].id === id);
}

/** Tensor data as stored: floats as typed arrays, F16/BF16 as bit patterns, quantized as raw blocks. */
export type GgufTensorData =
  | { readonly type: 'F32'; readonly data: Float32Array }
  | { readonly type: 'F16' | 'BF16'; readonly data: Uint16Array }
  | { readonly type: 'Q4_0' | 'Q8_0'; readonly data: Uint8Array };

/** GGUF metadata value types, indexed by their id in the file. */
export const ggufValueTypes = [
  'u8',
  'i8',
  'u16',
  'i16',
  'u32',
  'i32',
  'f32',
  'bool',
  'string',
  'array',
  'u64',
  'i64',
  'f64',
] as const;

export type GgufValueType = (typeof ggufValueTypes)[number];

export interface GgufArray {
  readonly type: 'array';
  readonly elementType: GgufValueType;
  readonly value: readonly GgufElement[];
}

/** An array element: the bare value of the array's element type (nested arrays stay tagged). */
export type GgufElement = number | bigint | boolean | string | GgufArray;

export type GgufValue =
  | { readonly type: 'u8' | 'i8' | 'u16' | 'i16' | 'u32' | 'i32' | 'f32' | 'f64'; readonly value: number }
  | { readonly type: 'u64' | 'i64'; readonly value: bigint }
  | { readonly type: 'bool'; readonly value: boolean }
  | { readonly type: 'string'; readonly value: string }
  | GgufArray;

export const ggufMagic = 0x46554747; // "GGUF" read as a little-endian u32
export const ggufDefaultAlignment = 32;
