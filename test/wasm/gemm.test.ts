import { describe, expect, it } from 'vitest';
import { gemmScratchBytes, planGemm, type GemmSpec } from '../../src/backends/wasm/gemm-plan.js';
import { firstMismatch, runGemmCase, SHAPES, type GemmCase } from './gemm-harness.js';

async function expectMatchesOracle(testCase: GemmCase): Promise<void> {
  const run = await runGemmCase(testCase);
  const bad = firstMismatch(run);
  const where = bad < 0 ? '' : `element ${bad}: got ${run.actual[bad]}, expected ${run.expected[bad]}`;
  expect(where, JSON.stringify(testCase)).toBe('');
}

describe('wasm GEMM (mul+add micro-kernels)', () => {
  it.each(SHAPES)('C = A·B for %i×%i×%i (M×N×K), default 4x8 tile', async (m, n, k) => {
    await expectMatchesOracle({ m, n, k });
  });

  it.each(SHAPES)('C += alpha·Aᵀ·Bᵀ with padded strided C for %i×%i×%i', async (m, n, k) => {
    await expectMatchesOracle({
      m,
      n,
      k,
      a: { transposed: true, pad: 3 },
      b: { transposed: true },
      c: { pad: 5 },
      alpha: -0.75,
      accumulate: true,
    });
  });

  it.each([
    [{ mr: 3, nr: 12, kUnroll: 2 }],
    [{ mr: 2, nr: 16, kUnroll: 1 }],
    [{ mr: 1, nr: 4, kUnroll: 3 }],
    [{ mr: 6, nr: 8, kUnroll: 4 }],
  ])('tile %o on awkward shapes', async (tile) => {
    for (const [m, n, k] of [
      [13, 29, 7],
      [1, 5, 1],
      [8, 24, 16],
    ])
      await expectMatchesOracle({ m, n, k, tile });
  });

  it('writes a transposed (column-strided) C, as Q·Kᵀ-style layouts need', async () => {
    await expectMatchesOracle({
      m: 19,
      n: 23,
      k: 16,
      b: { transposed: true },
      c: { transposed: true, pad: 2 },
    });
    await expectMatchesOracle({ m: 9, n: 10, k: 3, c: { transposed: true }, accumulate: true, alpha: 2 });
  });

  it('splits work over small blocks and tails inside blocks', async () => {
    await expectMatchesOracle({ m: 45, n: 77, k: 13, blockRows: 8, blockPanels: 2 });
    await expectMatchesOracle({ m: 45, n: 77, k: 13, blockRows: 1, blockPanels: 1, a: { transposed: true } });
  });

  it('larger square shape with K not a multiple of the unroll', async () => {
    await expectMatchesOracle({ m: 130, n: 135, k: 131 });
  });
});

describe('GEMM plan', () => {
  const base: GemmSpec = {
    name: 'g',
    m: 10,
    n: 9,
    k: 7,
    a: { offset: 0, strideM: 7, strideK: 1 },
    b: { offset: 400, strideK: 9, strideN: 1 },
    c: { offset: 800, strideM: 9, strideN: 1 },
    scratchOffset: 1024,
  };

  it('sizes scratch as zero-padded NR panels, plus dense A when A is k-strided', () => {
    expect(gemmScratchBytes(base)).toBe(2 * 7 * 8 * 4);
    expect(gemmScratchBytes({ ...base, a: { offset: 0, strideM: 1, strideK: 10 } })).toBe(
      2 * 7 * 8 * 4 + 10 * 7 * 4,
    );
    expect(gemmScratchBytes({ ...base, relaxedSimd: true })).toBe(1 * 7 * 12 * 4);
  });

  it('rejects bad input with clear messages', () => {
    expect(() => planGemm({ ...base, k: 0 })).toThrow(/k must be a positive integer/);
    expect(() => planGemm({ ...base, m: 2.5 })).toThrow(/m must be a positive integer/);
    expect(() => planGemm({ ...base, b: { ...base.b, strideN: -1 } })).toThrow(
      /b.strideN must be a non-negative/,
    );
    expect(() => planGemm({ ...base, scratchOffset: 8 })).toThrow(/multiple of 16/);
    expect(() => planGemm({ ...base, c: { ...base.c, offset: 2 } })).toThrow(/c.offset/);
    expect(() => planGemm({ ...base, tile: { nr: 6 } })).toThrow(/nr must be/);
    expect(() => planGemm({ ...base, alpha: Number.NaN })).toThrow(/alpha must be finite/);
    expect(() => planGemm({ ...base, name: 'bad name' })).toThrow(/not an identifier/);
    expect(() => planGemm({ ...base, blockPanels: 1.5 })).toThrow(/blockPanels must be a positive integer/);
    expect(() => planGemm({ ...base, c: { ...base.c, offset: 2 ** 32 - 8 } })).toThrow(
      /beyond 32-bit memory/,
    );
  });
});
