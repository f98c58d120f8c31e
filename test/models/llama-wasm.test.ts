// stories260K on the persistent WebAssembly model (src/runtime/wasm-model-llama.ts): one module for
// all four kernels, weights and KV cache resident in its arena, attention loops stopped at pos + 1
// (src/passes/dynamic-bounds.ts). The greedy text must be byte-identical to the golden transcript.
import { describe, expect, it } from 'vitest';
import type { Stmt } from '../../src/ir/loops.js';
import { loadModelProgram } from '../../src/runtime/model-program.js';
import { WasmLlamaModel } from '../../src/runtime/wasm-model-llama.js';
import { compileKernel } from '../../src/passes/pipeline.js';
import { loadStories, readGoldenText, storiesModelPresent } from '../runtime/model-files.js';
import { greedyText } from './greedy.js';

const haveStoriesModel = storiesModelPresent();

const loadWasm = (threads: number) =>
  loadStories((checkpoint) => WasmLlamaModel.load(checkpoint, { threads }));

describe.skipIf(!haveStoriesModel)('stories260K on the persistent WASM model', () => {
  it.each([1, 2])(
    'greedy text is byte-identical to the golden transcript (%i threads)',
    async (threads) => {
      const golden = await readGoldenText();
      const model = await loadWasm(threads);
      try {
        const text = await greedyText(model.config, 'Once upon a time', 256, (t, p) => model.forward(t, p));
        expect(text).toBe(golden);
        // The planned arena and the real WebAssembly memory agree within 5% (page rounding, GEMM scratch).
        const memory = model.memoryReport();
        expect(Math.abs(memory.measuredBytes - memory.predictedBytes) / memory.predictedBytes).toBeLessThan(
          0.05,
        );
      } finally {
        await model.close();
      }
    },
    60_000,
  );

  it('rejects positions that skip ahead', async () => {
    const model = await loadWasm(1);
    try {
      expect(() => model.forward(1, 3)).toThrow(/skips ahead/);
    } finally {
      await model.close();
    }
  }, 30_000);
});

describe('dynamic bounds on llama_layer', () => {
  it('stops every attention loop over cache positions at pos + 1', () => {
    const ranks = { D: 64, H: 172, L: 5, S: 512, V: 512, G: 4, R: 2, J: 4 };
    const state = compileKernel(loadModelProgram('llama'), { kernel: 'llama_layer', ranks, target: 'wasm' });
    const bounded: string[] = [];
    const walk = (stmts: readonly Stmt[]) => {
      for (const s of stmts) {
        if (s.k === 'for' && s.bound) bounded.push(s.var);
        if (s.k === 'for' || s.k === 'if') walk(s.body);
      }
    };
    for (const k of state.loops!.kernels) walk(k.body);
    // Scores, their max, the exponentials, their sum, and the weighted values: five loops.
    expect(bounded.length).toBe(5);
  });
});
