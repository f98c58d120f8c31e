// Property tests of the front-end on random well-formed programs (test/support/random-cascade.ts):
// they check; `ein fmt` is idempotent, keeps every comment and means the same program; the IR printer
// round-trips through the checker; the reprinted program computes bit-identical results.
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { check } from '../../src/frontend/check.js';
import { EinError } from '../../src/frontend/diagnostics.js';
import { format } from '../../src/frontend/format.js';
import { checkSource } from '../../src/frontend/index.js';
import { parse } from '../../src/frontend/parser.js';
import { bindKernel } from '../../src/ir/bind.js';
import type { CascadeProgram } from '../../src/ir/cascade.js';
import { stripSpans } from '../../src/ir/expr.js';
import { runBound, type Tensors } from '../../src/ir/interpreter.js';
import { printProgram } from '../../src/ir/print.js';
import { randomInputs } from '../../src/ir/random-inputs.js';
import { FEATURES, randomCascade, type RandomCascade } from '../support/random-cascade.js';

const SEED = 20261123;
const RUNS = Number(process.env.EIN_PROPERTY_RUNS ?? 300);

/** Report EinErrors with their rendered diagnostic and the program, not just a message. */
function explain<T>(c: RandomCascade, what: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    const detail =
      e instanceof EinError ? e.format() : e instanceof Error ? (e.stack ?? e.message) : String(e);
    throw new Error(`${what} failed on\n${c.source}\n${detail}`);
  }
}

function run(program: CascadeProgram, c: RandomCascade, seed: number): Tensors {
  const bound = bindKernel(program, c.kernel, { ranks: c.ranks });
  return runBound(bound, randomInputs(bound, seed));
}

const commentTexts = (source: string) =>
  parse(source)
    .comments.map((x) => x.text.trimEnd())
    .sort();

function expectBitIdentical(a: Tensors, b: Tensors): void {
  expect(Object.keys(b)).toEqual(Object.keys(a));
  for (const [name, t] of Object.entries(a)) {
    const u = b[name]!;
    expect(u.shape).toEqual(t.shape);
    const x = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    const y = new Uint8Array(u.data.buffer, u.data.byteOffset, u.data.byteLength);
    expect(Buffer.compare(x, y), `output ${name} differs`).toBe(0);
  }
}

describe('random well-formed programs', () => {
  test('every program checks and runs to finite values within its bounds', () => {
    fc.assert(
      fc.property(randomCascade(), fc.nat(), (c, seed) => {
        const program = explain(c, 'check', () => checkSource(c.source));
        const outputs = explain(c, 'run', () => run(program, c, seed));
        for (const o of c.outputs)
          for (const v of outputs[o]!.data)
            if (!(Math.abs(v) <= c.bounds[o]! * (1 + 1e-5) + 1e-5))
              throw new Error(`${o} holds ${v}, beyond its bound ${c.bounds[o]}\n${c.source}`);
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });

  test('format is idempotent, keeps every comment and means the same program', () => {
    fc.assert(
      fc.property(randomCascade(), (c) => {
        const ir = explain(c, 'check', () => check(parse(c.source)));
        const once = explain(c, 'format', () => format(c.source));
        const twice = explain(c, 'format of the formatted source', () => format(once));
        expect(twice, `format is not idempotent on\n${c.source}\nfirst:\n${once}`).toBe(once);
        expect(commentTexts(once), `comments differ after format of\n${c.source}`).toEqual(
          commentTexts(c.source),
        );
        const again = explain(c, `check of the formatted source\n${once}\n`, () => check(parse(once)));
        expect(stripSpans(again)).toEqual(stripSpans(ir));
      }),
      { seed: SEED + 1, numRuns: RUNS },
    );
  });

  test('printProgram round-trips through the checker, with bit-identical results', () => {
    fc.assert(
      fc.property(randomCascade(), fc.nat(), (c, seed) => {
        const ir = explain(c, 'check', () => checkSource(c.source));
        const printed = printProgram(ir);
        const ir2 = explain(c, `check of the printed IR\n${printed}\n`, () => checkSource(printed));
        expect(stripSpans(ir2), `printed IR:\n${printed}`).toEqual(stripSpans(ir));
        expect(printProgram(ir2)).toBe(printed);
        expectBitIdentical(run(ir, c, seed), run(ir2, c, seed));
      }),
      { seed: SEED + 2, numRuns: RUNS },
    );
  });

  test('the generator covers every feature', () => {
    const seen = new Set<string>();
    for (const c of fc.sample(randomCascade(), { seed: SEED + 3, numRuns: 600 }))
      for (const f of c.features) seen.add(f);
    expect(FEATURES.filter((f) => !seen.has(f))).toEqual([]);
  });

  test('the knobs switch features off', () => {
    const plain = fc.sample(
      randomCascade({
        allowIterative: false,
        allowCalls: false,
        allowGather: false,
        allowAffine: false,
        allowScalars: false,
        allowComparisons: false,
        allowPower: false,
        allowConstantRanks: false,
        messy: false,
        maxStatements: 2,
      }),
      { seed: SEED + 4, numRuns: 200 },
    );
    const banned = ['iterative', 'call', 'gather', 'affine', 'scalar', 'where', 'power', 'comment'];
    for (const c of plain) {
      expect(c.features.filter((f) => banned.includes(f))).toEqual([]);
      expect(c.source).not.toContain('#');
      checkSource(c.source);
    }
  });
});

// Shrunk counterexamples the properties above found, kept as plain tests.
describe('regressions', () => {
  test('a 0-d statement prints with its brackets (S = ... would be a binding)', () => {
    const ir = checkSource('kernel f(X: f32[N]) -> S {\n  S[] = sum[n] X[n]\n}\n');
    const printed = printProgram(ir);
    expect(printed).toContain('S[] = sum[n] X[n]');
    expect(stripSpans(checkSource(printed))).toEqual(stripSpans(ir));
  });

  test('a 0-d read keeps its brackets through fmt (bare, the name became an index)', () => {
    // Found by the mutation fuzzer: `X[idsd[]]` failed (no tensor idsd) but fmt printed `X[idsd]`,
    // which checks, with idsd an index summed by the einsum rule.
    const source = 'kernel f(X: f32[N]) -> Y {\n  Y[n] = X[m[]]\n}\n';
    expect(format(source)).toBe(source);
    expect(() => checkSource(source)).toThrow(/unknown tensor 'm'/);
    const scalar = checkSource('kernel f(X: f32[N], a: f32) -> Y {\n  Y[n] = X[n] * a\n}\n');
    expect(printProgram(scalar)).toContain('Y[n] = X[n] * a[]');
    expect(stripSpans(checkSource(printProgram(scalar)))).toEqual(stripSpans(scalar));
  });

  test("a binding's declared output shape must match what the call gives", () => {
    // Found by the mutation fuzzer (and while reading calls.ts): the declared type was silently replaced
    // by the callee's shape, so `-> T1: f32[D]` printed back as `T1: f32[A]`.
    const helper = 'kernel g(A: f32[M]) -> B {\n  B[m] = A[m]\n}\n';
    expect(() => checkSource(`${helper}kernel f(X: f32[N]) -> H: f32[N, N] {\n  H = g(X)\n}\n`)).toThrow(
      /H is declared as f32\[N, N\] but g gives it shape \[N\]/,
    );
    const ok = checkSource(`${helper}kernel f(X: f32[N]) -> H: f32[N] {\n  H = g(X)\n}\n`);
    expect(ok.kernels[1]!.tensors['H']!.declared).toBe(true);
  });

  test('a binding reading its own output is a cycle, not an internal error', () => {
    // Found by the mutation fuzzer (`T1, T2 = helper(T2)`): "internal: shape inference did not converge".
    const helper = 'kernel g(A: f32[N]) -> (B, C) {\n  B[n] = A[n]\n  C[n] = A[n]\n}\n';
    expect(() => checkSource(`${helper}kernel f(X: f32[N]) -> Y {\n  Y, Z = g(Z)\n}\n`)).toThrow(EinError);
    expect(() => checkSource(`${helper}kernel f(X: f32[N]) -> Y {\n  Y, Z = g(Z)\n}\n`)).toThrow(
      /cyclic definition: Y, Z → Y, Z/,
    );
  });
});
