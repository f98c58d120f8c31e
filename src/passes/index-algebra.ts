// Index algebra for Loop IR passes and the SIMD paths: how an integer index of the Loop IR moves with one loop
// variable. An index is "linear in v" when v appears only as `c·v` added to terms free of v; its
// coefficient decides the access: 1 → one v128.load per four lanes, 0 → a splat, anything else →
// not vectorisable along v (a gather). Dependence tests compare two indices term by term.
import { printIndex } from '../ir/loop-print.js';
import type { IExpr, VExpr } from '../ir/loops.js';

/** Σ coef·term + constant; terms are printed sub-expressions (variables or opaque non-affine parts). */
export interface AffineForm {
  readonly terms: ReadonlyMap<string, number>;
  readonly constant: number;
  /** Variables that occur inside an opaque term (a mod, div, min or gather). */
  readonly opaqueVars: ReadonlySet<string>;
  /** Each term's expression (a variable, or the opaque part itself: `pos[0]` stays a load). */
  readonly exprs: ReadonlyMap<string, IExpr>;
}

export function varsOf(e: IExpr, out = new Set<string>()): Set<string> {
  switch (e.k) {
    case 'const':
      return out;
    case 'var':
      out.add(e.name);
      return out;
    case 'iload':
      return varsOf(e.index, out);
    default:
      varsOf(e.a, out);
      return varsOf(e.b, out);
  }
}

function scale(f: AffineForm, c: number): AffineForm {
  if (c === 0) return { terms: new Map(), constant: 0, opaqueVars: new Set(), exprs: new Map() };
  return {
    terms: new Map([...f.terms].map(([t, k]) => [t, k * c])),
    constant: f.constant * c,
    opaqueVars: f.opaqueVars,
    exprs: f.exprs,
  };
}

function combine(a: AffineForm, b: AffineForm, sign: 1 | -1): AffineForm {
  const terms = new Map(a.terms);
  for (const [t, k] of b.terms) {
    const v = (terms.get(t) ?? 0) + sign * k;
    if (v === 0) terms.delete(t);
    else terms.set(t, v);
  }
  return {
    terms,
    constant: a.constant + sign * b.constant,
    opaqueVars: new Set([...a.opaqueVars, ...b.opaqueVars]),
    exprs: new Map([...a.exprs, ...b.exprs]),
  };
}

function opaque(e: IExpr): AffineForm {
  const key = printIndex(e);
  return { terms: new Map([[key, 1]]), constant: 0, opaqueVars: varsOf(e), exprs: new Map([[key, e]]) };
}

/** The affine form of `e`; non-affine parts (products of two variables, mod, div, min, gathers) stay opaque terms. */
export function affineForm(e: IExpr): AffineForm {
  switch (e.k) {
    case 'const':
      return { terms: new Map(), constant: e.v, opaqueVars: new Set(), exprs: new Map() };
    case 'var':
      return {
        terms: new Map([[e.name, 1]]),
        constant: 0,
        opaqueVars: new Set(),
        exprs: new Map([[e.name, e]]),
      };
    case 'add':
      return combine(affineForm(e.a), affineForm(e.b), 1);
    case 'sub':
      return combine(affineForm(e.a), affineForm(e.b), -1);
    case 'mul': {
      const [a, b] = [affineForm(e.a), affineForm(e.b)];
      if (a.terms.size === 0) return scale(b, a.constant);
      if (b.terms.size === 0) return scale(a, b.constant);
      return opaque(e);
    }
    default:
      return opaque(e);
  }
}

/** The coefficient of `v` in `e`, or undefined when `v` occurs non-linearly (inside an opaque term). */
export function coefficientOf(e: IExpr, v: string): number | undefined {
  const f = affineForm(e);
  if (f.opaqueVars.has(v)) return undefined;
  return f.terms.get(v) ?? 0;
}

/** a − b when it is a constant (the same terms on both sides), else undefined. */
export function constantDifference(a: IExpr, b: IExpr): number | undefined {
  const d = combine(affineForm(a), affineForm(b), -1);
  return d.terms.size === 0 ? d.constant : undefined;
}

/**
 * The largest g such that a − b is always a multiple of g (0 when a ≡ b): every coefficient and the
 * constant of the difference are multiples of g, opaque terms included (their values are integers).
 */
export function differenceStride(a: IExpr, b: IExpr): number {
  const d = combine(affineForm(a), affineForm(b), -1);
  const gcd = (x: number, y: number): number => (y === 0 ? Math.abs(x) : gcd(y, x % y));
  return [...d.terms.values(), d.constant].reduce(gcd, 0);
}

/** Whether the integer expression reads any of `vars` (directly or through a gather's index). */
export function dependsOn(e: IExpr, vars: ReadonlySet<string>): boolean {
  for (const v of varsOf(e)) if (vars.has(v)) return true;
  return false;
}

/** Whether `e` contains a gather (an i32 buffer read): its value is unknown at compile time. */
export function hasGather(e: IExpr): boolean {
  if (e.k === 'iload') return true;
  if (e.k === 'const' || e.k === 'var') return false;
  return hasGather(e.a) || hasGather(e.b);
}

/** Calls `visit` on every load of a value expression (and the gathers inside their indices). */
export function loadsOf(e: VExpr, visit: (buffer: string, index: IExpr) => void): void {
  switch (e.k) {
    case 'const':
    case 'reg':
      return;
    case 'load':
      visit(e.buffer, e.index);
      gathersOf(e.index, visit);
      return;
    case 'int':
      gathersOf(e.a, visit);
      return;
    case 'unary':
      loadsOf(e.a, visit);
      return;
    case 'binary':
      loadsOf(e.a, visit);
      loadsOf(e.b, visit);
      return;
    case 'select':
      loadsOf(e.cond, visit);
      loadsOf(e.a, visit);
      loadsOf(e.b, visit);
  }
}

export function gathersOf(e: IExpr, visit: (buffer: string, index: IExpr) => void): void {
  if (e.k === 'iload') {
    visit(e.buffer, e.index);
    gathersOf(e.index, visit);
  } else if (e.k !== 'const' && e.k !== 'var') {
    gathersOf(e.a, visit);
    gathersOf(e.b, visit);
  }
}

/** Every integer expression of a value (load indices and `int` operands), for variable checks. */
export function indicesOf(e: VExpr, visit: (index: IExpr) => void): void {
  switch (e.k) {
    case 'const':
    case 'reg':
      return;
    case 'load':
      return visit(e.index);
    case 'int':
      return visit(e.a);
    case 'unary':
      return indicesOf(e.a, visit);
    case 'binary':
      indicesOf(e.a, visit);
      return indicesOf(e.b, visit);
    case 'select':
      indicesOf(e.cond, visit);
      indicesOf(e.a, visit);
      return indicesOf(e.b, visit);
  }
}

/** Registers a value expression reads. */
export function regsOf(e: VExpr, out = new Set<string>()): Set<string> {
  switch (e.k) {
    case 'reg':
      out.add(e.name);
      return out;
    case 'unary':
      return regsOf(e.a, out);
    case 'binary':
      regsOf(e.a, out);
      return regsOf(e.b, out);
    case 'select':
      regsOf(e.cond, out);
      regsOf(e.a, out);
      return regsOf(e.b, out);
    default:
      return out;
  }
}

/** Substitutes `v := by` in an index. */
export function substitute(e: IExpr, v: string, by: IExpr): IExpr {
  switch (e.k) {
    case 'const':
      return e;
    case 'var':
      return e.name === v ? by : e;
    case 'iload':
      return { ...e, index: substitute(e.index, v, by) };
    default:
      return { ...e, a: substitute(e.a, v, by), b: substitute(e.b, v, by) };
  }
}

/** An affine index rebuilt as Σ coef·term + constant (opaque parts kept), for readable, cheap bounds. */
export function simplifyIndex(e: IExpr): IExpr {
  const f = affineForm(e);
  let out: IExpr | undefined;
  for (const [key, c] of f.terms) {
    const x = f.exprs.get(key)!;
    const term: IExpr = c === 1 ? x : { k: 'mul', a: x, b: { k: 'const', v: c } };
    out = out ? { k: 'add', a: out, b: term } : term;
  }
  if (!out) return { k: 'const', v: f.constant };
  return f.constant === 0 ? out : { k: 'add', a: out, b: { k: 'const', v: f.constant } };
}
