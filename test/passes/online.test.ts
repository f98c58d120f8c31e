// The online rewrite (3-pass softmax chain → FuseMax Cascade 5): equal to the original under the
// interpreter at several sizes, valid Cascade IR (print → check gives the same IR), fewer passes.
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { checkFile, checkSource } from '../../src/frontend/index.js';
import { bindKernel } from '../../src/ir/bind.js';
import { findKernel, type CascadeProgram, type KernelIR } from '../../src/ir/cascade.js';
import { mapExpr, stripSpans } from '../../src/ir/expr.js';
import { interpret } from '../../src/ir/interpreter.js';
import { printProgram } from '../../src/ir/print.js';
import { seededRandom, type Tensor } from '../../src/ir/tensor.js';
import { largestDivisorAtMost, online, type OnlineContext } from '../../src/passes/online.js';
import { reinfer } from '../../src/passes/online-ranges.js';
import { passcount } from '../../src/passes/passcount.js';

const last = (p: CascadeProgram) => p.kernels[p.kernels.length - 1]!;
const withKernel = (p: CascadeProgram, k: KernelIR): CascadeProgram => ({
  ...p,
  kernels: p.kernels.map((x) => (x.name === k.name ? k : x)),
});
const passesOverM = (p: CascadeProgram, k: KernelIR, m = 'M') =>
  passcount(k, { globalRanks: p.ranks }).find((r) => r.rank === m)!.passes;

/** Inputs uniform in [-3, 3): wide enough that the running max moves between blocks. */
function inputsFor(program: CascadeProgram, name: string, ranks: Record<string, number>, seed: number) {
  const bound = bindKernel(program, name, { ranks });
  const random = seededRandom(seed);
  const out: Record<string, Tensor> = {};
  for (const p of bound.kernel.params) {
    const shape = bound.shapes.get(p)!;
    const n = shape.reduce((a, b) => a * b, 1);
    out[p] = { dtype: 'f32', shape, data: Float32Array.from({ length: n }, () => random() * 6 - 3) };
  }
  return out;
}

function expectClose(got: Tensor, want: Tensor, what: string) {
  expect(got.shape).toEqual(want.shape);
  for (let i = 0; i < want.data.length; i++) {
    const [a, b] = [got.data[i]!, want.data[i]!];
    if (!(Math.abs(a - b) <= 1e-5 * Math.max(1, Math.abs(b))))
      expect.fail(`${what}[${i}]: rewritten ${a}, original ${b}`);
  }
}

function expectRoundTrip(program: CascadeProgram, k: KernelIR) {
  const again = findKernel(checkSource(printProgram(withKernel(program, k))), k.name)!;
  expect(stripSpans(again)).toEqual(stripSpans(k));
}

/** Rewrite at these rank values, check IR validity and equality with the original on random inputs. */
function rewriteAndCompare(
  program: CascadeProgram,
  ranks: Record<string, number>,
  ctx: Omit<OnlineContext, 'ranks' | 'globalRanks'> = {},
  seed = 1,
) {
  const original = last(program);
  const result = online(original, { ...ctx, ranks, globalRanks: program.ranks });
  expect(result.kernel).not.toBe(original);
  expectRoundTrip(program, result.kernel);
  const inputs = inputsFor(program, original.name, ranks, seed);
  const want = interpret(program, original.name, inputs);
  const got = interpret(withKernel(program, result.kernel), original.name, inputs);
  for (const o of original.outputs) expectClose(got[o]!, want[o]!, o);
  return result;
}

const ATTENTION_SIZES = [
  { P: 1, M: 1, E: 1, F: 1 },
  { P: 3, M: 8, E: 4, F: 2 },
  { P: 5, M: 12, E: 3, F: 7 },
  { P: 2, M: 96, E: 2, F: 3 },
];

const chain = (lhs: string, av: string, extra = '', outs = 'AV') => `
kernel ${lhs}(Q: f32[P, E], K: f32[M, E], V: f32[M, F]) -> ${outs} {
  QK[p, m] = Q[p, e] * K[m, e] / sqrt(E)
  GM[p] = max[m] QK[p, m]
  SN[p, m] = exp(QK[p, m] - GM[p])
  SD[p] = sum[m] SN[p, m]${extra}
  ${av}
}`;

describe('online: attention', () => {
  const program = checkFile('examples/attention.ein');
  test.each(ATTENTION_SIZES)('attention %o equals the 3-pass original', (ranks) => {
    const { kernel, decisions } = rewriteAndCompare(program, ranks);
    expect(passesOverM(program, last(program))).toBe(3);
    expect(passesOverM(program, kernel)).toBe(1);
    expect(decisions).toHaveLength(1);
    expect(decisions[0]).toMatchObject({ pass: 'online', subject: expect.stringContaining('GM → SN → SD') });
    expect(decisions[0]!.why).toContain('from 3 to 1');
    expect(decisions[0]!.alternativeCost).toContain('re-read QK 2 more times');
  });

  test('the rewrite is FuseMax Cascade 5, with QK computed blocked and no copy of it', () => {
    const { kernel } = online(last(program), { ranks: { M: 256 } });
    expect(kernel.ranks.map((r) => r.name)).toEqual(['P', 'E', 'M', 'F', 'M_0', 'M_1']);
    expect(Object.keys(kernel.tensors)).not.toContain('QK');
    expect(kernel.tensors.RM!.iterativeAxis).toBe(0);
    expect(printProgram({ ...program, kernels: [kernel] })).toContain(
      'BQK[m_1, m_0, p] = sum[e] Q[p, e] * K[m_1 * M_0 + m_0, e] / sqrt(E)',
    );
    expect(kernel.ranks.find((r) => r.name === 'M_0')!.value).toEqual({ k: 'num', value: 64 });
  });

  test('prime M takes M0 = 1 by default beyond 64, and ctx.blockSize is honoured', () => {
    const r = rewriteAndCompare(program, { P: 2, M: 67, E: 2, F: 2 });
    expect(r.decisions[0]!.why).toContain('M_0 = 1');
    const one = rewriteAndCompare(program, { P: 3, M: 12, E: 2, F: 2 }, { blockSize: () => 1 });
    expect(one.kernel.ranks.find((x) => x.name === 'M_0')!.value).toEqual({ k: 'num', value: 1 });
    expect(largestDivisorAtMost(67, 64)).toBe(1);
    expect(largestDivisorAtMost(96, 64)).toBe(48);
  });

  test('a block size that does not divide M is refused, and the kernel kept', () => {
    const k = last(program);
    const r = online(k, { ranks: { M: 12 }, blockSize: () => 5 });
    expect(r.kernel).toBe(k);
    expect(r.decisions[0]!.why).toContain('does not divide');
  });

  test('with M unbound, M0 = 1 (it divides every M) and the kernel runs at any M', () => {
    const r = online(last(program));
    expect(r.decisions[0]!.why).toContain('not bound at compile time');
    expectRoundTrip(program, r.kernel);
    const ranks = { P: 2, M: 7, E: 3, F: 2 };
    const inputs = inputsFor(program, 'attention', ranks, 5);
    const want = interpret(program, 'attention', inputs).AV!;
    expectClose(interpret(withKernel(program, r.kernel), 'attention', inputs).AV!, want, 'AV');
  });

  test('rank values may come as the map of a bound kernel', () => {
    const r = online(last(program), { ranks: new Map([['M', 32]]) });
    expect(r.kernel.ranks.find((x) => x.name === 'M_0')!.value).toEqual({ k: 'num', value: 32 });
  });
});

describe('online: random sizes and block sizes', () => {
  const divisorsOf = (n: number) => Array.from({ length: n }, (_, i) => i + 1).filter((d) => n % d === 0);
  test.each(['attention', 'causal_attention'])(
    '%s equals the original for any sizes and any M0 dividing M',
    (name) => {
      const program = checkFile(`examples/${name}.ein`);
      const sizes = fc.record({
        P: fc.integer({ min: 1, max: 4 }),
        M: fc.integer({ min: 4, max: 18 }),
        E: fc.integer({ min: 1, max: 4 }),
        F: fc.integer({ min: 1, max: 3 }),
        pick: fc.nat(),
        seed: fc.nat(),
      });
      fc.assert(
        fc.property(sizes, ({ pick, seed, ...ranks }) => {
          const divisors = divisorsOf(ranks.M);
          const m0 = divisors[pick % divisors.length]!;
          rewriteAndCompare(
            program,
            { ...ranks, P: Math.min(ranks.P, ranks.M) },
            { blockSize: () => m0 },
            seed,
          );
        }),
        { numRuns: 25, seed: 11 },
      );
    },
  );
});

describe('online: spellings of the weighted sum', () => {
  const spellings: [string, string, string?][] = [
    ['divide_outside', 'AV[p, f] = (sum[m] SN[p, m] * V[m, f]) / SD[p]'],
    ['reordered', 'AV[p, f] = V[m, f] * (SN[p, m] / SD[p])'],
    ['normalised_first', 'AV[p, f] = sum[m] A[p, m] * V[m, f]', '\n  A[p, m] = SN[p, m] / SD[p]'],
    ['deferred', 'AV[p, f] = SNV[p, f] / SD[p]', '\n  SNV[p, f] = SN[p, m] * V[m, f]'],
    ['masked', 'AV[p, f] = (sum[m] where(m <= p + M - P, SN[p, m] * V[m, f], 0)) / SD[p]'],
    ['scaled', 'AV[p, f] = -(2 * (sum[m] SN[p, m] / SD[p] * V[m, f]))'],
  ];
  test.each(spellings)('%s', (name, av, extra) => {
    const program = checkSource(chain(name, av, extra));
    const ranks = { P: 3, M: 12, E: 4, F: 5 };
    const { kernel } = rewriteAndCompare(program, ranks, { blockSize: () => 4 });
    expect(passesOverM(program, kernel)).toBe(1);
    expect(Object.keys(kernel.tensors).filter((t) => ['SN', 'SD', 'A', 'GM'].includes(t))).toEqual([]);
  });

  test('indices renamed in every statement are matched by role', () => {
    const src = `
kernel renamed(X: f32[P, M], V: f32[M, F]) -> O {
  G[i] = max[j] X[i, j]
  N[a, b] = exp(X[a, b] - G[a])
  D[u] = sum[v] N[u, v]
  O[f, q] = sum[w] V[w, f] * N[q, w] / D[q]
}`;
    rewriteAndCompare(checkSource(src), { P: 4, M: 10, F: 3 }, { blockSize: () => 5 });
  });
});

describe('online: masks and the −∞ guards', () => {
  const causal = checkFile('examples/causal_attention.ein');
  test.each([
    { P: 1, M: 4, E: 2, F: 2 },
    { P: 5, M: 12, E: 3, F: 2 },
    { P: 8, M: 8, E: 4, F: 3 },
  ])('causal attention %o', (ranks) => {
    const { kernel, decisions } = rewriteAndCompare(causal, ranks, {
      blockSize: () => (ranks.M % 4 ? 1 : 4),
    });
    expect(passesOverM(causal, kernel)).toBe(1);
    expect(decisions[0]!.why).toContain('guards');
    expect(Object.keys(kernel.tensors)).toEqual(expect.arrayContaining(['BS', 'BQK']));
  });

  // Query p sees keys m ≥ p: for p ≥ M0 the whole first block is masked, RM_1 = −∞, and without the
  // guards exp(−∞ − (−∞)) is NaN.
  const band = checkSource(
    chain('band', 'AV[p, f] = SN[p, m] * V[m, f] / SD[p]').replace(
      'QK[p, m] = Q[p, e] * K[m, e] / sqrt(E)',
      'S[p, m] = Q[p, e] * K[m, e] / sqrt(E)\n  QK[p, m] = where(m >= p, S[p, m], -inf)',
    ),
  );
  const ranks = { P: 6, M: 8, E: 3, F: 2 };
  test('a mask hiding a whole first block: guarded rewrite equals the original', () => {
    rewriteAndCompare(band, ranks, { blockSize: () => 2 });
  });

  test('the same rewrite without the guards gives NaN', () => {
    const { kernel } = online(last(band), { ranks, blockSize: () => 2, guards: 'never' });
    const inputs = inputsFor(band, 'band', ranks, 3);
    const got = interpret(withKernel(band, kernel), 'band', inputs).AV!;
    expect(Array.from(got.data).some(Number.isNaN)).toBe(true);
    const guarded = online(last(band), { ranks, blockSize: () => 2 }).kernel;
    const stripped = {
      ...guarded,
      steps: guarded.steps.map((s) =>
        s.kind === 'einsum'
          ? {
              ...s,
              body: mapExpr(s.body, (x) =>
                x.k === 'call' && x.fn === 'where' && x.args[1]!.k === 'num' ? x.args[2]! : x,
              ),
            }
          : s,
      ),
    };
    expect(stripSpans(stripped)).toEqual(stripSpans(kernel));
  });
});

describe('online: other consumers of the chain', () => {
  test('logsumexp: L = GM + log(SD) reads the last generations (2 → 1 pass)', () => {
    const program = checkSource(`
kernel logsumexp(X: f32[P, M]) -> L {
  GM[p] = max[m] X[p, m]
  SN[p, m] = exp(X[p, m] - GM[p])
  SD[p] = sum[m] SN[p, m]
  L[p] = GM[p] + log(SD[p])
}`);
    for (const ranks of [
      { P: 1, M: 1 },
      { P: 4, M: 30 },
      { P: 3, M: 64 },
    ]) {
      const { kernel } = rewriteAndCompare(program, ranks, { blockSize: (m) => largestDivisorAtMost(m, 8) });
      expect(passesOverM(program, last(program))).toBe(2);
      expect(passesOverM(program, kernel)).toBe(1);
    }
  });

  test('softmax: the running max and denominator in one pass, Y in a second (3 → 2)', () => {
    const program = checkFile('examples/softmax.ein');
    for (const ranks of [
      { R: 1, C: 1 },
      { R: 4, C: 17 },
      { R: 3, C: 40 },
    ]) {
      const { kernel, decisions } = rewriteAndCompare(program, ranks, {
        blockSize: (c) => largestDivisorAtMost(c, 8),
      });
      expect(passesOverM(program, last(program), 'C')).toBe(3);
      expect(passesOverM(program, kernel, 'C')).toBe(2);
      expect(decisions[0]!.why).toContain('EX recomputed');
    }
  });

  test('attention returning its weights: A and SN stay, AV is accumulated (3 → 2)', () => {
    const program = checkSource(
      chain('weights', 'AV[p, f] = sum[m] A[p, m] * V[m, f]', '\n  A[p, m] = SN[p, m] / SD[p]', '(AV, A)'),
    );
    const { kernel } = rewriteAndCompare(program, { P: 3, M: 12, E: 2, F: 4 }, { blockSize: () => 3 });
    expect(Object.keys(kernel.tensors)).toEqual(expect.arrayContaining(['QK', 'SN', 'A', 'AV']));
    expect(passesOverM(program, kernel)).toBe(2);
  });

  test('GM and SD as outputs are copied from the last generations', () => {
    const program = checkSource(chain('stats', 'AV[p, f] = SN[p, m] * V[m, f] / SD[p]', '', '(AV, GM, SD)'));
    const { kernel } = rewriteAndCompare(program, { P: 3, M: 8, E: 2, F: 2 }, { blockSize: () => 4 });
    expect(passesOverM(program, kernel)).toBe(1);
  });

  test('multi-head attention with E ≠ F and permuted output axes', () => {
    const program = checkSource(`
kernel mha(Q: f32[H, P, E], K: f32[H, M, E], V: f32[H, M, F]) -> AV {
  QK[h, p, m] = Q[h, p, e] * K[h, m, e] / sqrt(E)
  GM[h, p] = max[m] QK[h, p, m]
  SN[h, p, m] = exp(QK[h, p, m] - GM[h, p])
  SD[h, p] = sum[m] SN[h, p, m]
  A[h, p, m] = SN[h, p, m] / SD[h, p]
  AV[p, h, f] = sum[m] A[h, p, m] * V[h, m, f]
}`);
    for (const ranks of [
      { H: 2, P: 3, M: 8, E: 4, F: 6 },
      { H: 3, P: 2, M: 7, E: 5, F: 2 },
    ]) {
      const { kernel } = rewriteAndCompare(program, ranks, { blockSize: (m) => largestDivisorAtMost(m, 4) });
      expect(passesOverM(program, kernel)).toBe(1);
    }
  });

  test('fresh names avoid every tensor, rank and index already in use', () => {
    const program = checkSource(`
kernel clash(X: f32[P, M], LM: f32[M]) -> (RM, Y) {
  rank M_1 = 2
  GM[p] = max[m_1] X[p, m_1]
  SN[p, m] = exp(X[p, m] - GM[p])
  SD[p] = sum[m] SN[p, m]
  RM[p] = log(SD[p]) + GM[p] + M_1
  Y[p, m] = SN[p, m] / SD[p] * LM[m]
}`);
    const { kernel } = rewriteAndCompare(program, { P: 3, M: 12 }, { blockSize: () => 4 });
    expect(kernel.ranks.map((r) => r.name)).toEqual(['P', 'M', 'M_1', 'M_0_2', 'M_1_2']);
    expect(Object.keys(kernel.tensors)).toEqual(expect.arrayContaining(['LM_2', 'RM_2']));
  });
});

describe('online: kernels it leaves alone', () => {
  test.each(['matmul', 'layernorm', 'rmsnorm', 'mlp', 'attention_1pass', 'conv1d'])(
    '%s is returned as is',
    (name) => {
      const program = checkFile(`examples/${name}.ein`);
      const k = last(program);
      const r = online(k, { globalRanks: program.ranks });
      expect(r.kernel).toBe(k);
      expect(r.decisions).toEqual([]);
    },
  );

  test('a chain whose exp does not subtract its own max is not matched', () => {
    const program = checkSource(`
kernel other(X: f32[P, M], Y: f32[P, M]) -> O {
  GM[p] = max[m] X[p, m]
  SN[p, m] = exp(Y[p, m] - GM[p])
  SD[p] = sum[m] SN[p, m]
  O[p, m] = SN[p, m] / SD[p]
}`);
    const k = last(program);
    expect(online(k, { ranks: { M: 4 } }).kernel).toBe(k);
  });

  test('kept when a kernel call reads the chain (calls are inlined first in the pipeline)', () => {
    const program = checkSource(`
kernel ident(X: f32[P, M]) -> Y {
  Y[p, m] = X[p, m]
}
kernel withcall(X: f32[P, M]) -> Z {
  GM[p] = max[m] X[p, m]
  SN[p, m] = exp(X[p, m] - GM[p])
  SD[p] = sum[m] SN[p, m]
  Z = ident(SN)
}`);
    const k = last(program);
    const r = online(k, { ranks: { M: 8 } });
    expect(r.kernel).toBe(k);
    expect(r.decisions[0]!.why).toContain('inline the call first');
  });

  test('kept when the online form saves no pass: the only reader needs SN elementwise over m', () => {
    const program = checkSource(`
kernel entropyish(X: f32[P, M]) -> (C, SD) {
  GM[p] = max[m] X[p, m]
  SN[p, m] = exp(X[p, m] - GM[p])
  SD[p] = sum[m] SN[p, m]
  C[p] = sum[m] log(SN[p, m])
}`);
    const k = last(program);
    const r = online(k, { ranks: { M: 8 } });
    expect(r.kernel).toBe(k);
    expect(r.decisions[0]).toMatchObject({ choice: 'kept the 2-pass cascade' });
    expect(r.decisions[0]!.why).toContain('still take 2 passes');
  });
});

describe('online: several chains and unrelated sweeps', () => {
  test('an unrelated 3-pass reduction over M does not block the rewrite of the chain', () => {
    const program = checkSource(`
kernel twice(X: f32[P, M], Y: f32[P, M]) -> (Z, W) {
  GM[p] = max[m] X[p, m]
  SN[p, m] = exp(X[p, m] - GM[p])
  SD[p] = sum[m] SN[p, m]
  Z[p, m] = SN[p, m] / SD[p]
  MU[p] = sum[m] Y[p, m] / M
  YC[p, m] = Y[p, m] - MU[p]
  VAR[p] = sum[m] YC[p, m] ^ 2 / M
  W[p, m] = YC[p, m] / sqrt(VAR[p] + 1e-5)
}`);
    const { decisions } = rewriteAndCompare(program, { P: 3, M: 8 }, { blockSize: () => 4 });
    expect(decisions[0]!.why).toContain('drop from 3 to 2 (the kernel as a whole still takes 3');
  });

  test('two attention chains in one kernel are both rewritten', () => {
    const program = checkSource(`
kernel two(Q: f32[P, E], K: f32[M, E], V: f32[M, F], Q2: f32[P, E]) -> (AV, AV2) {
  QK[p, m] = Q[p, e] * K[m, e]
  GM[p] = max[m] QK[p, m]
  SN[p, m] = exp(QK[p, m] - GM[p])
  SD[p] = sum[m] SN[p, m]
  AV[p, f] = SN[p, m] * V[m, f] / SD[p]
  QK2[p, m] = Q2[p, e] * K[m, e]
  GM2[p] = max[m] QK2[p, m]
  SN2[p, m] = exp(QK2[p, m] - GM2[p])
  SD2[p] = sum[m] SN2[p, m]
  AV2[p, f] = SN2[p, m] * V[m, f] / SD2[p]
}`);
    const { kernel, decisions } = rewriteAndCompare(
      program,
      { P: 2, M: 6, E: 3, F: 2 },
      { blockSize: () => 3 },
    );
    expect(decisions.map((d) => d.choice.startsWith('1-pass'))).toEqual([true, true]);
    expect(passesOverM(program, kernel)).toBe(1);
    expect(kernel.ranks.map((r) => r.name)).toContain('M_1_2');
  });
});

describe('online-ranges mirrors the checker', () => {
  test.each(['attention', 'attention_1pass', 'causal_attention', 'softmax', 'layernorm', 'conv1d', 'mlp'])(
    'reinfer(%s) is the checked IR',
    (name) => {
      const k = last(checkFile(`examples/${name}.ein`));
      expect(stripSpans(reinfer(k))).toEqual(stripSpans(k));
    },
  );
});
