import { EinRuntimeError } from './errors.js';
import { f16ToF32, f32ToF16, bf16ArrayToF32, f16ArrayToF32 } from './half-float.js';
import { ggmlTypes, type GgufTensorData } from './gguf-types.js';

// Reference (de)quantization of ggml block formats, following llama.cpp's *_ref functions. Ein's
// kernels decode blocks themselves; these are for tests, writers and host-side references.

const f32 = Math.fround;

/** All values of a tensor as float32. */
export function dequantize(tensor: GgufTensorData): Float32Array {
  switch (tensor.type) {
    case 'F32':
      return tensor.data;
    case 'F16':
      return f16ArrayToF32(tensor.data);
    case 'BF16':
      return bf16ArrayToF32(tensor.data);
    case 'Q8_0':
      return dequantizeBlocks(tensor.data, 'Q8_0', (block, out) => {
        const scale = f16ToF32(block[0] | (block[1] << 8));
        for (let j = 0; j < 32; j++) out[j] = ((block[2 + j] << 24) >> 24) * scale;
      });
    case 'Q4_0':
      return dequantizeBlocks(tensor.data, 'Q4_0', (block, out) => {
        const scale = f16ToF32(block[0] | (block[1] << 8));
        for (let j = 0; j < 16; j++) {
          out[j] = ((block[2 + j] & 0x0f) - 8) * scale;
          out[j + 16] = ((block[2 + j] >> 4) - 8) * scale;
        }
      });
  }
}

function dequantizeBlocks(
  bytes: Uint8Array,
  type: 'Q4_0' | 'Q8_0',
  decodeBlock: (block: Uint8Array, out: Float32Array) => void,
): Float32Array {
  const { blockSize, blockBytes } = ggmlTypes[type];
  if (bytes.length % blockBytes !== 0) {
    throw new EinRuntimeError(
      `${type} data of ${bytes.length} bytes is not a whole number of ${blockBytes}-byte blocks`,
    );
  }
  const blocks = bytes.length / blockBytes;
  const out = new Float32Array(blocks * blockSize);
  for (let b = 0; b < blocks; b++) {
    decodeBlock(
      bytes.subarray(b * blockBytes, (b + 1) * blockBytes),
      out.subarray(b * blockSize, (b + 1) * blockSize),
    );
  }
  return out;
}

/** llama.cpp quantize_row_q8_0_ref: scale = max|x| / 127, values rounded half away from zero. */
export function quantizeQ8_0(values: Float32Array): Uint8Array {
  return quantizeBlocks(values, 'Q8_0', (x, block) => {
    const absMax = x.reduce((max, v) => Math.max(max, Math.abs(v)), 0);
    const scale = f32(absMax / 127);
    const inverse = scale ? f32(1 / scale) : 0;
    writeScale(block, scale);
    for (let j = 0; j < 32; j++) block[2 + j] = roundHalfAway(f32(x[j] * inverse)) & 0xff;
  });
}

/** llama.cpp quantize_row_q4_0_ref: scale = (signed value of largest magnitude) / -8. */
export function quantizeQ4_0(values: Float32Array): Uint8Array {
  return quantizeBlocks(values, 'Q4_0', (x, block) => {
    let absMax = 0;
    let max = 0;
    for (const v of x) {
      if (absMax < Math.abs(v)) {
        absMax = Math.abs(v);
        max = v;
      }
    }
    const scale = f32(max / -8);
    const inverse = scale ? f32(1 / scale) : 0;
    writeScale(block, scale);
    // (int8_t)(x + 8.5f) truncates toward zero, then MIN(15, ...).
    const nibble = (v: number) => Math.min(15, Math.trunc(f32(f32(v * inverse) + 8.5)));
    for (let j = 0; j < 16; j++) block[2 + j] = nibble(x[j]) | (nibble(x[j + 16]) << 4);
  });
}

function quantizeBlocks(
  values: Float32Array,
  type: 'Q4_0' | 'Q8_0',
  encodeBlock: (x: Float32Array, block: Uint8Array) => void,
): Uint8Array {
  const { blockSize, blockBytes } = ggmlTypes[type];
  if (values.length % blockSize !== 0) {
    throw new EinRuntimeError(`${type} needs a multiple of ${blockSize} values, got ${values.length}`);
  }
  const blocks = values.length / blockSize;
  const out = new Uint8Array(blocks * blockBytes);
  for (let b = 0; b < blocks; b++) {
    encodeBlock(
      values.subarray(b * blockSize, (b + 1) * blockSize),
      out.subarray(b * blockBytes, (b + 1) * blockBytes),
    );
  }
  return out;
}

function writeScale(block: Uint8Array, scale: number): void {
  const bits = f32ToF16(scale);
  block[0] = bits & 0xff;
  block[1] = bits >> 8;
}

function roundHalfAway(value: number): number {
  return Math.sign(value) * Math.round(Math.abs(value));
}
