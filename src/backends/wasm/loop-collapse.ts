// Collapsing perfect loop nests whose two variables only ever appear as one row-major position:
// `for a in 0..A { for b in 0..B { … x[a·B·s + b·s] … } }` is `for a_b in 0..A·B { … x[a_b·s] … }` (the
// same iterations in the same order, so results are bit-identical). Ein lowers a head of size 2J
// split into its pairs (j, c) as two loops, and a sum over all heads as four (g, r, j, c); collapsed,
// they are one contiguous loop the vectorizer runs four lanes at a time (simd-legality.ts), where
// loops of 2 or 4 stay scalar. OpenMP's `collapse` clause, restricted to the affine case.
import type { IExpr, LoopKernel, Stmt, VExpr } from '../../ir/loops.js';
import { coefficientOf } from '../../passes/index-algebra.js';
import { substituteStmts } from './stmt-substitute.js';

type ForStmt = Extract<Stmt, { k: 'for' }>;

/** Loop kinds that run in order on WASM (grid loops are split across threads by their extent). */
const ORDERED = new Set<ForStmt['kind']>(['serial', 'thread', 'vector']);

export function collapseLoops(kernel: LoopKernel): LoopKernel {
  // Loop variables name one loop each in a kernel (the code generator keys extents by name), so a
  // collapsed loop gets a fresh name.
  const names = new Set<string>();
  const collect = (list: readonly Stmt[]): void =>
    list.forEach((s) => {
      if (s.k === 'for') names.add(s.var);
      if (s.k === 'for' || s.k === 'if') collect(s.body);
    });
  collect(kernel.body);
  const fresh = (base: string) => {
    let name = base;
    for (let i = 2; names.has(name); i++) name = `${base}_${i}`;
    names.add(name);
    return name;
  };
  const collapse = (s: Stmt): Stmt => {
    if (s.k === 'if') return { ...s, body: s.body.map(collapse) };
    if (s.k !== 'for') return s;
    const body = s.body.map(collapse);
    const [inner] = body;
    if (
      body.length !== 1 ||
      inner?.k !== 'for' ||
      !ORDERED.has(s.kind) ||
      !ORDERED.has(inner.kind) ||
      s.bound ||
      inner.bound ||
      !indices(inner.body).every((e) => rowMajor(e, s.var, inner.var, inner.extent))
    )
      return { ...s, body };
    // c·(a·B + b) is c·ab over the collapsed range once a is 0 and b is renamed ab.
    const v = fresh(`${s.var}_${inner.var}`);
    const renamed = substituteStmts(inner.body, inner.var, { k: 'var', name: v });
    return {
      ...inner,
      var: v,
      extent: s.extent * inner.extent,
      body: substituteStmts(renamed, s.var, { k: 'const', v: 0 }),
    };
  };
  return { ...kernel, body: kernel.body.map(collapse) };
}

/** In `e`, a and b appear only as c·(a·B + b) (or not at all). */
function rowMajor(e: IExpr, a: string, b: string, extentB: number): boolean {
  const ca = coefficientOf(e, a);
  const cb = coefficientOf(e, b);
  return ca !== undefined && cb !== undefined && ca === cb * extentB;
}

/** Every integer expression of the statements: indices, integer values, guards and loop bounds. */
function indices(list: readonly Stmt[]): IExpr[] {
  const out: IExpr[] = [];
  const value = (e: VExpr): void => {
    if (e.k === 'load') out.push(e.index);
    if (e.k === 'int') out.push(e.a);
    if (e.k === 'unary') value(e.a);
    if (e.k === 'binary') [e.a, e.b].forEach(value);
    if (e.k === 'select') [e.cond, e.a, e.b].forEach(value);
  };
  for (const s of list) {
    if (s.k === 'let' || s.k === 'set' || s.k === 'reduce') value(s.value);
    if (s.k === 'store') (out.push(s.index), value(s.value));
    if (s.k === 'if') out.push(s.cond.a, s.cond.lt, ...indices(s.body));
    if (s.k === 'for') out.push(...(s.bound ? [s.bound] : []), ...indices(s.body));
    if (s.k === 'contract') out.push(s.outOffset, s.aOffset, s.bOffset);
  }
  return out;
}
