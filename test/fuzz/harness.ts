// One fuzz case: a source goes through parse → format → check → print → bind → interpret. A user can
// cause only EinErrors; anything else escaping (or a broken round trip, or a hang) is a bug in Ein.
import vm from 'node:vm';
import { check } from '../../src/frontend/check.js';
import { EinError } from '../../src/frontend/diagnostics.js';
import { format } from '../../src/frontend/format.js';
import { parse } from '../../src/frontend/parser.js';
import { bindKernel, type BoundKernel } from '../../src/ir/bind.js';
import type { CascadeProgram } from '../../src/ir/cascade.js';
import { stripSpans, walkExpr } from '../../src/ir/expr.js';
import { runBound } from '../../src/ir/interpreter.js';
import type { Limits } from '../../src/ir/limits.js';
import { printProgram } from '../../src/ir/print.js';
import { randomInputs } from '../../src/ir/random-inputs.js';
import { evalSize } from '../../src/ir/sizes.js';
import { shrinkSource } from '../support/mutate.js';

export type Outcome =
  | { readonly kind: 'ok'; readonly interpreted: number }
  /** The first EinError met (rendered). */
  | { readonly kind: 'diagnostic'; readonly stage: string; readonly text: string }
  | { readonly kind: 'bug'; readonly stage: string; readonly text: string }
  | { readonly kind: 'hang'; readonly stage: string; readonly text: string };

export interface FuzzOptions {
  /** Seed of the random inputs. */
  readonly seed?: number;
  /** Interpret kernels whose estimated work (loop iterations × body size) is at most this; 0: never. */
  readonly maxWork?: number;
  /** Value of every symbolic rank. */
  readonly rank?: number;
  /** A case running longer than this is reported as a hang. */
  readonly timeoutMs?: number;
}

const FILE = 'mutant.ein';
const LIMITS: Limits = { maxTensorBytes: 64 * 1024 };

/** A failed invariant: a bug even though nothing threw. */
class Invariant extends Error {}

/** Equal modulo spans; objects compare by their keys in any order (`tensors` follows source order). */
const same = (a: unknown, b: unknown) => canonical(stripSpans(a)) === canonical(stripSpans(b));

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object')
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return typeof value === 'number' ? String(value) : JSON.stringify(value);
}
const commentTexts = (source: string) =>
  parse(source)
    .comments.map((c) => c.text.trimEnd())
    .sort()
    .join('\n');

function pipeline(source: string, opts: FuzzOptions, stage: { name: string }): Outcome {
  const diagnostic = (e: EinError): Outcome => {
    const text = e.format(); // rendering must not throw either
    if (typeof text !== 'string' || text.length === 0) throw new Invariant('empty diagnostic');
    return { kind: 'diagnostic', stage: stage.name, text };
  };

  stage.name = 'parse';
  let ast;
  try {
    ast = parse(source, FILE);
  } catch (e) {
    if (e instanceof EinError) return diagnostic(e);
    throw e;
  }

  // What parses, formats; formatting is idempotent, keeps comments and does not change the meaning.
  stage.name = 'format';
  const formatted = format(source, FILE);
  if (format(formatted, FILE) !== formatted) throw new Invariant('format is not idempotent');
  if (commentTexts(formatted) !== commentTexts(source))
    throw new Invariant('format lost or changed a comment');

  stage.name = 'check';
  let program: CascadeProgram;
  try {
    program = check(ast, FILE, source);
  } catch (e) {
    if (!(e instanceof EinError)) throw e;
    stage.name = 'check formatted';
    try {
      check(parse(formatted, FILE), FILE, formatted);
    } catch (e2) {
      if (e2 instanceof EinError) return diagnostic(e);
      throw e2;
    }
    throw new Invariant(`the source is rejected but its formatted text checks:\n${formatted}`);
  }
  stage.name = 'check formatted';
  if (!same(check(parse(formatted, FILE), FILE, formatted), program))
    throw new Invariant(`format changed the meaning:\n${formatted}`);
  stage.name = 'print';
  const printed = printProgram(program);
  stage.name = 'check printed';
  if (!same(check(parse(printed, 'printed.ein'), 'printed.ein', printed), program))
    throw new Invariant(`printProgram does not round-trip:\n${printed}`);

  let interpreted = 0;
  for (const kernel of program.kernels) {
    try {
      stage.name = `bind ${kernel.name}`;
      const ranks = Object.fromEntries(
        kernel.ranks.filter((r) => !r.value).map((r) => [r.name, opts.rank ?? 3]),
      );
      const bound = bindKernel(program, kernel.name, { ranks, limits: LIMITS });
      stage.name = `estimate ${kernel.name}`;
      if (!(work(bound) <= (opts.maxWork ?? 20000))) continue;
      stage.name = `interpret ${kernel.name}`;
      runBound(bound, randomInputs(bound, opts.seed ?? 0), { limits: LIMITS });
      interpreted++;
    } catch (e) {
      if (e instanceof EinError) return diagnostic(e);
      throw e;
    }
  }
  return { kind: 'ok', interpreted };
}

/** Loop iterations times body size, over every step and every kernel called (an upper bound). */
function work(bound: BoundKernel, depth = 0): number {
  if (depth > 8) return Infinity;
  let total = 0;
  for (const step of bound.kernel.steps) {
    if (step.kind === 'call') {
      const callee = bound.program.kernels.find((k) => k.name === step.kernel)!;
      const inputShapes = Object.fromEntries(
        callee.params.map((p, i) => [p, bound.shapes.get(step.args[i]!)!]),
      );
      total += work(bindKernel(bound.program, step.kernel, { inputShapes, limits: LIMITS }), depth + 1);
      continue;
    }
    let iterations = 1;
    for (const r of step.ranges) iterations *= Math.max(1, evalSize(r.extent, bound.ranks));
    let size = 0;
    walkExpr(step.body, () => size++);
    total += iterations * (size + 1);
  }
  return total;
}

const context = vm.createContext({ job: undefined as (() => unknown) | undefined });
const script = new vm.Script('job()');

/**
 * Run `f` synchronously but stop it after `ms` (V8 terminates the running script, host functions
 * included): `{ timedOut: true }`, or `f`'s value. Exceptions from `f` propagate unchanged.
 */
export function withTimeGuard<T>(f: () => T, ms: number): { timedOut: false; value: T } | { timedOut: true } {
  try {
    context['job'] = f;
    return { timedOut: false, value: script.runInContext(context, { timeout: ms }) as T };
  } catch (e) {
    if ((e as { code?: string }).code === 'ERR_SCRIPT_EXECUTION_TIMEOUT') return { timedOut: true };
    throw e;
  } finally {
    context['job'] = undefined;
  }
}

/** Run one case under a time guard; never throws. */
export function fuzzOne(source: string, opts: FuzzOptions = {}): Outcome {
  const stage = { name: 'start' };
  const ms = opts.timeoutMs ?? 5000;
  try {
    const result = withTimeGuard(() => pipeline(source, opts, stage), ms);
    return result.timedOut
      ? { kind: 'hang', stage: stage.name, text: `no result after ${ms} ms` }
      : result.value;
  } catch (e) {
    const text =
      e instanceof EinError
        ? `EinError where none is expected: ${e.message}`
        : e instanceof Error
          ? `${e.name}: ${e.message}\n${(e.stack ?? '').split('\n').slice(1, 6).join('\n')}`
          : String(e);
    return { kind: 'bug', stage: stage.name, text };
  }
}

export interface CampaignResult {
  readonly counts: Readonly<Record<string, number>>;
  /** Kernels that ran in the interpreter. */
  readonly interpreted: number;
  readonly failures: readonly {
    readonly source: string;
    readonly outcome: Outcome;
    readonly shrunk: string;
  }[];
}

/**
 * Fuzz `runs` mutants of `bases` (mutant i: base i mod n, mutation seed `seed + i`); stops after
 * `maxFailures` bugs or hangs, and shrinks each failing source for the report.
 */
export function campaign(
  bases: readonly string[],
  runs: number,
  seed: number,
  mutateFn: (source: string, seed: number) => string,
  opts: FuzzOptions & { maxFailures?: number } = {},
): CampaignResult {
  const counts: Record<string, number> = {};
  const failures: { source: string; outcome: Outcome; shrunk: string }[] = [];
  let interpreted = 0;
  for (let i = 0; i < runs && failures.length < (opts.maxFailures ?? 3); i++) {
    const source = mutateFn(bases[i % bases.length]!, seed + i);
    const outcome = fuzzOne(source, { ...opts, seed: i });
    const key = outcome.kind === 'diagnostic' ? `diagnostic at ${outcome.stage.split(' ')[0]}` : outcome.kind;
    counts[key] = (counts[key] ?? 0) + 1;
    if (outcome.kind === 'ok') interpreted += outcome.interpreted;
    if (outcome.kind === 'bug' || outcome.kind === 'hang') {
      const still = (s: string) => {
        const o = fuzzOne(s, {
          ...opts,
          seed: i,
          timeoutMs: outcome.kind === 'hang' ? opts.timeoutMs : 1000,
        });
        return o.kind === outcome.kind && o.stage === outcome.stage;
      };
      const shrunk = outcome.kind === 'hang' ? source : shrinkSource(source, still, 400);
      failures.push({ source, outcome, shrunk });
    }
  }
  return { counts, interpreted, failures };
}

export function describeFailures(result: CampaignResult): string {
  return result.failures
    .map(
      (f, i) =>
        `#${i + 1} ${f.outcome.kind} at ${'stage' in f.outcome ? f.outcome.stage : ''}\n` +
        `${'text' in f.outcome ? f.outcome.text : ''}\n--- mutant:\n${f.source}\n--- shrunk:\n${f.shrunk}\n`,
    )
    .join('\n');
}
