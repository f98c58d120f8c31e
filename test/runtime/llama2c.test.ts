import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { memoryByteSource } from '../../src/runtime/byte-source.js';
import { EinRuntimeError } from '../../src/runtime/errors.js';
import { Llama2cCheckpoint } from '../../src/runtime/llama2c.js';
import { openFileSource } from '../../src/runtime/node-file-io.js';
import { buildCheckpoint, recordingSource, tinyConfig, tinyLayout } from './fixtures.js';
import { haveStoriesModel, storiesCheckpointPath } from './model-files.js';

const open = (bytes: Uint8Array, name = 'tiny.bin') => Llama2cCheckpoint.open(memoryByteSource(bytes, name));

describe('llama2.c checkpoint loader', () => {
  it('streams every tensor with its shape and values, skipping the RoPE tables', async () => {
    const checkpoint = await open(buildCheckpoint(tinyConfig));
    expect(checkpoint.config).toMatchObject({
      dim: 8,
      headSize: 4,
      kvDim: 4,
      vocabSize: 6,
      sharedClassifier: true,
    });
    const seen: [string, readonly number[], number][] = [];
    for await (const tensor of checkpoint.streamTensors()) {
      const arrayIndex = tinyLayout(tinyConfig).findIndex(([name]) => name === tensor.name);
      expect(tensor.data[0]).toBe(arrayIndex * 1000);
      expect(tensor.data[tensor.data.length - 1]).toBe(arrayIndex * 1000 + tensor.data.length - 1);
      seen.push([tensor.name, tensor.shape, tensor.data.length]);
    }
    expect(seen).toEqual([
      ['token_embedding_table', [6, 8], 48],
      ['rms_att_weight', [2, 8], 16],
      ['wq', [2, 8, 8], 128],
      ['wk', [2, 4, 8], 64],
      ['wv', [2, 4, 8], 64],
      ['wo', [2, 8, 8], 128],
      ['rms_ffn_weight', [2, 8], 16],
      ['w1', [2, 12, 8], 192],
      ['w2', [2, 8, 12], 192],
      ['w3', [2, 12, 8], 192],
      ['rms_final_weight', [8], 8],
    ]);
    await expect(checkpoint.readTensor('wcls')).rejects.toThrow(
      /no tensor 'wcls' \(the classifier is shared/,
    );
  });

  it('reads an unshared classifier after the RoPE tables, and single layers', async () => {
    const checkpoint = await open(buildCheckpoint({ ...tinyConfig, sharedClassifier: false }));
    const wcls = await checkpoint.readTensor('wcls');
    expect(wcls.shape).toEqual([6, 8]);
    expect(wcls.data[0]).toBe(12 * 1000); // the 13th array: after the RoPE tables
    const layer1 = await checkpoint.readTensor('w2', { layer: 1 });
    expect(layer1.shape).toEqual([8, 12]);
    expect(layer1.data[0]).toBe(8 * 1000 + 96);
    await expect(checkpoint.readTensor('w2', { layer: 2 })).rejects.toThrow(
      /layer 2 is out of range \(0\.\.1\)/,
    );
    await expect(checkpoint.readTensor('rms_final_weight', { layer: 0 })).rejects.toThrow(
      /not a per-layer tensor/,
    );
  });

  it('reads lazily, one tensor at a time, never more than the largest tensor at once', async () => {
    const source = recordingSource(buildCheckpoint(tinyConfig), 'tiny.bin');
    const checkpoint = await Llama2cCheckpoint.open(source);
    expect(source.reads).toEqual([[0, 28]]); // only the header so far
    const largestBytes = Math.max(...checkpoint.tensors.map((tensor) => tensor.byteLength));
    let tensorsSeen = 0;
    for await (const tensor of checkpoint.streamTensors()) {
      tensorsSeen++;
      // Exactly one read per tensor handed out so far: nothing is read ahead.
      expect(source.reads.length).toBe(1 + tensorsSeen);
      expect(source.reads.at(-1)).toEqual([checkpoint.info(tensor.name).byteOffset, tensor.data.byteLength]);
    }
    expect(Math.max(...source.reads.map(([, length]) => length))).toBe(largestBytes);
  });

  it('rejects truncated files, naming the tensor and the bytes expected and found', async () => {
    const bytes = buildCheckpoint(tinyConfig);
    const w1Offset = 28 + 4 * (48 + 16 + 128 + 64 + 64 + 128 + 16);
    const error = await open(bytes.subarray(0, w1Offset + 100)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EinRuntimeError);
    expect((error as Error).message).toBe(
      `tiny.bin: truncated: file is ${w1Offset + 100} bytes but its header (dim 8, hidden_dim 12, n_layers 2, ` +
        `vocab_size 6, seq_len 4) implies ${bytes.length}; 'w1' [2, 12, 8] needs 768 bytes at offset ${w1Offset}, found 100`,
    );
    await expect(open(bytes.subarray(0, bytes.length - 4))).rejects.toThrow(
      /'legacy RoPE tables' \[2, 4, 2\] needs 64 bytes/,
    );
    await expect(open(bytes.subarray(0, 10))).rejects.toThrow(
      /tiny.bin: not a llama2.c checkpoint: 10 bytes/,
    );
  });

  it('rejects trailing bytes and impossible headers (wrong shapes)', async () => {
    const bytes = buildCheckpoint(tinyConfig);
    const padded = new Uint8Array(bytes.length + 8);
    padded.set(bytes);
    await expect(open(padded)).rejects.toThrow(/8 unexpected trailing bytes/);
    const withHeader = (index: number, value: number) => {
      const copy = bytes.slice();
      new DataView(copy.buffer).setInt32(index * 4, value, true);
      return copy;
    };
    await expect(open(withHeader(3, 3))).rejects.toThrow(/dim must be a multiple of n_heads/);
    await expect(open(withHeader(4, 0))).rejects.toThrow(/n_kv_heads must be positive/);
    await expect(open(withHeader(3, 8))).rejects.toThrow(/head size dim \/ n_heads must be even/);
    // A header that describes a different model: the size check catches it and names a tensor.
    await expect(open(withHeader(1, 16))).rejects.toThrow(
      /implies 5052; 'w3' \[2, 16, 8\] needs 1024 bytes at offset 3932, found 352/,
    );
  });

  it('opens files on disk through the Node file source, with clear errors for missing files', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ein-llama2c-'));
    try {
      const path = join(dir, 'tiny.bin');
      await writeFile(path, buildCheckpoint(tinyConfig));
      const checkpoint = await Llama2cCheckpoint.open(await openFileSource(path));
      expect((await checkpoint.readTensor('wo', { layer: 1 })).data[0]).toBe(5 * 1000 + 64);
      await checkpoint.close();
      await expect(openFileSource(join(dir, 'missing.bin'))).rejects.toThrow(
        /missing.bin: cannot open for reading \(ENOENT\)/,
      );
    } finally {
      await rm(dir, { recursive: true });
    }
  });

  it.skipIf(!haveStoriesModel)('reads the stories260K header', async () => {
    const checkpoint = await Llama2cCheckpoint.open(await openFileSource(storiesCheckpointPath));
    expect(checkpoint.config).toEqual({
      dim: 64,
      hiddenDim: 172,
      nLayers: 5,
      nHeads: 8,
      nKvHeads: 4,
      vocabSize: 512,
      seqLen: 512,
      sharedClassifier: true,
      headSize: 8,
      kvDim: 32,
    });
    await checkpoint.close();
  });
});
