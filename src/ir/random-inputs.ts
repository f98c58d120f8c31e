// Reproducible random inputs for a bound kernel. f32: uniform in [-1, 1). i32: uniform over the values
// that keep every subscript they appear in inside its axis (a token id below the vocabulary size, a
// position that leaves room for `pos + t`), so random inputs never trip the bounds checks.
import type { BoundKernel } from './bind.js';
import { walkExpr, type Expr } from './expr.js';
import { evalSize } from './sizes.js';
import { seededRandom, sizeOf, type Tensor } from './tensor.js';

export function randomInputs(bound: BoundKernel, seed = 0): Record<string, Tensor> {
  const random = seededRandom(seed);
  const out: Record<string, Tensor> = {};
  for (const p of bound.kernel.params) {
    const info = bound.kernel.tensors[p]!;
    const shape = bound.shapes.get(p)!;
    const n = sizeOf(shape);
    if (info.dtype === 'f32')
      out[p] = { dtype: 'f32', shape, data: Float32Array.from({ length: n }, () => random() * 2 - 1) };
    else {
      const limit = largestSafeValue(bound, p);
      out[p] = {
        dtype: 'i32',
        shape,
        data: Int32Array.from({ length: n }, () => Math.floor(random() * (limit + 1))),
      };
    }
  }
  return out;
}

/** The largest value of i32 tensor `t` that keeps each subscript `t[...] + rest` inside its axis. */
function largestSafeValue(bound: BoundKernel, t: string): number {
  let limit = 9;
  let constrained = false;
  for (const step of bound.kernel.steps) {
    if (step.kind !== 'einsum') continue;
    const ranges = new Map(step.ranges.map((r) => [r.name, evalSize(r.extent, bound.ranks)]));
    walkExpr(step.body, (e) => {
      if (e.k !== 'access') return;
      e.subs.forEach((s, axis) => {
        if (!reads(s, t)) return;
        const rest = maxWithout(s, t, ranges, bound.ranks);
        const room = bound.shapes.get(e.tensor)![axis]! - 1 - rest;
        limit = constrained ? Math.min(limit, room) : room;
        constrained = true;
      });
    });
  }
  return Math.max(0, limit);
}

function reads(e: Expr, t: string): boolean {
  let found = false;
  walkExpr(e, (x) => {
    if (x.k === 'access' && x.tensor === t) found = true;
  });
  return found;
}

/** Upper bound of a subscript with reads of `t` taken as 0 (the rest of `t + rest`). */
function maxWithout(
  e: Expr,
  t: string,
  ranges: ReadonlyMap<string, number>,
  ranks: ReadonlyMap<string, number>,
): number {
  switch (e.k) {
    case 'num':
      return e.value;
    case 'rank':
      return ranks.get(e.name)!;
    case 'index':
      return ranges.get(e.name)! - 1;
    case 'access':
      return 0;
    case 'binary':
      if (e.op === '+') return maxWithout(e.a, t, ranges, ranks) + maxWithout(e.b, t, ranges, ranks);
      if (e.op === '-') return maxWithout(e.a, t, ranges, ranks);
      return maxWithout(e.a, t, ranges, ranks) * maxWithout(e.b, t, ranges, ranks);
    default:
      return 0;
  }
}
