import { describe, expect, it } from 'vitest';
import { generate } from '../../src/runtime/generate-text.js';
import { Llama2cTokenizer } from '../../src/runtime/tokenizer.js';
import { buildTokenizerFile, llamaStyleVocab } from './fixtures.js';

const vocab = llamaStyleVocab([
  { piece: ' ', score: -1 },
  { piece: 'H', score: -1 },
  { piece: 'i', score: -1 },
  { piece: ' Hi', score: -0.5 },
  { piece: ' H', score: -0.6 },
  { piece: ' there', score: -1 },
  { piece: 'é', score: -1 },
]);
const tokenizer = Llama2cTokenizer.parse(buildTokenizerFile(vocab), 'synthetic.bin');
const id = (piece: string) => vocab.findIndex((token) => token.piece === piece);

/** A sampler that replays a script of token ids, and a forward that logs its calls. */
function scripted(script: number[]) {
  const calls: [number, number][] = [];
  let next = 0;
  return {
    calls,
    sampler: { sample: () => script[next++] },
    forward: async (token: number, pos: number) => {
      calls.push([token, pos]);
      return new Float32Array(vocab.length);
    },
  };
}

describe('generate', () => {
  it("forces the prompt, then samples, feeding each token back like run.c's loop", async () => {
    const run = scripted([id(' there'), 0x0a + 3, id('é')]);
    const chunks: string[] = [];
    const result = await generate({
      tokenizer,
      ...run,
      steps: 4,
      prompt: 'Hi',
      onText: (t) => chunks.push(t),
    });
    const hi = id(' Hi');
    expect(result.tokens).toEqual([1, hi, id(' there'), 0x0a + 3, id('é')]);
    expect(run.calls).toEqual([
      [1, 0],
      [hi, 1],
      [id(' there'), 2],
      [0x0a + 3, 3],
    ]);
    expect(chunks).toEqual(['Hi', ' there', '\n', 'é']);
    expect(result.text).toBe('Hi there\né');
  });

  it('stops when BOS is sampled and drops unprintable byte tokens', async () => {
    const run = scripted([0x07 + 3, id(' there'), 1, id('H')]);
    const result = await generate({ tokenizer, ...run, steps: 10, prompt: 'Hi' });
    expect(result.text).toBe('Hi there');
    expect(result.tokens).toEqual([1, id(' Hi'), 0x07 + 3, id(' there')]);
    expect(run.calls.length).toBe(4);
  });

  it('runs at most `steps` positions, the prompt included, and clamps to seqLen like run.c', async () => {
    expect((await generate({ tokenizer, ...scripted([]), steps: 1, prompt: 'Hi' })).text).toBe('Hi');
    expect((await generate({ tokenizer, ...scripted([]), steps: 0, prompt: 'Hi' })).tokens).toEqual([1]);
    const clamped = scripted(Array(10).fill(id('i')));
    await generate({ tokenizer, ...clamped, steps: 0, seqLen: 3, prompt: '' });
    expect(clamped.calls.length).toBe(3);
  });
});
