// Index ranges and shapes of one statement. An index ranges over the axis it subscripts plainly
// (`A[m, k]` bounds k by A's second axis); failing that, over the rank of its own name in capitals
// (k over K). Every plain use must agree, or the index is used for two different ranks.
import type { Einsum, IndexRange } from '../ir/cascade.js';
import { freeIndices, walkExpr, type Expr, type ReduceOp, type Span } from '../ir/expr.js';
import { sameSize } from '../ir/sizes.js';
import { fail } from './diagnostics.js';
import type { KernelScope } from './scope.js';
import { printExpr } from './print-expr.js';

/** A statement after name resolution, before its ranges are known. */
export interface PendingEinsum {
  readonly tensor: string;
  readonly subs: readonly Expr[];
  readonly body: Expr;
  readonly role: 'plain' | 'init' | 'update';
  /** Position of `i + 1` (update) or `0` (init). */
  readonly iterAxis?: number;
  readonly span: Span;
  readonly lhsSpan: Span;
}

interface Candidate {
  readonly size: Expr;
  readonly where: string;
  readonly span?: Span;
}

/** The index a left-side subscript names: `i`, or `i` in `i + 1`; undefined for the `0` of an init. */
export function lhsIndex(sub: Expr): string | undefined {
  if (sub.k === 'index') return sub.name;
  if (sub.k === 'binary' && sub.a.k === 'index') return sub.a.name;
  return undefined;
}

export function inferEinsum(p: PendingEinsum, scope: KernelScope): Einsum {
  const lhs = p.subs.map(lhsIndex).filter((x): x is string => x !== undefined);
  let body = p.body;
  let reduce: ReduceOp = 'sum';
  let reduced = freeIndices(body).filter((i) => !lhs.includes(i));
  // `GM[p] = max[m] QK[p, m]`: an outermost reduction becomes the statement's own reduce operator.
  if (reduced.length === 0 && body.k === 'reduce') {
    reduce = body.op;
    reduced = [...body.indices];
    body = body.body;
  }
  checkReductions(p.body, lhs);
  for (const r of reduced)
    if (!freeIndices(body).includes(r))
      fail(`${reduce}[${r}] but ${r} does not appear in what it reduces`, p.span);

  const candidates = new Map<string, Candidate[]>();
  const note = (index: string, c: Candidate) => candidates.set(index, [...(candidates.get(index) ?? []), c]);
  const own = scope.tensors.get(p.tensor)!;
  if (own.shape)
    p.subs.forEach((s, axis) => {
      const index = lhsIndex(s);
      if (!index) return;
      const size =
        p.role === 'update' && axis === p.iterAxis ? minusOne(own.shape![axis]!) : own.shape![axis]!;
      note(index, { size, where: `${p.tensor} axis ${axis}`, span: p.lhsSpan });
    });
  walkExpr(p.body, (e) => {
    if (e.k !== 'access') return;
    const slot = scope.tensors.get(e.tensor);
    const shape = slot?.shape;
    if (!shape) return;
    e.subs.forEach((s, axis) => {
      // Reading generation m1 of an iterative tensor says nothing about m1's range (it has one more).
      if (s.k === 'index' && axis !== slot.iterativeAxis)
        note(s.name, { size: shape[axis]!, where: `${e.tensor} axis ${axis}`, span: e.span });
    });
  });

  const all = [...lhs, ...reduced];
  walkExpr(p.body, (e) => {
    if (e.k === 'reduce') for (const i of e.indices) if (!all.includes(i)) all.push(i);
  });
  for (const i of freeIndices(p.body)) if (!all.includes(i)) all.push(i);
  const ranges: IndexRange[] = all.map((name) => ({
    name,
    extent: rangeFor(name, candidates.get(name) ?? [], lhs.includes(name), p, scope),
  }));

  if (p.role !== 'init') {
    const shape = p.subs.map((s, axis) => {
      const extent = ranges.find((r) => r.name === lhsIndex(s))!.extent;
      return p.role === 'update' && axis === p.iterAxis ? plusOne(extent) : extent;
    });
    if (own.shape) {
      shape.forEach((size, axis) => {
        if (!sameSize(size, own.shape![axis]!))
          fail(
            `${p.tensor} is ${own.declared ? 'declared' : 'defined'} with axis ${axis} of size ${printExpr(own.shape![axis]!)}, but this statement gives ${printExpr(size)}`,
            p.lhsSpan,
          );
      });
    } else own.shape = shape;
  }
  return { kind: 'einsum', tensor: p.tensor, subs: p.subs, reduce, reduced, body, ranges, span: p.span };
}

function rangeFor(
  index: string,
  found: readonly Candidate[],
  onLeft: boolean,
  p: PendingEinsum,
  scope: KernelScope,
): Expr {
  const first = found[0];
  if (first) {
    for (const c of found.slice(1))
      if (!sameSize(c.size, first.size))
        fail(
          `index ${index} is used for two different ranks: ${printExpr(first.size)} (${first.where}) and ${printExpr(c.size)} (${c.where})`,
          c.span,
          'use a different index name for each rank',
        );
    return first.size;
  }
  const byName = index.toUpperCase();
  if (scope.ranks.has(byName)) return { k: 'rank', name: byName };
  return fail(
    onLeft
      ? `left-side index ${index} is not bounded by anything`
      : `index ${index} is not bounded by anything`,
    onLeft ? p.lhsSpan : p.span,
    `use ${index} as a plain subscript of a tensor with a known shape, declare rank ${byName} = ..., or declare the output's shape`,
  );
}

/**
 * Inner reductions: their indices must be new and must occur in what they reduce. An index has one
 * range (and one loop) per statement, so a nested reduction cannot reuse an index that is on the left
 * side, summed by the einsum rule, or reduced by an enclosing reduction; sibling reductions may share one.
 */
function checkReductions(body: Expr, lhs: readonly string[]): void {
  const go = (e: Expr, outer: ReadonlySet<string>): void => {
    if (e.k !== 'reduce') {
      walkChildren(e, (c) => go(c, outer));
      return;
    }
    const inner = freeIndices(e.body);
    for (const i of e.indices) {
      if (lhs.includes(i)) fail(`${i} is on the left side, so it cannot be reduced by ${e.op}[${i}]`, e.span);
      if (outer.has(i))
        fail(
          `${i} is already reduced outside ${e.op}[${i}]`,
          e.span,
          `a nested reduction needs an index of its own: ${e.op}[${i}2] ...`,
        );
      if (!inner.includes(i)) fail(`${e.op}[${i}] but ${i} does not appear in what it reduces`, e.span);
    }
    if (new Set(e.indices).size !== e.indices.length)
      fail(`an index is listed twice in ${e.op}[...]`, e.span);
    go(e.body, new Set([...outer, ...e.indices]));
  };
  // The indices the einsum rule sums: free in the whole right side and absent from the left.
  go(body, new Set(freeIndices(body).filter((i) => !lhs.includes(i))));
}

/** Visit the direct sub-expressions of `e`. */
function walkChildren(e: Expr, visit: (c: Expr) => void): void {
  switch (e.k) {
    case 'access':
      return e.subs.forEach(visit);
    case 'neg':
      return visit(e.a);
    case 'binary':
      visit(e.a);
      return visit(e.b);
    case 'call':
      return e.args.forEach(visit);
    case 'kcall':
      e.args.forEach(visit);
      return e.subs.forEach(visit);
    case 'reduce':
      return visit(e.body);
    default:
      return;
  }
}

/** `e + 1` and `e - 1` on sizes, folding constants (the generation axis of an iterative tensor). */
export const plusOne = (e: Expr): Expr =>
  e.k === 'num'
    ? { k: 'num', value: e.value + 1 }
    : { k: 'binary', op: '+', a: e, b: { k: 'num', value: 1 } };
export const minusOne = (e: Expr): Expr => {
  if (e.k === 'num') return { k: 'num', value: e.value - 1 };
  if (e.k === 'binary' && e.op === '+' && e.b.k === 'num' && e.b.value === 1) return e.a;
  return { k: 'binary', op: '-', a: e, b: { k: 'num', value: 1 } };
};
