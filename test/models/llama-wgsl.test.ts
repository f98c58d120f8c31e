// stories260K on the persistent WebGPU model (src/runtime/wgsl-model-llama.ts): one resident WGSL
// program for all four kernels, weights and KV cache in GPU buffers, `tok` / `pos` / `layer` in a
// uniform, attention loops stopped at pos + 1. On the CPU adapter (lavapipe in CI) the greedy text
// must be byte-identical to llama2.c's golden transcript, and for a second prompt to the WASM model's.
// Skips only outside CI when there is no adapter (gpuForTests says why).
import { afterAll, describe, expect, it } from 'vitest';
import { acquireGpu, type EinGpu } from '../../src/backends/wgsl/device.js';
import { buildWgslProgram } from '../../src/backends/wgsl/program.js';
import { compileKernel } from '../../src/passes/pipeline.js';
import { loadModelProgram } from '../../src/runtime/model-program.js';
import { WasmLlamaModel } from '../../src/runtime/wasm-model-llama.js';
import { WgslLlamaModel } from '../../src/runtime/wgsl-model-llama.js';
import { gpuForTests } from '../wgsl/gpu-for-tests.js';
import { loadStories, readGoldenText, storiesModelPresent } from '../runtime/model-files.js';
import { greedyText } from './greedy.js';

const haveStoriesModel = storiesModelPresent();
const { gpu, title } = await gpuForTests('stories260K on the persistent WGSL model');
afterAll(() => gpu?.destroy());

const loadWgsl = (device: EinGpu) =>
  loadStories((checkpoint) => WgslLlamaModel.load(checkpoint, { gpu: device }));

describe.skipIf(!gpu || !haveStoriesModel)(title, () => {
  it('greedy text is byte-identical to the golden transcript', async () => {
    const golden = await readGoldenText();
    const model = await loadWgsl(gpu!);
    try {
      const text = await greedyText(model.config, 'Once upon a time', 256, (t, p) => model.forward(t, p));
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
    const wasm = await loadStories((checkpoint) => WasmLlamaModel.load(checkpoint, { threads: 1 }));
    try {
      const onGpu = await greedyText(model.config, prompt, 256, (t, p) => model.forward(t, p));
      const onWasm = await greedyText(model.config, prompt, 256, (t, p) => wasm.forward(t, p));
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
    const golden = await readGoldenText();
    const model = await loadWgsl(acquired.gpu);
    try {
      const packed = model.model.resident.program.layout.units.filter((u) => u.members.length > 1);
      expect(packed.length).toBeGreaterThan(0);
      const text = await greedyText(model.config, 'Once upon a time', 48, (t, p) => model.forward(t, p));
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
