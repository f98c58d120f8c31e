import { EinRuntimeError } from './errors.js';
import { XorshiftStarRng } from './rng.js';

// llama2.c's sampler (run.c: sample, sample_argmax, sample_mult, sample_topp, softmax), computed in
// float32 like the C code: every intermediate is rounded with Math.fround where C stores a float.

const f32 = Math.fround;

export interface SamplerOptions {
  vocabSize: number;
  /** 0 means greedy argmax. run.c clamps negative values to 0. Default 1.0 as in run.c. */
  temperature?: number;
  /** Nucleus threshold; values outside [0, 1] become 0.9 and 0 or 1 disable top-p, as in run.c. */
  topp?: number;
  /** The RNG state's start value; 0 (the default) means "seed from the clock" as in run.c. */
  seed?: number | bigint;
}

export class Sampler {
  readonly vocabSize: number;
  readonly temperature: number;
  readonly topp: number;
  readonly seed: bigint;
  private readonly rng: XorshiftStarRng;
  private readonly probabilities: Float32Array;

  constructor(options: SamplerOptions) {
    const { vocabSize, temperature = 1.0, topp = 0.9, seed = 0 } = options;
    if (!Number.isInteger(vocabSize) || vocabSize <= 0) {
      throw new EinRuntimeError(`sampler: vocabSize must be a positive integer, got ${vocabSize}`);
    }
    if (Number.isNaN(temperature) || Number.isNaN(topp)) {
      throw new EinRuntimeError(
        `sampler: temperature and topp must be numbers, got ${temperature} and ${topp}`,
      );
    }
    if (typeof seed === 'number' && !Number.isSafeInteger(seed)) {
      throw new EinRuntimeError(`sampler: seed must be an integer, got ${seed}`);
    }
    this.vocabSize = vocabSize;
    // run.c main: "if (temperature < 0.0) temperature = 0.0; if (topp < 0.0 || 1.0 < topp) topp = 0.9;"
    this.temperature = f32(Math.max(temperature, 0));
    this.topp = f32(topp < 0 || topp > 1 ? 0.9 : topp);
    // run.c main: "if (rng_seed <= 0) rng_seed = (unsigned int)time(NULL);" on an unsigned seed.
    const requested = BigInt.asUintN(64, BigInt(seed));
    this.seed = requested === 0n ? BigInt(Math.floor(Date.now() / 1000) >>> 0) : requested;
    this.rng = new XorshiftStarRng(this.seed);
    this.probabilities = new Float32Array(vocabSize);
  }

  /** run.c sample(). Reads the first vocabSize logits and leaves the caller's array untouched. */
  sample(logits: Float32Array): number {
    if (logits.length < this.vocabSize) {
      throw new EinRuntimeError(`sampler: got ${logits.length} logits for a vocabulary of ${this.vocabSize}`);
    }
    if (this.temperature === 0) return sampleArgmax(logits, this.vocabSize);
    const probabilities = this.probabilities;
    for (let i = 0; i < this.vocabSize; i++) probabilities[i] = f32(logits[i] / this.temperature);
    softmaxInPlace(probabilities);
    // The coin is flipped before choosing the method, so the RNG advances once per sampled token.
    const coin = this.rng.nextF32();
    if (this.topp <= 0 || this.topp >= 1) return sampleMultinomial(probabilities, coin);
    return sampleTopP(probabilities, this.topp, coin);
  }
}

/** run.c sample_argmax: the first index of the maximum. */
export function sampleArgmax(values: Float32Array, n = values.length): number {
  let best = 0;
  for (let i = 1; i < n; i++) if (values[i] > values[best]) best = i;
  return best;
}

/** run.c softmax, float32 throughout. */
export function softmaxInPlace(x: Float32Array): void {
  let max = x[0];
  for (let i = 1; i < x.length; i++) if (x[i] > max) max = x[i];
  let sum = 0;
  for (let i = 0; i < x.length; i++) {
    x[i] = Math.exp(f32(x[i] - max)); // the store rounds to float32, like expf's result
    sum = f32(sum + x[i]);
  }
  for (let i = 0; i < x.length; i++) x[i] = x[i] / sum;
}

/** run.c sample_mult: the first index where the running CDF exceeds the coin. */
export function sampleMultinomial(probabilities: Float32Array, coin: number): number {
  let cdf = 0;
  for (let i = 0; i < probabilities.length; i++) {
    cdf = f32(cdf + probabilities[i]);
    if (coin < cdf) return i;
  }
  return probabilities.length - 1; // rounding errors
}

/**
 * run.c sample_topp: drop candidates below (1 - topp) / (n - 1) (they cannot be in the nucleus), sort
 * the rest by descending probability, keep the shortest prefix whose mass exceeds topp, and sample
 * from it with the coin scaled by that mass. Ties keep index order: glibc's qsort is a (stable) merge
 * sort whenever its scratch buffer fits in memory, and Array.prototype.sort is stable.
 */
export function sampleTopP(probabilities: Float32Array, topp: number, coin: number): number {
  const n = probabilities.length;
  const cutoff = f32(f32(1 - topp) / (n - 1));
  const candidates: number[] = [];
  for (let i = 0; i < n; i++) if (probabilities[i] >= cutoff) candidates.push(i);
  candidates.sort((a, b) => probabilities[b] - probabilities[a]);

  let cumulative = 0;
  let last = candidates.length - 1; // rounding errors: consider all
  for (let i = 0; i < candidates.length; i++) {
    cumulative = f32(cumulative + probabilities[candidates[i]]);
    if (cumulative > topp) {
      last = i;
      break;
    }
  }
  const r = f32(coin * cumulative);
  let cdf = 0;
  for (let i = 0; i <= last; i++) {
    cdf = f32(cdf + probabilities[candidates[i]]);
    if (r < cdf) return candidates[i];
  }
  return candidates[last];
}
