import { describe, expect, it } from 'vitest';
import { memoryByteSource } from '../../src/runtime/byte-source.js';
import { EinRuntimeError } from '../../src/runtime/errors.js';
import { GgufFile } from '../../src/runtime/gguf.js';
import { dequantize, quantizeQ4_0, quantizeQ8_0 } from '../../src/runtime/gguf-quant.js';
import type { GgufValue } from '../../src/runtime/gguf-types.js';
import { serializeGguf, type GgufWriteTensor } from '../../src/runtime/gguf-writer.js';
import { f32ToBf16, f32ToF16 } from '../../src/runtime/half-float.js';
import { recordingSource } from './fixtures.js';

const open = (bytes: Uint8Array) => GgufFile.open(memoryByteSource(bytes, 'model.gguf'));

const ramp = (n: number, scale = 1) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37) * scale);

const metadata: Record<string, GgufValue> = {
  'general.architecture': { type: 'string', value: 'llama' },
  'general.name': { type: 'string', value: 'tiny ✓' },
  'llama.block_count': { type: 'u32', value: 2 },
  'llama.rope.freq_base': { type: 'f32', value: 10000 },
  'test.u8': { type: 'u8', value: 255 },
  'test.i8': { type: 'i8', value: -128 },
  'test.u16': { type: 'u16', value: 65535 },
  'test.i16': { type: 'i16', value: -32768 },
  'test.i32': { type: 'i32', value: -5 },
  'test.u64': { type: 'u64', value: 2n ** 63n + 7n },
  'test.i64': { type: 'i64', value: -(2n ** 40n) },
  'test.f64': { type: 'f64', value: Math.PI },
  'test.bool': { type: 'bool', value: true },
  'tokenizer.ggml.tokens': { type: 'array', elementType: 'string', value: ['<unk>', '<s>', 'héllo'] },
  'tokenizer.ggml.scores': { type: 'array', elementType: 'f32', value: [0, -1.5, 2.25] },
  'test.nested': {
    type: 'array',
    elementType: 'array',
    value: [
      { type: 'array', elementType: 'i32', value: [1, 2] },
      { type: 'array', elementType: 'bool', value: [false] },
    ],
  },
};

const q8Values = ramp(64, 3);
const q4Values = ramp(32, 0.5);
const tensors: GgufWriteTensor[] = [
  { name: 'token_embd.weight', type: 'F32', shape: [3, 5], data: ramp(15) },
  { name: 'norm.weight', type: 'F16', shape: [5], data: Uint16Array.from([1, 2, 0.5, -1, 0], f32ToF16) },
  { name: 'blk.0.attn_q.weight', type: 'Q8_0', shape: [2, 32], data: () => quantizeQ8_0(q8Values) },
  { name: 'blk.0.ffn_up.weight', type: 'Q4_0', shape: [1, 32], data: quantizeQ4_0(q4Values) },
  { name: 'output.weight', type: 'BF16', shape: [2], data: Uint16Array.from([1.5, -2], f32ToBf16) },
];

describe('GGUF', () => {
  it('round-trips metadata of every value type and F32, F16, Q8_0, Q4_0 tensors', async () => {
    for (const version of [2, 3] as const) {
      const file = await open(await serializeGguf({ version, metadata, tensors }));
      expect(file.version).toBe(version);
      expect(Object.fromEntries(file.metadata)).toEqual(metadata);
      expect(file.metadataNumber('llama.block_count')).toBe(2);
      expect(file.metadataString('general.architecture')).toBe('llama');
      expect(file.alignment).toBe(32);
      expect(file.dataOffset % 32).toBe(0);
      expect(file.tensors.map((t) => [t.name, t.type, t.shape, t.dims])).toEqual([
        ['token_embd.weight', 'F32', [3, 5], [5, 3]],
        ['norm.weight', 'F16', [5], [5]],
        ['blk.0.attn_q.weight', 'Q8_0', [2, 32], [32, 2]],
        ['blk.0.ffn_up.weight', 'Q4_0', [1, 32], [32, 1]],
        ['output.weight', 'BF16', [2], [2]],
      ]);
      expect(dequantize(await file.readTensor('output.weight'))).toEqual(Float32Array.of(1.5, -2));
      expect((await file.readTensor('token_embd.weight')).data).toEqual(ramp(15));
      expect(dequantize(await file.readTensor('norm.weight'))).toEqual(Float32Array.of(1, 2, 0.5, -1, 0));
      const q8 = await file.readTensor('blk.0.attn_q.weight', { expectedShape: [2, 32] });
      expect(q8.type).toBe('Q8_0');
      expect(q8.data).toBeInstanceOf(Uint8Array); // raw blocks, for the kernel to decode
      expect(q8.data.length).toBe(2 * 34);
      const q8Back = dequantize(q8);
      q8Values.forEach((v, i) => expect(Math.abs(q8Back[i] - v)).toBeLessThan(3 / 127));
      const q4Back = dequantize(await file.readTensor('blk.0.ffn_up.weight'));
      q4Values.forEach((v, i) => expect(Math.abs(q4Back[i] - v)).toBeLessThan(0.5 / 8 + 1e-6));
    }
  });

  it('dequantizes hand-made Q8_0 and Q4_0 blocks exactly', () => {
    const q8 = new Uint8Array(34);
    q8.set([0x00, 0x38]); // f16 0.5
    q8.set([2, 0xfe, 127, 0x80], 2); // 2, -2, 127, -128
    expect(Array.from(dequantize({ type: 'Q8_0', data: q8 }).subarray(0, 5))).toEqual([1, -1, 63.5, -64, 0]);
    const q4 = new Uint8Array(18);
    q4.set([0x00, 0x40]); // f16 2
    q4[2] = 0xf0; // low nibble 0 → element 0 = -8·2; high nibble 15 → element 16 = 7·2
    const values = dequantize({ type: 'Q4_0', data: q4 });
    expect([values[0], values[16], values[1]]).toEqual([-16, 14, -16]);
  });

  it('honours general.alignment and reads one tensor per request', async () => {
    const aligned = { ...metadata, 'general.alignment': { type: 'u32', value: 64 } as GgufValue };
    const source = recordingSource(await serializeGguf({ metadata: aligned, tensors }), 'model.gguf');
    const file = await GgufFile.open(source);
    expect(file.alignment).toBe(64);
    expect(file.tensors.every((t) => (t.byteOffset - file.dataOffset) % 64 === 0)).toBe(true);
    const readsBefore = source.reads.length;
    const tensor = await file.readTensor('blk.0.attn_q.weight');
    expect(source.reads.slice(readsBefore)).toEqual([[tensor.byteOffset, 68]]);
  });

  it('rejects wrong magic, unsupported versions and truncated headers', async () => {
    const bytes = await serializeGguf({ metadata, tensors });
    const patched = (offset: number, value: number) => {
      const copy = bytes.slice();
      new DataView(copy.buffer).setUint32(offset, value, true);
      return copy;
    };
    await expect(open(new TextEncoder().encode('GGML0000000000000000000000'))).rejects.toThrow(
      'model.gguf: not a GGUF file: starts with 0x4c4d4747, expected "GGUF"',
    );
    await expect(open(patched(4, 1))).rejects.toThrow(/GGUF version 1 is not supported/);
    await expect(open(patched(4, 0x03000000))).rejects.toThrow(/a big-endian file\?/);
    await expect(open(bytes.subarray(0, 100))).rejects.toThrow(
      /model.gguf: truncated while reading .*needs \d+ bytes at offset \d+, only \d+ remain/,
    );
    await expect(open(bytes.subarray(0, 3))).rejects.toThrow(EinRuntimeError);
  });

  it('rejects truncated tensor data, naming the tensor', async () => {
    const bytes = await serializeGguf({ metadata, tensors });
    await expect(open(bytes.subarray(0, bytes.length - 50))).rejects.toThrow(
      /model.gguf: truncated: tensor 'blk.0.ffn_up.weight' Q4_0 \[1, 32\] needs bytes \d+\.\.\d+, file has \d+/,
    );
  });

  it('rejects unknown tensor types, bad block shapes, misaligned offsets and shape mismatches', async () => {
    const one: GgufWriteTensor[] = [{ name: 'w', type: 'F32', shape: [2, 32], data: ramp(64) }];
    const bytes = await serializeGguf({ tensors: one });
    // Header: magic, version, counts (24 bytes), then name (8 + 1), n_dims (4), dims (16), type, offset.
    const typeAt = 24 + 9 + 4 + 16;
    const patch = (offset: number, value: number) => {
      const copy = bytes.slice();
      new DataView(copy.buffer).setUint32(offset, value, true);
      return copy;
    };
    await expect(open(patch(typeAt, 12))).rejects.toThrow(
      "model.gguf: tensor 'w' has ggml type 12 (Q4_K), which Ein does not read (F32, F16, Q4_0, Q8_0, BF16)",
    );
    await expect(open(patch(typeAt, 99))).rejects.toThrow(/ggml type 99, which Ein does not read/);
    await expect(open(patch(24 + 9 + 4, 64))).rejects.toThrow(
      /truncated: tensor 'w' F32 \[2, 64\] needs bytes/,
    );
    const q8 = patch(typeAt, 8);
    new DataView(q8.buffer).setBigUint64(24 + 9 + 4, 33n, true);
    await expect(open(q8)).rejects.toThrow(
      /type Q8_0 has innermost dimension 33, not a multiple of its block size 32/,
    );
    await expect(open(patch(typeAt + 4, 4))).rejects.toThrow(
      /data offset 4 is not a multiple of the alignment 32/,
    );
    const file = await open(bytes);
    await expect(file.readTensor('w', { expectedShape: [32, 2] })).rejects.toThrow(
      "model.gguf: tensor 'w' has shape [2, 32], expected [32, 2]",
    );
    await expect(
      serializeGguf({ tensors: [{ name: 'q', type: 'Q8_0', shape: [4, 30], data: new Uint8Array(0) }] }),
    ).rejects.toThrow(/last dimension to be a multiple of 32/);
  });
});
