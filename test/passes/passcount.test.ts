// FuseMax pass counts (cosma-fusemax.md §2(a)) on the examples and on the cascades of FuseMax itself.
import { describe, expect, test } from 'vitest';
import { checkFile, checkSource } from '../../src/frontend/index.js';
import type { CascadeProgram } from '../../src/ir/cascade.js';
import { passcount, passesOver, type RankPasses } from '../../src/passes/passcount.js';
import { sizeKey } from '../../src/ir/sizes.js';

const only = (p: CascadeProgram) => p.kernels[p.kernels.length - 1]!;
const count = (p: CascadeProgram, ranks: Record<string, number> = {}) =>
  passcount(only(p), { ranks, globalRanks: p.ranks });
const byRank = (rs: readonly RankPasses[], rank: string) => {
  const r = rs.find((x) => x.rank === rank);
  if (!r) throw new Error(`no rank ${rank} in ${rs.map((x) => x.rank).join(', ')}`);
  return r;
};
const passesOf = (r: RankPasses) => r.perEinsum.map((e) => `${e.tensor}:${e.pass}`).join(' ');

const DEFERRED = `
kernel deferred(Q: f32[P, E], K: f32[M, E], V: f32[M, F]) -> AV {
  QK[p, m] = Q[p, e] * K[m, e] / sqrt(E)
  GM[p] = max[m] QK[p, m]
  SN[p, m] = exp(QK[p, m] - GM[p])
  SD[p] = sum[m] SN[p, m]
  SNV[p, f] = SN[p, m] * V[m, f]
  AV[p, f] = SNV[p, f] / SD[p]
}`;

// FuseMax §IV-E2's 2-pass cascade as written in cosma-fusemax.md §2(d).
const TWO_PASS = `
rank M0 = 4
kernel twopass(Q: f32[P, E], K: f32[M, E], V: f32[M, F]) -> AV {
  rank M1 = M / M0
  BQK[m1, m0, p] = Q[p, e] * K[m1 * M0 + m0, e]
  LM[m1, p] = max[m0] BQK[m1, m0, p]
  SLN[m1, m0, p] = exp(BQK[m1, m0, p] - LM[m1, p])
  SLD[m1, p] = sum[m0] SLN[m1, m0, p]
  GM[p] = max[m1] LM[m1, p]
  PRM[m1, p] = exp(LM[m1, p] - GM[p])
  SD[p] = sum[m1] SLD[m1, p] * PRM[m1, p]
  A[m1, m0, p] = SLN[m1, m0, p] * PRM[m1, p] / SD[p]
  AV[p, f] = sum[m1, m0] A[m1, m0, p] * V[m1 * M0 + m0, f]
}`;

const LOGSUMEXP = `
kernel logsumexp(X: f32[P, M]) -> L {
  GM[p] = max[m] X[p, m]
  SN[p, m] = exp(X[p, m] - GM[p])
  SD[p] = sum[m] SN[p, m]
  L[p] = GM[p] + log(SD[p])
}`;

// Both statistics in one sweep (E[x²] − μ²), then the output: 2 passes where the example takes 3.
const LAYERNORM_ONE_SWEEP = `
kernel layernorm2(X: f32[T, D], g: f32[D], b: f32[D]) -> Y {
  MU[t] = sum[d] X[t, d] / D
  MS[t] = sum[d] X[t, d] * X[t, d] / D
  Y[t, d] = (X[t, d] - MU[t]) * rsqrt(MS[t] - MU[t] * MU[t] + 1e-5) * g[d] + b[d]
}`;

describe('passcount on the examples', () => {
  test('attention (Cascade 4) takes 3 passes over M, 1 over E', () => {
    const rs = count(checkFile('examples/attention.ein'), { P: 128, M: 1024, E: 64, F: 64 });
    const m = byRank(rs, 'M');
    expect(m.passes).toBe(3);
    expect(m.parts).toEqual(['M']);
    expect(passesOf(m)).toBe('QK:1 GM:1 SN:2 SD:2 AV:3');
    expect(byRank(rs, 'E').passes).toBe(1);
    const reRead = m.consequence!.reRead!;
    expect(reRead.tensor).toBe('QK');
    expect(reRead).toMatchObject({
      fiber: 'M',
      fiberElements: 1024,
      perUnitOf: ['P'],
      tensorElements: 128 * 1024,
    });
    expect(reRead.extraTrafficElements).toBe(2 * 128 * 1024);
    expect(m.consequence!.text).toContain('re-read QK 2 more times');
  });

  test('sizes stay symbolic without rank values', () => {
    const m = byRank(count(checkFile('examples/attention.ein')), 'M');
    expect(m.consequence!.reRead).toMatchObject({
      fiber: 'M',
      tensorSize: 'P * M',
      extraTraffic: '2 * (P * M)',
    });
    expect(m.consequence!.reRead!.tensorElements).toBeUndefined();
  });

  test('attention_1pass (Cascade 5) takes 1 pass over M, split [M1, M0] from its subscripts', () => {
    const m = byRank(count(checkFile('examples/attention_1pass.ein')), 'M');
    expect(m).toMatchObject({ passes: 1, parts: ['M1', 'M0'], outerPasses: 1 });
    expect(m.consequence).toBeUndefined();
  });

  test('causal attention takes 3 passes over M', () => {
    expect(byRank(count(checkFile('examples/causal_attention.ein')), 'M').passes).toBe(3);
  });

  test('softmax takes 3 passes over C: max, sum, then the output re-reads EX', () => {
    const c = byRank(count(checkFile('examples/softmax.ein'), { R: 8, C: 1000 }), 'C');
    expect(c.passes).toBe(3);
    expect(passesOf(c)).toBe('MX:1 EX:2 SX:2 Y:3');
    expect(c.consequence!.reRead).toMatchObject({ tensor: 'X', extraTrafficElements: 2 * 8 * 1000 });
  });

  test('matmul takes 1 pass over K, and only K is reduced', () => {
    const rs = count(checkFile('examples/matmul.ein'));
    expect(rs.map((r) => [r.rank, r.passes])).toEqual([['K', 1]]);
  });

  test('layernorm as written takes 3 passes over D (mean, variance of XC, output); 2 with E[x²] − μ²', () => {
    expect(passesOf(byRank(count(checkFile('examples/layernorm.ein')), 'D'))).toBe('MU:1 XC:2 VAR:2 Y:3');
    expect(byRank(count(checkSource(LAYERNORM_ONE_SWEEP)), 'D').passes).toBe(2);
  });

  test('rmsnorm takes 2 passes over D', () => {
    expect(byRank(count(checkFile('examples/rmsnorm.ein')), 'D').passes).toBe(2);
  });

  test('a later sweep of an output axis of the same size counts, but names no re-read tensor', () => {
    const d = byRank(count(checkFile('examples/mlp.ein')), 'D');
    expect(d.passes).toBe(2);
    expect(d.consequence!.reRead).toBeUndefined();
    expect(d.consequence!.text).toContain('no tensor is read in two');
  });
});

describe('passcount on the FuseMax cascades', () => {
  test('deferring the division (SNV = SN·V, AV = SNV / SD) merges passes 2 and 3', () => {
    expect(passesOf(byRank(count(checkSource(DEFERRED)), 'M'))).toBe('QK:1 GM:1 SN:2 SD:2 SNV:2 AV:2');
  });

  // Over M1 alone: GM = max LM, then PRM and SD, then A — three sweeps of an M1-long fiber of LM.
  test('the 2-pass cascade takes 2, and keeps an M1-long fiber live (outer passes ≥ 2)', () => {
    expect(byRank(count(checkSource(TWO_PASS)), 'M')).toMatchObject({ passes: 2, outerPasses: 3 });
  });

  test('logsumexp takes 2 passes over M', () => {
    expect(byRank(count(checkSource(LOGSUMEXP)), 'M').passes).toBe(2);
  });

  test('passesOver looks a rank up by its size', () => {
    const k = only(checkFile('examples/attention.ein'));
    expect(passesOver(k, sizeKey({ k: 'rank', name: 'M' }))).toBe(3);
    expect(passesOver(k, sizeKey({ k: 'rank', name: 'F' }))).toBe(0);
  });

  test('the analysis is pure: the kernel is not modified', () => {
    const k = only(checkFile('examples/attention.ein'));
    const before = JSON.stringify(k);
    passcount(k);
    expect(JSON.stringify(k)).toBe(before);
  });
});
