// Masks decided by the loop bounds. The WASM code generator runs a loop bounded by the `bounds`
// pass (passes/dynamic-bounds.ts with mask-bounds.ts) for exactly min(extent, bound) iterations, so
// inside it the loop variable v lies in [0, min(extent, bound) − 1]; a comparison affine in v is
// monotone there, and when its value at both ends of the range is known it is the same at every
// iteration. Causal attention over a KV cache is the case: `where(t <= pos, …)` is true at every t
// the loop still runs, and the new token's `where(t == pos, K_NEW, kc[t])` holds only at the last
// one, t = bound − 1. That iteration is peeled (run once after the loop, with t := bound − 1), so
// the loop itself is free of both masks and each iteration does its dot product without a compare
// and a branch per element (llama2.c's run.c writes the new key into the cache first and has no
// mask at all; Ein's kernels read it from K_NEW instead).
//
// Only for the WASM backend: the other backends may run all `extent` iterations (loops.ts), where
// these comparisons are not decided. Peeling keeps the order of iterations, so results are bit-identical.
import { ic, isub, type IExpr, type LoopKernel, type Stmt, type VExpr } from '../../ir/loops.js';
import { affineForm, coefficientOf, substitute } from '../../passes/index-algebra.js';
import { asInt } from '../../passes/mask-bounds.js';
import { substituteStmts } from './stmt-substitute.js';

type ForStmt = Extract<Stmt, { k: 'for' }>;
/** A loop variable's range: v ≤ each of `last` (integer expressions fixed over the loop), v ≥ 0. */
interface Range {
  readonly v: string;
  readonly last: readonly IExpr[];
}

const COMPARISONS = new Set(['<', '<=', '>', '>=', '==', '!=']);
const minus1 = (e: IExpr) => isub(e, ic(1));

/** The kernel with comparisons decided by its loops' bounds folded and diagonals peeled. */
export function foldBoundedMasks(kernel: LoopKernel): LoopKernel {
  return { ...kernel, body: stmts(kernel.body, []) };
}

function stmts(list: readonly Stmt[], ranges: readonly Range[]): Stmt[] {
  return list.flatMap((s) => stmt(s, ranges));
}

function stmt(s: Stmt, ranges: readonly Range[]): Stmt[] {
  switch (s.k) {
    case 'for':
      return loop(s, ranges);
    case 'if':
      return [{ ...s, body: stmts(s.body, ranges) }];
    case 'let':
    case 'set':
    case 'reduce':
    case 'store':
      return [{ ...s, value: value(s.value, ranges) }];
    default:
      return [s];
  }
}

function loop(s: ForStmt, ranges: readonly Range[]): Stmt[] {
  const last = [{ k: 'const', v: s.extent - 1 } as IExpr, ...(s.bound ? [minus1(s.bound)] : [])];
  const diagonal = s.bound && peelsAt(s.body, s.var, minus1(s.bound));
  if (!s.bound || !diagonal) return [{ ...s, body: stmts(s.body, [...ranges, { v: s.var, last }]) }];
  // for v < B − 1 { body }; then, if 0 ≤ B − 1 < extent, the body once at v = B − 1.
  const at = minus1(s.bound);
  const head: ForStmt = {
    ...s,
    bound: at,
    body: stmts(s.body, [...ranges, { v: s.var, last: [last[0]!, minus1(at)] }]),
  };
  const peeled = stmts(substituteStmts(s.body, s.var, at), ranges);
  const inRange: Stmt = {
    k: 'if',
    cond: { a: at, lt: { k: 'const', v: s.extent } },
    body: [{ k: 'if', cond: { a: { k: 'const', v: -1 }, lt: at }, body: peeled }],
  };
  return [head, inRange];
}

/** Whether some `==` or `!=` in the body compares v with exactly `at` (v − at, or at − v, vs 0). */
function peelsAt(body: readonly Stmt[], v: string, at: IExpr): boolean {
  let found = false;
  const look = (e: VExpr): void => {
    if (found) return;
    if (e.k === 'binary' && (e.fn === '==' || e.fn === '!=')) {
      const d = difference(e);
      const c = d && coefficientOf(d, v);
      if (d && (c === 1 || c === -1)) {
        const rest = affineForm(substitute(d, v, at));
        found = rest.terms.size === 0 && rest.constant === 0;
      }
    }
    if (e.k === 'unary') look(e.a);
    if (e.k === 'binary') [e.a, e.b].forEach(look);
    if (e.k === 'select') [e.cond, e.a, e.b].forEach(look);
  };
  const visit = (list: readonly Stmt[]) =>
    list.forEach((s) => {
      if (s.k === 'let' || s.k === 'set' || s.k === 'reduce' || s.k === 'store') look(s.value);
      if (s.k === 'for' || s.k === 'if') visit(s.body);
    });
  visit(body);
  return found;
}

/** a − b of a comparison between integer-valued operands, or undefined. */
function difference(e: Extract<VExpr, { k: 'binary' }>): IExpr | undefined {
  const a = asInt(e.a);
  const b = asInt(e.b);
  return a && b ? { k: 'sub', a, b } : undefined;
}

/** The constant value of `d`, or undefined. */
function constantOf(d: IExpr): number | undefined {
  const f = affineForm(d);
  return f.terms.size === 0 ? f.constant : undefined;
}

/** Bounds on d = a − b over the ranges: [lo, hi], each end undefined when unknown. */
function extremes(d: IExpr, ranges: readonly Range[]): { lo?: number; hi?: number } {
  const exact = constantOf(d);
  if (exact !== undefined) return { lo: exact, hi: exact };
  let lo: number | undefined;
  let hi: number | undefined;
  for (const { v, last } of ranges) {
    const c = coefficientOf(d, v);
    if (c === undefined || c === 0) continue;
    // Monotone in v: the ends of [0, last] bound it (other variables must cancel there).
    const atZero = constantOf(substitute(d, v, { k: 'const', v: 0 }));
    for (const l of last) {
      const atLast = constantOf(substitute(d, v, l));
      const [low, high] = c > 0 ? [atZero, atLast] : [atLast, atZero];
      if (low !== undefined) lo = lo === undefined ? low : Math.max(lo, low);
      if (high !== undefined) hi = hi === undefined ? high : Math.min(hi, high);
    }
  }
  return { lo, hi };
}

/** The comparison `d op 0` when [lo, hi] decides it. */
function decide(fn: string, lo: number | undefined, hi: number | undefined): number | undefined {
  const above = (k: number) => lo !== undefined && lo > k; // d > k everywhere
  const below = (k: number) => hi !== undefined && hi < k; // d < k everywhere
  const table: Record<string, [boolean, boolean]> = {
    // [always true, always false]
    '<': [below(0), above(-1)],
    '<=': [below(1), above(0)],
    '>': [above(0), below(1)],
    '>=': [above(-1), below(0)],
    '==': [lo === 0 && hi === 0, above(0) || below(0)],
    '!=': [above(0) || below(0), lo === 0 && hi === 0],
  };
  const [yes, no] = table[fn]!;
  return yes ? 1 : no ? 0 : undefined;
}

function value(e: VExpr, ranges: readonly Range[]): VExpr {
  switch (e.k) {
    case 'unary':
      return { ...e, a: value(e.a, ranges) };
    case 'binary': {
      if (COMPARISONS.has(e.fn)) {
        const d = difference(e);
        const known = d && extremes(d, ranges);
        const decided = known && decide(e.fn, known.lo, known.hi);
        if (decided !== undefined) return { k: 'const', v: decided };
      }
      return { ...e, a: value(e.a, ranges), b: value(e.b, ranges) };
    }
    case 'select': {
      const cond = value(e.cond, ranges);
      // Only the chosen side is evaluated (loop-codegen.ts), so the other is dropped unseen.
      if (cond.k === 'const') return value(cond.v !== 0 ? e.a : e.b, ranges);
      return { ...e, cond, a: value(e.a, ranges), b: value(e.b, ranges) };
    }
    default:
      return e;
  }
}
