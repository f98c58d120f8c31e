// Size expressions: ranks and integer arithmetic. A normal form (a polynomial over rank names, with
// any division kept as an opaque atom) decides symbolic equality; `evalSize` binds them to numbers.
import { EinError } from '../frontend/diagnostics.js';
import { mapExpr, walkExpr, type Expr } from './expr.js';

export type RankValues = ReadonlyMap<string, number>;

/** Evaluate a size or subscript-free integer expression; throws EinError for unbound ranks. */
export function evalSize(e: Expr, ranks: RankValues): number {
  switch (e.k) {
    case 'num':
      return e.value;
    case 'rank': {
      const v = ranks.get(e.name);
      if (v === undefined)
        throw new EinError({
          message: `rank ${e.name} has no value`,
          span: e.span,
          hint: `pass --rank ${e.name}=INT, or an input whose shape sets it`,
        });
      return v;
    }
    case 'neg':
      return -evalSize(e.a, ranks);
    case 'binary': {
      const a = evalSize(e.a, ranks);
      const b = evalSize(e.b, ranks);
      switch (e.op) {
        case '+':
          return a + b;
        case '-':
          return a - b;
        case '*':
          return a * b;
        case '/':
          if (b === 0 || a % b !== 0)
            throw new EinError({
              message: `${a} / ${b} does not divide evenly`,
              span: e.span,
              hint: 'rank sizes are whole numbers',
            });
          return a / b;
        default:
          break;
      }
      break;
    }
    default:
      break;
  }
  throw new EinError({
    message: `not a size expression`,
    span: e.span,
    hint: 'sizes use numbers, ranks and + - * /',
  });
}

type Poly = Map<string, number>; // monomial key (sorted factors joined by '*', '' for 1) -> coefficient

function polyOf(e: Expr): Poly {
  switch (e.k) {
    case 'num':
      return new Map([['', e.value]]);
    case 'rank':
      return new Map([[e.name, 1]]);
    case 'neg':
      return scale(polyOf(e.a), -1);
    case 'binary':
      if (e.op === '+') return add(polyOf(e.a), polyOf(e.b));
      if (e.op === '-') return add(polyOf(e.a), scale(polyOf(e.b), -1));
      if (e.op === '*') return mul(polyOf(e.a), polyOf(e.b));
      return new Map([[`(${polyKey(polyOf(e.a))})/(${polyKey(polyOf(e.b))})`, 1]]);
    default:
      return new Map([[`?${JSON.stringify(e)}`, 1]]);
  }
}

function add(a: Poly, b: Poly): Poly {
  const out = new Map(a);
  for (const [k, v] of b) out.set(k, (out.get(k) ?? 0) + v);
  return out;
}
function scale(a: Poly, s: number): Poly {
  return new Map([...a].map(([k, v]) => [k, v * s]));
}
function mul(a: Poly, b: Poly): Poly {
  let out: Poly = new Map();
  for (const [ka, va] of a)
    for (const [kb, vb] of b) {
      const key = [...ka.split('*'), ...kb.split('*')].filter(Boolean).sort().join('*');
      out = add(out, new Map([[key, va * vb]]));
    }
  return out;
}
function polyKey(p: Poly): string {
  return [...p]
    .filter(([, v]) => v !== 0)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${v}${k ? '*' + k : ''}`)
    .join('+');
}

/** A canonical string for a size expression: equal strings mean equal sizes for every rank value. */
export function sizeKey(e: Expr): string {
  return polyKey(polyOf(e)) || '0';
}

export function sameSize(a: Expr, b: Expr): boolean {
  return sizeKey(a) === sizeKey(b);
}

/** Replace ranks by expressions (used when a call binds a callee's ranks to the caller's sizes). */
export function substituteRanks(e: Expr, bindings: ReadonlyMap<string, Expr>): Expr {
  return mapExpr(e, (x) => (x.k === 'rank' ? (bindings.get(x.name) ?? x) : x));
}

/** Ranks named in an expression. */
export function ranksIn(e: Expr, out: Set<string> = new Set()): Set<string> {
  walkExpr(e, (x) => {
    if (x.k === 'rank') out.add(x.name);
  });
  return out;
}
