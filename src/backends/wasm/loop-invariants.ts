// Loads a scalar loop need not repeat. V8 keeps a memory load inside a loop that stores to memory
// (it cannot prove the store does not alias it), so `q[j]` in `for t { s = Σj q[j]·k[t, j]; S[t] = s }`
// is read again for every t. Before emitting such a loop, its short inner reductions are unrolled
// (their variable becomes a constant in the indices), and every load whose index is fixed over the
// loop and whose buffer the loop does not write is read once, before it, into a local (LICM).
import type { Stmt, VExpr } from '../../ir/loops.js';
import { varsOf } from '../../passes/index-algebra.js';
import { substituteStmts } from './stmt-substitute.js';

/** Inner loops unrolled here: constant trips up to this, a body of reductions only. */
export const UNROLL_TRIPS = 4;

/** The body with its short reduction loops (`for j in 0..4 { acc += … }`) written out. */
export function unrollReductions(body: readonly Stmt[]): Stmt[] {
  return body.flatMap((s) =>
    s.k === 'for' && !s.bound && s.extent <= UNROLL_TRIPS && s.body.every((b) => b.k === 'reduce')
      ? Array.from({ length: s.extent }, (_, k) =>
          substituteStmts(s.body, s.var, { k: 'const', v: k }),
        ).flat()
      : [s],
  );
}

/**
 * Loads of the body's own statements (not under an `if` or a select branch, which may guard an
 * index out of range) that read the same element at every iteration of the loop over `v`.
 */
export function invariantLoads(body: readonly Stmt[], v: string): VExpr[] {
  const bound = new Set([v]);
  const written = new Set<string>();
  const visit = (list: readonly Stmt[]): void =>
    list.forEach((s) => {
      if (s.k === 'for') bound.add(s.var);
      if (s.k === 'let' || s.k === 'set' || s.k === 'reduce') bound.add(s.name);
      if (s.k === 'store') written.add(s.buffer);
      if (s.k === 'contract') written.add(s.out);
      if (s.k === 'for' || s.k === 'if') visit(s.body);
    });
  visit(body);
  const out: VExpr[] = [];
  const look = (e: VExpr): void => {
    if (e.k === 'load' && !written.has(e.buffer) && ![...varsOf(e.index)].some((x) => bound.has(x)))
      out.push(e);
    if (e.k === 'unary') look(e.a);
    if (e.k === 'binary') [e.a, e.b].forEach(look);
    if (e.k === 'select') look(e.cond);
  };
  for (const s of body)
    if (s.k === 'let' || s.k === 'set' || s.k === 'reduce' || s.k === 'store') look(s.value);
  return out;
}
