// run.c's random_u32 / random_f32: xorshift* over an unsigned 64-bit state.

const mask64 = (1n << 64n) - 1n;
const multiplier = 0x2545f4914f6cdd1dn;

export class XorshiftStarRng {
  private state: bigint;

  /** The state starts as the seed itself (run.c build_sampler), reduced to unsigned 64 bits. */
  constructor(seed: bigint) {
    this.state = BigInt.asUintN(64, seed);
  }

  nextU32(): number {
    let state = this.state;
    state ^= state >> 12n;
    state = (state ^ (state << 25n)) & mask64;
    state ^= state >> 27n;
    this.state = state;
    return Number(((state * multiplier) & mask64) >> 32n);
  }

  /** A float32 in [0, 1): the top 24 bits of a u32 over 2^24, exact in float32 as in run.c. */
  nextF32(): number {
    return (this.nextU32() >>> 8) / 16777216;
  }
}
