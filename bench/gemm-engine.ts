import { seededFloats } from '../src/ir/tensor.js';

/** What each GEMM engine in the benchmark implements: C[M, N] = A[M, K] · B[K, N], row-major. */
export interface GemmShape {
  m: number;
  k: number;
  n: number;
}

export interface GemmEngine {
  /** Prepares one shape with fixed inputs; later `run` calls reuse them. */
  prepare(shape: GemmShape, a: Float32Array, b: Float32Array): Promise<void>;
  /** One timed multiplication, as a user would call it. */
  run(): unknown;
  /** C of the last run, row-major. */
  result(): Promise<Float32Array>;
  dispose(): Promise<void>;
}

/** Output positions whose values every engine reports, so results are compared without moving all of C. */
export function samplePositions({ m, n }: GemmShape, count = 64): number[] {
  const positions = [0, n - 1, (m - 1) * n, m * n - 1];
  const random = seededFloats(count, 7);
  for (const value of random) positions.push(Math.floor(((value + 1) / 2) * m * n) % (m * n));
  return positions;
}

/** The benchmark inputs of a shape: identical in every process. */
export function gemmInputs({ m, k, n }: GemmShape): { a: Float32Array; b: Float32Array } {
  return { a: seededFloats(m * k, 1), b: seededFloats(k * n, 2) };
}
