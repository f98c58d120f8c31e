// examples/gpt2.ein through the GPT-2 runtime on random weights written as a safetensors file with
// GPT-2's tensor names, against the independent whole-sequence forward in reference-gpt2.ts.
import { describe, expect, it } from 'vitest';
import { Gpt2Model } from '../../src/runtime/gpt2-runner.js';
import { argmax, expectClose, openAsSafetensors, randomGpt2Weights } from './random-gpt2.js';
import { referenceGpt2, type Gpt2Shape } from './reference-gpt2.js';

const shape: Gpt2Shape = { dim: 12, nHeads: 3, nLayers: 2, hiddenDim: 48, vocabSize: 17, maxPositions: 10 };

describe('gpt2.ein on random weights equals an independent GPT-2', () => {
  it.each([
    ['GPT2Model names', ''],
    ['GPT2LMHeadModel names', 'transformer.'],
  ])('%s: a prompt, then decoded tokens through the KV cache', async (_, prefix) => {
    const weights = randomGpt2Weights(shape, 11);
    const model = await Gpt2Model.load(await openAsSafetensors(weights, prefix), { nHeads: shape.nHeads });
    const plain = new Map([...weights].map(([name, t]) => [name, t.data]));
    const tokens = [3, 14, 0, 9];
    const positions = tokens.length + 4;
    for (let pos = 0; pos < positions; pos++) {
      const logits = await model.forward(tokens[pos]!, pos);
      const expected = referenceGpt2(plain, shape, tokens.slice(0, pos + 1))[pos]!;
      expectClose(logits, expected, `position ${pos}`);
      // Past the prompt, decode greedily: the next token is fed back through the cache.
      if (pos === tokens.length - 1) tokens.push(argmax(expected));
    }
    expect(tokens.length).toBe(positions + 1);
  });

  it('a shorter cache than n_positions, and clear errors for a missing n_head or a wrong file', async () => {
    const weights = randomGpt2Weights(shape, 5);
    const file = await openAsSafetensors(weights);
    const model = await Gpt2Model.load(file, { nHeads: 3, seqLen: 3 });
    for (let pos = 0; pos < 3; pos++) await model.forward(pos + 1, pos);
    await expect(model.forward(1, 3)).rejects.toThrow(/position 3 is outside the sequence length/);
    expect(model.memory.heldBytes).toBeLessThanOrEqual(model.memoryPrediction.totalBytes);
    await expect(Gpt2Model.load(file, { nHeads: 5 })).rejects.toThrow(/n_head 5 must be a positive divisor/);
    weights.delete('h.1.mlp.c_proj.bias');
    await expect(Gpt2Model.load(await openAsSafetensors(weights), { nHeads: 3 })).rejects.toThrow(
      /has no tensor 'h\.1\.mlp\.c_proj\.bias'/,
    );
  });
});
