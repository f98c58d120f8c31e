// Algebra on expression trees for the online rewrite: recognise a weighted sum Σ_m SN·w / SD however
// it is spelled (SN·V/SD, (Σ SN·V)/SD, A·V with A = SN/SD, where(mask, SN·V, 0)/SD, ...). Two facts
// do the work: SD does not depend on m, so it factors out of the sum; and the sum is linear in SN,
// so it can be accumulated block by block and rescaled (FuseMax §IV-D, Cascade 5).
import { mapExpr, walkExpr, type Expr } from '../ir/expr.js';

type Access = Extract<Expr, { k: 'access' }>;
type Reduce = Extract<Expr, { k: 'reduce' }>;

export const ONE: Expr = { k: 'num', value: 1 };
const isZero = (e: Expr) => e.k === 'num' && e.value === 0;
const isOne = (e: Expr) => e.k === 'num' && e.value === 1;

/** Replace index variables simultaneously (no capture: checked IR never rebinds a free index). */
export function substituteIndices(e: Expr, by: ReadonlyMap<string, Expr>): Expr {
  return mapExpr(e, (x) => (x.k === 'index' ? (by.get(x.name) ?? x) : x));
}

export function readsAny(e: Expr, tensors: ReadonlySet<string>): boolean {
  let found = false;
  walkExpr(e, (x) => (found ||= x.k === 'access' && tensors.has(x.tensor)));
  return found;
}

export function accessesOf(e: Expr, tensor: string): Access[] {
  const out: Access[] = [];
  walkExpr(e, (x) => {
    if (x.k === 'access' && x.tensor === tensor) out.push(x);
  });
  return out;
}

export function hasInfinity(e: Expr): boolean {
  let found = false;
  walkExpr(e, (x) => (found ||= x.k === 'num' && !Number.isFinite(x.value)));
  return found;
}

const mul = (a: Expr, b: Expr): Expr => (isOne(a) ? b : isOne(b) ? a : { k: 'binary', op: '*', a, b });
const div = (a: Expr, b: Expr): Expr => (isOne(b) ? a : { k: 'binary', op: '/', a, b });

/** `base` times `factor` raised to `power` (a whole number), as plain products and quotients. */
export function timesPower(base: Expr, factor: Expr, power: number): Expr {
  let out = base;
  for (let i = 0; i < Math.abs(power); i++) out = power > 0 ? mul(out, factor) : div(out, factor);
  return out;
}

/**
 * Pull every multiplicative occurrence of a factor out of `e` (SD out of Σ_m SN·V/SD): returns the
 * total power of the factor and `e` without it. Descends through *, /, neg, where(c, ·, 0) and sums,
 * which is sound for a factor that is finite, non-zero and free of the summed indices.
 */
export function peelFactor(
  e: Expr,
  isFactor: (a: Access) => boolean,
  sign = 1,
): { power: number; rest: Expr } {
  if (e.k === 'access' && isFactor(e)) return { power: sign, rest: ONE };
  if (e.k === 'binary' && (e.op === '*' || e.op === '/')) {
    const a = peelFactor(e.a, isFactor, sign);
    const b = peelFactor(e.b, isFactor, e.op === '*' ? sign : -sign);
    const rest = e.op === '*' ? mul(a.rest, b.rest) : div(a.rest, b.rest);
    return { power: a.power + b.power, rest };
  }
  if (e.k === 'neg') {
    const a = peelFactor(e.a, isFactor, sign);
    return { power: a.power, rest: { ...e, a: a.rest } };
  }
  if (sign > 0 && e.k === 'call' && e.fn === 'where') {
    const [c, x, y] = e.args as [Expr, Expr, Expr];
    if (isZero(y) || isZero(x)) {
      const inner = peelFactor(isZero(y) ? x : y, isFactor, sign);
      return {
        power: inner.power,
        rest: { ...e, args: isZero(y) ? [c, inner.rest, y] : [c, x, inner.rest] },
      };
    }
  }
  if (sign > 0 && e.k === 'reduce' && e.op === 'sum') {
    const body = peelFactor(e.body, isFactor, sign);
    return { power: body.power, rest: { ...e, body: body.rest } };
  }
  return { power: 0, rest: e };
}

/** True when `e` is linear in the single access `target` reads, every other operand free of `chain`. */
export function linearIn(e: Expr, target: string, chain: ReadonlySet<string>): boolean {
  const free = (x: Expr) => !readsAny(x, chain);
  const holds = (x: Expr) => readsAny(x, new Set([target]));
  switch (e.k) {
    case 'access':
      return e.tensor === target && e.subs.every(free);
    case 'neg':
      return linearIn(e.a, target, chain);
    case 'binary':
      if (e.op === '*')
        return holds(e.a)
          ? linearIn(e.a, target, chain) && free(e.b)
          : linearIn(e.b, target, chain) && free(e.a);
      if (e.op === '/') return linearIn(e.a, target, chain) && free(e.b);
      return false;
    case 'call': {
      if (e.fn !== 'where') return false;
      const [c, x, y] = e.args as [Expr, Expr, Expr];
      if (!free(c)) return false;
      return (isZero(y) && linearIn(x, target, chain)) || (isZero(x) && linearIn(y, target, chain));
    }
    default:
      return false;
  }
}

/**
 * Split `e` at the one sum that encloses `target`: `e = outer(Σ body)` with `outer` multiplicative
 * (*, /, neg, where(c, ·, 0)) and free of `chain` apart from the hole.
 */
export function splitAtSum(
  e: Expr,
  target: string,
  chain: ReadonlySet<string>,
): { sum: Reduce; outer: (hole: Expr) => Expr } | undefined {
  const holds = (x: Expr) => readsAny(x, new Set([target]));
  const free = (x: Expr) => !readsAny(x, chain);
  if (e.k === 'reduce') return e.op === 'sum' ? { sum: e, outer: (h) => h } : undefined;
  if (e.k === 'neg') {
    const inner = splitAtSum(e.a, target, chain);
    return inner && { sum: inner.sum, outer: (h) => ({ ...e, a: inner.outer(h) }) };
  }
  if (e.k === 'binary' && (e.op === '*' || e.op === '/')) {
    const left = holds(e.a);
    if ((left && !free(e.b)) || (!left && (e.op === '/' || !free(e.a)))) return undefined;
    const inner = splitAtSum(left ? e.a : e.b, target, chain);
    if (!inner) return undefined;
    return { sum: inner.sum, outer: (h) => ({ ...e, [left ? 'a' : 'b']: inner.outer(h) }) as Expr };
  }
  if (e.k === 'call' && e.fn === 'where') {
    const [c, x, y] = e.args as [Expr, Expr, Expr];
    if (!free(c) || !(isZero(x) || isZero(y))) return undefined;
    const inner = splitAtSum(isZero(y) ? x : y, target, chain);
    if (!inner) return undefined;
    return {
      sum: inner.sum,
      outer: (h) => ({ ...e, args: isZero(y) ? [c, inner.outer(h), y] : [c, x, inner.outer(h)] }),
    };
  }
  return undefined;
}
