// The `bounds` pass's arithmetic (dynamic-bounds.ts): integer index expressions and the f32 values
// computed from integers as linear forms Σ coef·term + constant, and, for a mask comparison affine
// in a loop variable v with coefficient ±1, the β from which it is false (maskStart) and its value at
// every v ≥ β (decide).
import { printIndex } from '../ir/loop-print.js';
import type { IExpr, VExpr } from '../ir/loops.js';
import { substitute } from './index-algebra.js';

/** Σ coef·term + constant; terms keyed by their printed form. */
export interface Linear {
  readonly terms: ReadonlyMap<string, { readonly coef: number; readonly expr: IExpr }>;
  readonly constant: number;
}

const HOLE = '#';

export function linearI(e: IExpr): Linear | undefined {
  switch (e.k) {
    case 'const':
      return { terms: new Map(), constant: e.v };
    case 'var':
    case 'iload':
      return { terms: new Map([[printIndex(e), { coef: 1, expr: e }]]), constant: 0 };
    case 'add':
    case 'sub': {
      const a = linearI(e.a);
      const b = linearI(e.b);
      return a && b ? combine(a, b, e.k === 'add' ? 1 : -1) : undefined;
    }
    case 'mul': {
      const a = linearI(e.a);
      const b = linearI(e.b);
      if (a && b && a.terms.size === 0) return scale(b, a.constant);
      if (a && b && b.terms.size === 0) return scale(a, b.constant);
      return undefined;
    }
    default:
      return undefined;
  }
}

/** An f32 value computed from integers (`f32(s_1) * 64 + f32(s_0)`), as a linear form. */
function linearV(e: VExpr): Linear | undefined {
  if (e.k === 'const') return Number.isInteger(e.v) ? { terms: new Map(), constant: e.v } : undefined;
  if (e.k === 'int') return linearI(e.a);
  if (e.k !== 'binary') return undefined;
  if (e.fn !== '+' && e.fn !== '-' && e.fn !== '*') return undefined;
  const a = linearV(e.a);
  const b = linearV(e.b);
  if (!a || !b) return undefined;
  if (e.fn === '*')
    return a.terms.size === 0 ? scale(b, a.constant) : b.terms.size === 0 ? scale(a, b.constant) : undefined;
  return combine(a, b, e.fn === '+' ? 1 : -1);
}

function scale(f: Linear, c: number): Linear {
  if (c === 0) return { terms: new Map(), constant: 0 };
  return {
    terms: new Map([...f.terms].map(([k, t]) => [k, { ...t, coef: t.coef * c }])),
    constant: f.constant * c,
  };
}

function combine(a: Linear, b: Linear, sign: 1 | -1): Linear {
  const terms = new Map(a.terms);
  for (const [k, t] of b.terms) {
    const coef = (terms.get(k)?.coef ?? 0) + sign * t.coef;
    if (coef === 0) terms.delete(k);
    else terms.set(k, { coef, expr: t.expr });
  }
  return { terms, constant: a.constant + sign * b.constant };
}

export function toIExpr(f: Linear): IExpr {
  let e: IExpr = { k: 'const', v: f.constant };
  for (const { coef, expr } of f.terms.values()) {
    const term: IExpr = coef === 1 ? expr : { k: 'mul', a: { k: 'const', v: coef }, b: expr };
    e = e.k === 'const' && e.v === 0 ? term : { k: 'add', a: e, b: term };
  }
  return e;
}

export const patternOf = (index: IExpr, v: string) =>
  printIndex(substitute(index, v, { k: 'var', name: HOLE }));
export const COMPARISONS = new Set(['<', '<=', '>', '>=', '==', '!=']);

/** A comparison `a op b` as D = a − b = c·v + R with c = ±1, or undefined. */
function splitComparison(e: VExpr, v: string): { c: 1 | -1; rest: Linear; fn: string } | undefined {
  if (e.k !== 'binary' || !COMPARISONS.has(e.fn)) return undefined;
  const a = linearV(e.a);
  const b = linearV(e.b);
  if (!a || !b) return undefined;
  const d = combine(a, b, -1);
  const c = d.terms.get(v)?.coef;
  if (c !== 1 && c !== -1) return undefined;
  const terms = new Map(d.terms);
  terms.delete(v);
  return { c, rest: { terms, constant: d.constant }, fn: e.fn };
}

/** β: the comparison is false for every v ≥ β (a mask keeping the head of the loop), or undefined. */
export function maskStart(e: VExpr, v: string): Linear | undefined {
  const s = splitComparison(e, v);
  if (!s) return undefined;
  const { c, rest, fn } = s;
  const negRest = scale(rest, -1);
  const plus = (f: Linear, k: number) => ({ ...f, constant: f.constant + k });
  if (c === 1 && fn === '<=') return plus(negRest, 1); // v + R ≤ 0 fails from v = 1 − R
  if (c === 1 && fn === '<') return negRest;
  if (c === -1 && fn === '>=') return plus(rest, 1); // R − v ≥ 0 fails from v = R + 1
  if (c === -1 && fn === '>') return rest;
  return undefined;
}

/** The comparison's value at every v ≥ β, when the mask decides it. */
export function decide(e: VExpr, v: string, beta: Linear): number | undefined {
  const s = splitComparison(e, v);
  if (!s) return undefined;
  const delta = combine(scale(beta, s.c), s.rest, 1); // D at v = β
  if (delta.terms.size > 0) return undefined;
  const d = delta.constant; // c = 1: D ≥ d over the region; c = −1: D ≤ d
  const up = s.c === 1;
  const table: Record<string, [boolean, number] | undefined> = up
    ? {
        '<=': d >= 1 ? [true, 0] : undefined,
        '<': d >= 0 ? [true, 0] : undefined,
        '==': d >= 1 ? [true, 0] : undefined,
        '!=': d >= 1 ? [true, 1] : undefined,
        '>=': d >= 0 ? [true, 1] : undefined,
        '>': d >= 1 ? [true, 1] : undefined,
      }
    : {
        '>=': d <= -1 ? [true, 0] : undefined,
        '>': d <= 0 ? [true, 0] : undefined,
        '==': d <= -1 ? [true, 0] : undefined,
        '!=': d <= -1 ? [true, 1] : undefined,
        '<=': d <= 0 ? [true, 1] : undefined,
        '<': d <= -1 ? [true, 1] : undefined,
      };
  return table[s.fn]?.[1];
}
