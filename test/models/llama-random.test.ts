// examples/llama.ein on random checkpoints of several layouts, against the independent TypeScript
// forward in test/runtime/reference-llama.ts; and llama.ein's rope kernel against Math.cos/sin.
import { describe, expect, it } from 'vitest';
import { interpret } from '../../src/ir/interpreter.js';
import { LlamaModel } from '../../src/runtime/llama-runner.js';
import { EinRuntimeError } from '../../src/runtime/errors.js';
import { loadModelProgram } from '../../src/runtime/model-program.js';
import { loadReferenceWeights, ReferenceLlama } from '../runtime/reference-llama.js';
import { openRandomLlama, type RandomLlamaShape } from './random-llama.js';

function maxRelativeError(actual: Float32Array, expected: Float32Array): number {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  for (let i = 0; i < expected.length; i++)
    worst = Math.max(worst, Math.abs(actual[i]! - expected[i]!) / Math.max(1, Math.abs(expected[i]!)));
  return worst;
}

const shapes: [string, RandomLlamaShape][] = [
  [
    'multi-head, separate classifier',
    {
      dim: 16,
      hiddenDim: 24,
      nLayers: 2,
      nHeads: 4,
      nKvHeads: 4,
      vocabSize: 11,
      seqLen: 9,
      sharedClassifier: false,
    },
  ],
  [
    'grouped-query (3 query heads per key/value head), shared classifier',
    {
      dim: 24,
      hiddenDim: 20,
      nLayers: 3,
      nHeads: 6,
      nKvHeads: 2,
      vocabSize: 7,
      seqLen: 12,
      sharedClassifier: true,
    },
  ],
  [
    'one head of size 2, one layer',
    {
      dim: 2,
      hiddenDim: 3,
      nLayers: 1,
      nHeads: 1,
      nKvHeads: 1,
      vocabSize: 3,
      seqLen: 5,
      sharedClassifier: true,
    },
  ],
];

describe('llama.ein on random weights equals the reference Llama', () => {
  it.each(shapes)('%s: logits at every position', async (_, shape) => {
    const checkpoint = await openRandomLlama(shape);
    const model = await LlamaModel.load(checkpoint);
    const reference = new ReferenceLlama(checkpoint.config, await loadReferenceWeights(checkpoint));
    for (let pos = 0; pos < shape.seqLen; pos++) {
      const token = (pos * 5 + 2) % shape.vocabSize;
      const logits = await model.forward(token, pos);
      expect(maxRelativeError(logits, reference.forward(token, pos))).toBeLessThan(1e-5);
    }
  });

  it('rejects a token outside the vocabulary, a position beyond the sequence, and a skipped position', async () => {
    const [, shape] = shapes[1]!;
    const model = await LlamaModel.load(await openRandomLlama(shape));
    await expect(model.forward(shape.vocabSize, 0)).rejects.toThrow(/token 7 is outside the vocabulary/);
    await expect(model.forward(0, shape.seqLen)).rejects.toThrow(/position 12 is outside/);
    await expect(model.forward(0, 2)).rejects.toThrow(EinRuntimeError);
  });

  it('predicts its peak memory before loading, at or above what it holds', async () => {
    const [, shape] = shapes[0]!;
    const checkpoint = await openRandomLlama(shape);
    const model = await LlamaModel.load(checkpoint);
    await model.forward(1, 0);
    const predicted = model.memoryPrediction;
    expect(predicted).toEqual(LlamaModel.predictMemory(checkpoint.config));
    expect(predicted.largestKernel).toBe('llama_layer');
    // Held by the runtime: weights, caches, scalars, the largest output set. The prediction adds the
    // intermediates of the largest call, which the runtime never sees.
    expect(model.memory.heldBytes).toBeLessThanOrEqual(predicted.totalBytes);
    expect(model.memory.heldBytes).toBeGreaterThan(predicted.persistentBytes);
    await expect(LlamaModel.load(checkpoint, { maxMemoryBytes: predicted.totalBytes - 1 })).rejects.toThrow(
      new RegExp(`needs .* \\(${predicted.totalBytes} bytes\\) at its peak`),
    );
  });
});

describe("llama.ein's rope kernel", () => {
  const program = loadModelProgram('llama');
  // run.c: freq = 1 / 10000^(2j / head_size) and val = pos * freq, both floats.
  const runC = (pos: number, j: number, pairs: number) => {
    const angle = Math.fround(pos * Math.fround(10000 ** (-j / pairs)));
    return { cos: Math.cos(angle), sin: Math.sin(angle) };
  };

  it.each([1, 4, 32, 64])('matches cos and sin of run.c angles with %i pairs per head', (pairs) => {
    for (const pos of [0, 1, 2, 7, 100, 511, 4095, 32767, 1_000_003]) {
      const out = interpret(
        program,
        'rope',
        { pos: { dtype: 'i32', shape: [], data: Int32Array.of(pos) } },
        {
          ranks: { J: pairs },
        },
      );
      for (let j = 0; j < pairs; j++) {
        const expected = runC(pos, j, pairs);
        expect(Math.abs(out['COS']!.data[j]! - expected.cos)).toBeLessThan(2e-6);
        expect(Math.abs(out['SIN']!.data[j]! - expected.sin)).toBeLessThan(2e-6);
      }
    }
  });
});
