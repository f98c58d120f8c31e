// stories260K on the persistent WebAssembly model (src/runtime/wasm-model-llama.ts): one module for
// all four kernels, weights and KV cache resident in its arena, attention loops stopped at pos + 1
// (src/passes/dynamic-bounds.ts). The greedy text must be byte-identical to the golden transcript.
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import type { Stmt } from '../../src/ir/loops.js';
import { generate } from '../../src/runtime/generate-text.js';
import { Llama2cCheckpoint } from '../../src/runtime/llama2c.js';
import { loadModelProgram } from '../../src/runtime/model-program.js';
import { openFileSource } from '../../src/runtime/node-file-io.js';
import { Sampler } from '../../src/runtime/sampler.js';
import { Llama2cTokenizer } from '../../src/runtime/tokenizer.js';
import { WasmLlamaModel } from '../../src/runtime/wasm-model-llama.js';
import { compileKernel } from '../../src/passes/pipeline.js';
import {
  goldenTextPath,
  haveStoriesModel,
  missingModelMessage,
  storiesCheckpointPath,
  storiesTokenizerPath,
} from '../runtime/model-files.js';

if (!haveStoriesModel) console.warn(missingModelMessage);

async function greedyText(threads: number): Promise<{ text: string; model: WasmLlamaModel }> {
  const checkpoint = await Llama2cCheckpoint.open(await openFileSource(storiesCheckpointPath));
  const model = await WasmLlamaModel.load(checkpoint, { threads });
  await checkpoint.close();
  const source = await openFileSource(storiesTokenizerPath);
  const tokenizer = await Llama2cTokenizer.load(source, model.config.vocabSize);
  await source.close();
  const sampler = new Sampler({ vocabSize: model.config.vocabSize, temperature: 0, topp: 0.9, seed: 0 });
  const result = await generate({
    tokenizer,
    sampler,
    steps: 256,
    seqLen: model.config.seqLen,
    prompt: 'Once upon a time',
    forward: (token, pos) => model.forward(token, pos),
  });
  return { text: result.text, model };
}

describe.skipIf(!haveStoriesModel)('stories260K on the persistent WASM model', () => {
  it.each([1, 2])(
    'greedy text is byte-identical to the golden transcript (%i threads)',
    async (threads) => {
      const golden = await readFile(goldenTextPath, 'utf8');
      const { text, model } = await greedyText(threads);
      try {
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
    const checkpoint = await Llama2cCheckpoint.open(await openFileSource(storiesCheckpointPath));
    const model = await WasmLlamaModel.load(checkpoint, { threads: 1 });
    await checkpoint.close();
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
