// Substituting an integer expression for a loop variable in Loop IR statements: every index, integer
// value, guard, loop bound and contract offset (peeling one iteration, collapsing a loop nest).
import type { IExpr, Stmt, VExpr } from '../../ir/loops.js';
import { substitute } from '../../passes/index-algebra.js';

function substituteValue(e: VExpr, v: string, by: IExpr): VExpr {
  switch (e.k) {
    case 'load':
      return { ...e, index: substitute(e.index, v, by) };
    case 'int':
      return { ...e, a: substitute(e.a, v, by) };
    case 'unary':
      return { ...e, a: substituteValue(e.a, v, by) };
    case 'binary':
      return { ...e, a: substituteValue(e.a, v, by), b: substituteValue(e.b, v, by) };
    case 'select':
      return {
        ...e,
        cond: substituteValue(e.cond, v, by),
        a: substituteValue(e.a, v, by),
        b: substituteValue(e.b, v, by),
      };
    default:
      return e;
  }
}

/** The statements with the loop variable v replaced by `by`. */
export function substituteStmts(list: readonly Stmt[], v: string, by: IExpr): Stmt[] {
  const ix = (e: IExpr) => substitute(e, v, by);
  return list.map((s): Stmt => {
    switch (s.k) {
      case 'for':
        return {
          ...s,
          ...(s.bound ? { bound: ix(s.bound) } : {}),
          body: substituteStmts(s.body, v, by),
        };
      case 'if':
        return { ...s, cond: { a: ix(s.cond.a), lt: ix(s.cond.lt) }, body: substituteStmts(s.body, v, by) };
      case 'let':
      case 'set':
      case 'reduce':
        return { ...s, value: substituteValue(s.value, v, by) };
      case 'store':
        return { ...s, index: ix(s.index), value: substituteValue(s.value, v, by) };
      case 'contract':
        return { ...s, outOffset: ix(s.outOffset), aOffset: ix(s.aOffset), bOffset: ix(s.bOffset) };
      default:
        return s;
    }
  });
}
