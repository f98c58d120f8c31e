// The matrix-vector forms of the GEMM (gemm-vector.ts): unpacked, no scratch, every matrix element
// read once. Checked against the float64 oracle of the GEMM harness, with tails, strides, alpha and
// accumulation, serially and on a thread pool.
import { describe, expect, it } from 'vitest';
import { gemmScratchBytes } from '../../src/backends/wasm/gemm-plan.js';
import { gemvKind } from '../../src/backends/wasm/gemm-vector.js';
import { firstMismatch, runGemmCase, type GemmCase } from './gemm-harness.js';

async function expectMatchesOracle(testCase: GemmCase, threads = 0): Promise<void> {
  const run = await runGemmCase(testCase, threads);
  const bad = firstMismatch(run);
  const where = bad < 0 ? '' : `element ${bad}: got ${run.actual[bad]}, expected ${run.expected[bad]}`;
  expect(where, JSON.stringify(testCase)).toBe('');
}

const dense = { offset: 0, strideM: 0, strideK: 1 };

describe('GEMV: one row of A times B (a decode step against [in, out] weights)', () => {
  it.each([
    [4, 1],
    [32, 7],
    [100, 64],
    [256, 33],
    [388, 19],
  ])('C[1, %i] for K = %i, with column-block and row tails', async (n, k) => {
    await expectMatchesOracle({ m: 1, n, k });
    await expectMatchesOracle({ m: 1, n, k, a: { transposed: true } }, 2);
  });

  it('strided A, a column-strided C, alpha and accumulation, on two threads', async () => {
    await expectMatchesOracle({ m: 1, n: 72, k: 9, a: { transposed: true, pad: 2 }, b: { pad: 3 } }, 2);
    await expectMatchesOracle(
      { m: 1, n: 40, k: 5, c: { transposed: true, pad: 1 }, alpha: -0.5, accumulate: true },
      2,
    );
  });
});

describe('GEMV: rows of A times one column (a classifier against [out, in] weights)', () => {
  it.each([
    [1, 4],
    [3, 8],
    [13, 68],
    [64, 76],
  ])('C[%i, 1] for K = %i, with vector tails', async (m, k) => {
    await expectMatchesOracle({ m, n: 1, k });
    await expectMatchesOracle({ m, n: 1, k, a: { pad: 5 }, c: { pad: 2 }, alpha: 3, accumulate: true }, 2);
  });
});

describe('GEMV: one row of A times B stored by columns (a decode step against [out, in] weights)', () => {
  it.each([
    [1, 4],
    [7, 16],
    [40, 76],
  ])('C[1, %i] for K = %i', async (n, k) => {
    await expectMatchesOracle({ m: 1, n, k, b: { transposed: true } });
    await expectMatchesOracle(
      {
        m: 1,
        n,
        k,
        b: { transposed: true, pad: 3 },
        c: { transposed: true, pad: 2 },
        alpha: 0.5,
        accumulate: true,
      },
      2,
    );
  });
});

describe('which products take the GEMV', () => {
  it('takes a single row or column read with vector loads, and needs no scratch', () => {
    const spec = (m: number, n: number, k: number, bStrideN = 1) => ({
      name: 'g',
      m,
      n,
      k,
      a: { ...dense, strideM: k },
      b: { offset: 0, strideK: n, strideN: bStrideN },
      c: { offset: 0, strideM: n, strideN: 1 },
      scratchOffset: 0,
    });
    expect(gemvKind(spec(1, 64, 9))).toBe('row');
    expect(gemvKind(spec(50, 1, 8))).toBe('column');
    expect(gemvKind({ ...spec(1, 64, 8), b: { offset: 0, strideK: 1, strideN: 8 } })).toBe('dots');
    expect(gemmScratchBytes(spec(1, 64, 9))).toBe(0);
    // Odd widths, column-strided B or C stay on the packed GEMM.
    expect(gemvKind(spec(1, 5, 9))).toBeUndefined();
    expect(gemvKind({ ...spec(1, 64, 9), c: { offset: 0, strideM: 64, strideN: 2 } })).toBeUndefined();
    expect(gemvKind(spec(1, 64, 9, 2))).toBeUndefined();
    expect(gemvKind(spec(50, 1, 7))).toBeUndefined();
    expect(gemmScratchBytes(spec(2, 64, 9))).toBeGreaterThan(0);
  });
});
