// stories260K on the persistent WebGPU model (src/runtime/wgsl-model-llama.ts): one resident WGSL
// program for all four kernels, weights and KV cache in GPU buffers, `tok` / `pos` / `layer` in a
// uniform, attention loops stopped at pos + 1. On the CPU adapter (lavapipe in CI) the greedy text
// must be byte-identical to llama2.c's golden transcript, and for a second prompt to the WASM model's.
// Skips only outside CI when there is no adapter (gpuForTests says why).
import { readFile } from 'node:fs/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { acquireGpu, type EinGpu } from '../../src/backends/wgsl/device.js';
import { buildWgslProgram } from '../../src/backends/wgsl/program.js';
import { compileKernel } from '../../src/passes/pipeline.js';
import { generate, type ForwardFunction } from '../../src/runtime/generate-text.js';
import { Llama2cCheckpoint } from '../../src/runtime/llama2c.js';
import { loadModelProgram } from '../../src/runtime/model-program.js';
import { openFileSource } from '../../src/runtime/node-file-io.js';
import { Sampler } from '../../src/runtime/sampler.js';
import { Llama2cTokenizer } from '../../src/runtime/tokenizer.js';
import { WasmLlamaModel } from '../../src/runtime/wasm-model-llama.js';
import { WgslLlamaModel } from '../../src/runtime/wgsl-model-llama.js';
import { gpuForTests } from '../wgsl/gpu-for-tests.js';
import {
  goldenTextPath,
  haveStoriesModel,
  missingModelMessage,
  storiesCheckpointPath,
  storiesTokenizerPath,
} from '../runtime/model-files.js';

if (!haveStoriesModel) console.warn(missingModelMessage);
const { gpu, title } = await gpuForTests('stories260K on the persistent WGSL model');
afterAll(() => gpu?.destroy());

async function loadWgsl(device: EinGpu): Promise<WgslLlamaModel> {
  const checkpoint = await Llama2cCheckpoint.open(await openFileSource(storiesCheckpointPath));
  try {
    return await WgslLlamaModel.load(checkpoint, { gpu: device });
  } finally {
    await checkpoint.close();
  }
}

async function greedyText(
  vocabSize: number,
  seqLen: number,
  prompt: string,
  steps: number,
  forward: ForwardFunction,
): Promise<string> {
  const source = await openFileSource(storiesTokenizerPath);
  const tokenizer = await Llama2cTokenizer.load(source, vocabSize);
  await source.close();
  const sampler = new Sampler({ vocabSize, temperature: 0, topp: 0.9, seed: 0 });
  return (await generate({ tokenizer, sampler, steps, seqLen, prompt, forward })).text;
}

describe.skipIf(!gpu || !haveStoriesModel)(title, () => {
  it('greedy text is byte-identical to the golden transcript', async () => {
    const golden = await readFile(goldenTextPath, 'utf8');
    const model = await loadWgsl(gpu!);
    try {
      const { vocabSize, seqLen } = model.config;
      const text = await greedyText(vocabSize, seqLen, 'Once upon a time', 256, (t, p) =>
        model.forward(t, p),
      );
      expect(text).toBe(golden);
      // Every planned buffer is allocated once; the rest is the logits' read-back buffer and host copy.
      const memory = model.memoryReport();
      expect(memory.measuredBytes).toBeGreaterThanOrEqual(memory.predictedBytes);
      expect((memory.measuredBytes - memory.predictedBytes) / memory.predictedBytes).toBeLessThan(0.05);
    } finally {
      model.close();
    }
  }, 120_000);

  it('a second prompt gives the WASM model’s greedy text', async () => {
    const prompt = 'The little dog';
    const model = await loadWgsl(gpu!);
    const checkpoint = await Llama2cCheckpoint.open(await openFileSource(storiesCheckpointPath));
    const wasm = await WasmLlamaModel.load(checkpoint, { threads: 1 });
    await checkpoint.close();
    try {
      const { vocabSize, seqLen } = model.config;
      const onGpu = await greedyText(vocabSize, seqLen, prompt, 256, (t, p) => model.forward(t, p));
      const onWasm = await greedyText(vocabSize, seqLen, prompt, 256, (t, p) => wasm.forward(t, p));
      expect(onGpu.length).toBeGreaterThan(prompt.length + 100);
      expect(onGpu).toBe(onWasm);
    } finally {
      model.close();
      await wasm.close();
    }
  }, 120_000);

  it('within the WebGPU default limits (8 storage bindings: buffers packed) the text is the same', async () => {
    const acquired = await acquireGpu({ limits: 'default' });
    if (!acquired.ok) throw new Error(acquired.reason);
    const golden = await readFile(goldenTextPath, 'utf8');
    const model = await loadWgsl(acquired.gpu);
    try {
      const packed = model.model.resident.program.layout.units.filter((u) => u.members.length > 1);
      expect(packed.length).toBeGreaterThan(0);
      const { vocabSize, seqLen } = model.config;
      const text = await greedyText(vocabSize, seqLen, 'Once upon a time', 48, (t, p) => model.forward(t, p));
      expect(text.length).toBeGreaterThan(60);
      expect(golden.startsWith(text)).toBe(true);
    } finally {
      model.close();
      acquired.gpu.destroy();
    }
  }, 60_000);

  it('rejects positions that skip ahead and tokens outside the vocabulary', async () => {
    const model = await loadWgsl(gpu!);
    try {
      await expect(model.forward(1, 3)).rejects.toThrow(/skips ahead/);
      await expect(model.forward(model.config.vocabSize, 0)).rejects.toThrow(/outside the vocabulary/);
    } finally {
      model.close();
    }
  }, 30_000);
});

describe('llama_layer as WGSL', () => {
  it('reads pos and layer from the uniform and stops the attention loops at pos + 1', () => {
    const ranks = { D: 64, H: 172, L: 5, S: 512, V: 512, G: 4, R: 2, J: 4 };
    const state = compileKernel(loadModelProgram('llama'), { kernel: 'llama_layer', ranks, target: 'wgsl' });
    const program = buildWgslProgram(state.loops!);
    expect([...program.layout.scalars.keys()].sort()).toEqual(['layer', 'pos']);
    expect(program.layout.units.some((u) => u.members.some((m) => m.buffer === 'pos'))).toBe(false);
    const sources = program.kernels.map((k) => k.source).join('\n');
    const stopped = sources.match(/; \w+ < min\(\d+, [^;]*ein_scalars\.pos[^;]*\);/g) ?? [];
    // Scores, their max, the exponentials, their sum and the weighted values (dynamic-bounds.ts).
    expect(stopped.length).toBe(5);
  });
});
