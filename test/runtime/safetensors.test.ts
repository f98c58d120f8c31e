import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { memoryByteSource } from '../../src/runtime/byte-source.js';
import { f32ToBf16, f32ToF16 } from '../../src/runtime/half-float.js';
import { createFileSink, openFileSource } from '../../src/runtime/node-file-io.js';
import { SafetensorsFile, toFloat32 } from '../../src/runtime/safetensors.js';
import { serializeSafetensors, writeSafetensors } from '../../src/runtime/safetensors-writer.js';
import { recordingSource } from './fixtures.js';

const open = (bytes: Uint8Array) => SafetensorsFile.open(memoryByteSource(bytes, 'model.safetensors'));

/** A file from a raw JSON header and data section, for corruption tests. */
function rawFile(header: unknown, dataBytes: number): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const bytes = new Uint8Array(8 + json.length + dataBytes);
  new DataView(bytes.buffer).setBigUint64(0, BigInt(json.length), true);
  bytes.set(json, 8);
  return bytes;
}

const weights = Float32Array.from({ length: 6 }, (_, i) => i - 2.5);
const halves = Uint16Array.from([0.5, -1, 2, 65504], f32ToF16);
const brains = Uint16Array.from([1.5, -3, 2 ** 100], f32ToBf16);

describe('safetensors', () => {
  it('round-trips F32, F16 and BF16 tensors and metadata', async () => {
    const bytes = await serializeSafetensors(
      [
        { name: 'w', dtype: 'F32', shape: [2, 3], data: weights },
        { name: 'h', dtype: 'F16', shape: [4], data: () => halves },
        { name: 'b', dtype: 'BF16', shape: [3, 1], data: brains },
        { name: 'empty', dtype: 'F32', shape: [0, 5], data: new Float32Array(0) },
      ],
      { format: 'pt' },
    );
    expect((8 + Number(new DataView(bytes.buffer).getBigUint64(0, true))) % 8).toBe(0);
    const file = await open(bytes);
    expect(file.metadata).toEqual({ format: 'pt' });
    expect(file.tensors.map((t) => [t.name, t.dtype, t.shape])).toEqual([
      ['w', 'F32', [2, 3]],
      ['h', 'F16', [4]],
      ['b', 'BF16', [3, 1]],
      ['empty', 'F32', [0, 5]],
    ]);
    expect((await file.readTensor('w', { expectedShape: [2, 3] })).data).toEqual(weights);
    expect(toFloat32(await file.readTensor('h'))).toEqual(Float32Array.of(0.5, -1, 2, 65504));
    expect(toFloat32(await file.readTensor('b'))).toEqual(Float32Array.of(1.5, -3, 2 ** 100));
    await expect(file.readTensor('w', { expectedShape: [3, 2] })).rejects.toThrow(
      "model.safetensors: tensor 'w' has shape [2, 3], expected [3, 2]",
    );
    await expect(file.readTensor('nope')).rejects.toThrow("model.safetensors: has no tensor 'nope'");
  });

  it('streams tensors from disk one read at a time', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ein-safetensors-'));
    try {
      const path = join(dir, 'model.safetensors');
      const sink = await createFileSink(path);
      await writeSafetensors(sink, [
        { name: 'a', dtype: 'F32', shape: [6], data: weights },
        { name: 'b', dtype: 'F16', shape: [2, 2], data: halves },
      ]);
      await sink.close();
      const file = await SafetensorsFile.open(await openFileSource(path));
      const names: string[] = [];
      for await (const tensor of file.streamTensors()) names.push(tensor.name);
      expect(names).toEqual(['a', 'b']);
      await file.close();

      const source = recordingSource(
        await serializeSafetensors([{ name: 'a', dtype: 'F32', shape: [6], data: weights }]),
        'x',
      );
      const inMemory = await SafetensorsFile.open(source);
      const readsBefore = source.reads.length;
      await inMemory.readTensor('a');
      expect(source.reads.slice(readsBefore)).toEqual([[inMemory.info('a').byteOffset, 24]]);
    } finally {
      await rm(dir, { recursive: true });
    }
  });

  it('rejects bad header lengths and headers that are not JSON objects', async () => {
    await expect(open(new Uint8Array(4))).rejects.toThrow(/too short for the 8-byte header length/);
    const huge = new Uint8Array(16);
    new DataView(huge.buffer).setBigUint64(0, 1000n, true);
    await expect(open(huge)).rejects.toThrow(/header length 1000 exceeds the 8 bytes after it/);
    const notJson = new Uint8Array(12);
    notJson.set(new TextEncoder().encode('{{{{'), 8);
    new DataView(notJson.buffer).setBigUint64(0, 4n, true);
    await expect(open(notJson)).rejects.toThrow(/header is not valid UTF-8 JSON/);
    await expect(open(rawFile([1, 2], 0))).rejects.toThrow(/the JSON header is not an object/);
  });

  it('rejects unknown dtypes, shape/size mismatches, overlaps, holes and truncation', async () => {
    const entry = (dtype: string, shape: number[], offsets: number[]) => ({
      dtype,
      shape,
      data_offsets: offsets,
    });
    await expect(open(rawFile({ x: entry('F42', [1], [0, 4]) }, 4))).rejects.toThrow(
      /tensor 'x' has unknown dtype 'F42'/,
    );
    await expect(open(rawFile({ x: entry('I64', [1], [0, 8]) }, 8))).rejects.toThrow(
      /unsupported dtype 'I64'/,
    );
    await expect(open(rawFile({ x: entry('F32', [2, 3], [0, 20]) }, 20))).rejects.toThrow(
      "model.safetensors: not a valid safetensors file: tensor 'x' of shape [2, 3] and dtype F32 needs 24 bytes, but its data_offsets [0, 20] span 20",
    );
    await expect(
      open(rawFile({ x: entry('F32', [2], [0, 8]), y: entry('F32', [2], [4, 12]) }, 12)),
    ).rejects.toThrow(/tensor 'y' data_offsets \[4, 12\] overlap tensor 'x'/);
    await expect(open(rawFile({ x: entry('F32', [1], [4, 8]) }, 8))).rejects.toThrow(
      /bytes 0\.\.4 of the data section belong to no tensor/,
    );
    await expect(open(rawFile({ x: entry('F32', [4], [0, 16]) }, 12))).rejects.toThrow(
      /run past the 12-byte data section/,
    );
    await expect(open(rawFile({ x: entry('F32', [1], [0, 4]) }, 8))).rejects.toThrow(
      /cover 4 bytes but the data section has 8/,
    );
    await expect(open(rawFile({ x: entry('F32', [-1], [0, 4]) }, 4))).rejects.toThrow(
      /shape \[-1\] is not a list/,
    );
    await expect(open(rawFile({ x: entry('F32', [1], [8, 4]) }, 4))).rejects.toThrow(
      /data_offsets \[8,4\] are not/,
    );
    await expect(open(rawFile({ __metadata__: { n: 1 } }, 0))).rejects.toThrow(
      /__metadata__ must be an object of strings/,
    );
  });

  it('refuses writer input that does not match the declared dtype and shape', async () => {
    await expect(
      serializeSafetensors([{ name: 'x', dtype: 'F16', shape: [6], data: weights }]),
    ).rejects.toThrow(
      "safetensors writer: tensor 'x' (F16, shape [6]) needs a Uint16Array of 6 elements, got a Float32Array of 6",
    );
    await expect(
      serializeSafetensors([
        { name: 'x', dtype: 'F32', shape: [6], data: weights },
        { name: 'x', dtype: 'F32', shape: [6], data: weights },
      ]),
    ).rejects.toThrow(/'x' is reserved or repeated/);
  });
});
