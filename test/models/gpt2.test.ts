// examples/gpt2.ein through the GPT-2 runtime on random weights written as a safetensors file with
// GPT-2's tensor names, against the independent whole-sequence forward in reference-gpt2.ts.
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../src/ir/tensor.js';
import { memoryByteSource } from '../../src/runtime/byte-source.js';
import { Gpt2Model } from '../../src/runtime/gpt2-runner.js';
import { SafetensorsFile } from '../../src/runtime/safetensors.js';
import { serializeSafetensors, type SafetensorsWriteEntry } from '../../src/runtime/safetensors-writer.js';
import { referenceGpt2, type Gpt2Shape } from './reference-gpt2.js';

const shape: Gpt2Shape = { dim: 12, nHeads: 3, nLayers: 2, hiddenDim: 48, vocabSize: 17, maxPositions: 10 };

function randomGpt2Weights(s: Gpt2Shape, seed: number): Map<string, { shape: number[]; data: Float32Array }> {
  const random = seededRandom(seed);
  const weights = new Map<string, { shape: number[]; data: Float32Array }>();
  const add = (name: string, dims: number[], scale: number, center = 0) => {
    const data = Float32Array.from(
      { length: dims.reduce((a, b) => a * b, 1) },
      () => center + (random() * 2 - 1) * scale,
    );
    weights.set(name, { shape: dims, data });
  };
  const { dim: D, hiddenDim: F } = s;
  add('wte.weight', [s.vocabSize, D], 0.5);
  add('wpe.weight', [s.maxPositions, D], 0.3);
  for (let l = 0; l < s.nLayers; l++) {
    const p = `h.${l}.`;
    add(p + 'ln_1.weight', [D], 0.3, 1);
    add(p + 'ln_1.bias', [D], 0.1);
    add(p + 'attn.c_attn.weight', [D, 3 * D], 0.5);
    add(p + 'attn.c_attn.bias', [3 * D], 0.1);
    add(p + 'attn.c_proj.weight', [D, D], 0.3);
    add(p + 'attn.c_proj.bias', [D], 0.1);
    add(p + 'ln_2.weight', [D], 0.3, 1);
    add(p + 'ln_2.bias', [D], 0.1);
    add(p + 'mlp.c_fc.weight', [D, F], 0.4);
    add(p + 'mlp.c_fc.bias', [F], 0.1);
    add(p + 'mlp.c_proj.weight', [F, D], 0.2);
    add(p + 'mlp.c_proj.bias', [D], 0.1);
  }
  add('ln_f.weight', [D], 0.3, 1);
  add('ln_f.bias', [D], 0.1);
  return weights;
}

async function openAsSafetensors(
  weights: Map<string, { shape: number[]; data: Float32Array }>,
  prefix = '',
): Promise<SafetensorsFile> {
  const entries: SafetensorsWriteEntry[] = [...weights].map(([name, t]) => ({
    name: prefix + name,
    dtype: 'F32',
    shape: t.shape,
    data: t.data,
  }));
  return SafetensorsFile.open(
    memoryByteSource(await serializeSafetensors(entries), 'random-gpt2.safetensors'),
  );
}

function expectClose(actual: Float32Array, expected: Float64Array, what: string): void {
  for (let i = 0; i < expected.length; i++) {
    const error = Math.abs(actual[i]! - expected[i]!) / Math.max(1, Math.abs(expected[i]!));
    if (!(error < 1e-4)) expect.fail(`${what}, logit ${i}: got ${actual[i]}, expected ${expected[i]}`);
  }
}

const argmax = (values: Float64Array): number =>
  values.reduce((best, v, i) => (v > values[best]! ? i : best), 0);

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
