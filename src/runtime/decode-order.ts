// The preconditions every model's forward step shares (run.c forward()'s, made checks): a token of
// the vocabulary, a position inside the KV cache, and positions fed in order from 0. Feeding 0 again
// starts a new sequence: the cache rows before a position are all rewritten before they are read.
import { EinRuntimeError } from './errors.js';

export class DecodeOrder {
  /** The first position whose cache rows are not written yet. */
  private nextPos = 0;

  constructor(private readonly limits: { readonly vocabSize: number; readonly seqLen: number }) {}

  checkToken(token: number): void {
    const { vocabSize } = this.limits;
    if (!Number.isInteger(token) || token < 0 || token >= vocabSize)
      throw new EinRuntimeError(`token ${token} is outside the vocabulary (0..${vocabSize - 1})`);
  }

  /** Checks one step's token and position; the position's cache rows count as written from here on. */
  step(token: number, pos: number): void {
    const { seqLen } = this.limits;
    this.checkToken(token);
    if (!Number.isInteger(pos) || pos < 0 || pos >= seqLen)
      throw new EinRuntimeError(`position ${pos} is outside the sequence length (0..${seqLen - 1})`);
    if (pos > this.nextPos)
      throw new EinRuntimeError(
        `position ${pos} skips ahead: positions 0..${pos - 1} are not in the cache yet`,
      );
    this.nextPos = pos + 1;
  }

  /** Positions 0..count-1 were written at once (a prompt's prefill). */
  filled(count: number): void {
    this.nextPos = count;
  }
}
