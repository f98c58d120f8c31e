import { describe, expect, it } from 'vitest';
import { XorshiftStarRng } from '../../src/runtime/rng.js';
import {
  sampleArgmax,
  sampleMultinomial,
  Sampler,
  sampleTopP,
  softmaxInPlace,
} from '../../src/runtime/sampler.js';

describe('xorshift* RNG', () => {
  it("reproduces run.c's random_u32 / random_f32 sequence", () => {
    // Printed by llama2.c (random_u32, then random_f32, in turn) for seed 42 and seed -1 (atoi → ~0ull).
    const rng = new XorshiftStarRng(42n);
    expect([rng.nextU32(), rng.nextF32(), rng.nextU32(), rng.nextF32()]).toEqual([
      1456360119,
      Math.fround(0.782255828),
      3393612768,
      Math.fround(0.944042623),
    ]);
    const negative = new XorshiftStarRng(-1n);
    expect([negative.nextU32(), negative.nextF32()]).toEqual([4180462053, Math.fround(0.562324762)]);
  });

  it('stays in [0, 1)', () => {
    const rng = new XorshiftStarRng(7n);
    for (let i = 0; i < 10_000; i++) {
      const value = rng.nextF32();
      expect(value >= 0 && value < 1).toBe(true);
    }
  });
});

describe('sampler', () => {
  const logits = Float32Array.of(1, 3, 2, 3, -1);

  it('argmax takes the first maximum; temperature 0 is greedy and leaves the logits alone', () => {
    expect(sampleArgmax(logits)).toBe(1);
    const copy = logits.slice();
    expect(new Sampler({ vocabSize: 5, temperature: 0 }).sample(copy)).toBe(1);
    expect(copy).toEqual(logits);
  });

  it('softmax normalizes in float32', () => {
    const probabilities = logits.slice();
    softmaxInPlace(probabilities);
    expect(probabilities.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
    expect(probabilities[1]).toBe(probabilities[3]);
  });

  it('multinomial picks the first index whose CDF exceeds the coin', () => {
    const probabilities = Float32Array.of(0.1, 0.2, 0.3, 0.4);
    expect(sampleMultinomial(probabilities, 0)).toBe(0);
    expect(sampleMultinomial(probabilities, 0.15)).toBe(1);
    expect(sampleMultinomial(probabilities, 0.65)).toBe(3);
    expect(sampleMultinomial(Float32Array.of(0.25, 0.25), 0.9)).toBe(1); // rounding fallback: n - 1
  });

  it('top-p keeps the smallest prefix over p, sorted by probability, ties in index order', () => {
    const probabilities = Float32Array.of(0.05, 0.5, 0.05, 0.3, 0.1);
    // Sorted: 1 (0.5), 3 (0.3), 4 (0.1), ...; p = 0.7 keeps {1, 3} with mass 0.8.
    expect(sampleTopP(probabilities, 0.7, 0)).toBe(1);
    expect(sampleTopP(probabilities, 0.7, 0.6)).toBe(1); // r = 0.48 < 0.5
    expect(sampleTopP(probabilities, 0.7, 0.7)).toBe(3); // r = 0.56
    expect(sampleTopP(probabilities, 0.7, 0.999)).toBe(3);
    expect(sampleTopP(Float32Array.of(0.25, 0.25, 0.25, 0.25), 0.3, 0.9)).toBe(1);
  });

  it('is deterministic for a seed and differs across seeds', () => {
    const draw = (seed: number) => {
      const sampler = new Sampler({ vocabSize: 5, temperature: 1, topp: 0.9, seed });
      return Array.from({ length: 50 }, () => sampler.sample(logits));
    };
    expect(draw(1234)).toEqual(draw(1234));
    expect(draw(1234)).not.toEqual(draw(99));
  });

  it('normalizes options like run.c main', () => {
    const sampler = new Sampler({ vocabSize: 5, temperature: -2, topp: 3, seed: 0 });
    expect(sampler.temperature).toBe(0);
    expect(sampler.topp).toBe(Math.fround(0.9));
    expect(sampler.seed).toBeGreaterThan(0n); // seed 0 means "from the clock"
    expect(new Sampler({ vocabSize: 5, seed: -1 }).seed).toBe((1n << 64n) - 1n);
    expect(() => new Sampler({ vocabSize: 0 })).toThrow(/vocabSize must be a positive integer/);
    expect(() => new Sampler({ vocabSize: 8 }).sample(logits)).toThrow(/got 5 logits for a vocabulary of 8/);
  });
});
