// GPT-2 on the persistent WASM model (src/runtime/wasm-model-gpt2.ts): a prompt's prefill through the
// batched kernels and decode steps through the KV cache, against the independent float64 forward in
// reference-gpt2.ts, on a small random checkpoint.
import { describe, expect, it } from 'vitest';
import { WasmGpt2Model } from '../../src/runtime/wasm-model-gpt2.js';
import { argmax, expectClose, openAsSafetensors, randomGpt2Weights } from './random-gpt2.js';
import { referenceGpt2, type Gpt2Shape } from './reference-gpt2.js';

// Sizes where every weight product is large enough for the GEMM / GEMV path (m·n·k ≥ 64).
const shape: Gpt2Shape = { dim: 16, nHeads: 2, nLayers: 2, hiddenDim: 64, vocabSize: 23, maxPositions: 12 };

describe('GPT-2 on the persistent WASM model equals an independent GPT-2', () => {
  it.each([1, 2])(
    'prefill, then decode steps through the cache (%i threads)',
    async (threads) => {
      const weights = randomGpt2Weights(shape, 3);
      const plain = new Map([...weights].map(([name, t]) => [name, t.data]));
      const file = await openAsSafetensors(weights, 'transformer.');
      const model = await WasmGpt2Model.fromSafetensors(file, {
        nHeads: shape.nHeads,
        threads,
        promptTokens: 6,
      });
      try {
        // A prompt as long as the prefill kernels take, then a shorter one (padded) that restarts.
        for (const prompt of [
          [4, 19, 0, 7, 22, 3],
          [9, 1, 15],
        ]) {
          const tokens = [...prompt];
          const reference = referenceGpt2(plain, shape, tokens);
          expectClose(model.prefill(tokens), reference[tokens.length - 1]!, `prefill of ${tokens.length}`);
          tokens.push(argmax(reference[tokens.length - 1]!));
          for (let pos = prompt.length; pos < prompt.length + 3; pos++) {
            const expected = referenceGpt2(plain, shape, tokens)[pos]!;
            expectClose(model.forward(tokens[pos]!, pos), expected, `decode at ${pos}`);
            tokens.push(argmax(expected));
          }
        }
        const memory = model.memoryReport();
        expect(memory.measuredBytes).toBeGreaterThanOrEqual(memory.predictedBytes);
      } finally {
        await model.close();
      }
    },
    60_000,
  );

  it('rejects prompts too long, tokens outside the vocabulary and positions that skip ahead', async () => {
    const file = await openAsSafetensors(randomGpt2Weights(shape, 4));
    const model = await WasmGpt2Model.fromSafetensors(file, {
      nHeads: shape.nHeads,
      threads: 1,
      promptTokens: 4,
    });
    try {
      expect(() => model.prefill([1, 2, 3, 4, 5])).toThrow(/a prompt has 1 to 4 tokens, not 5/);
      expect(() => model.prefill([1, 23])).toThrow(/token 23 is outside the vocabulary/);
      model.prefill([1, 2]);
      expect(() => model.forward(1, 3)).toThrow(/skips ahead/);
    } finally {
      await model.close();
    }
  }, 60_000);
});
