// Recognise a plain contraction `C[b.., m, n] = sum[k] A[..] * B[..] (× constant)` so it can be
// lowered to the `contract` intrinsic, which each backend maps to its fastest form (TVM calls this
// tensorization). Batch indices (in A, B and C) become grid loops around the intrinsic.
import type { Einsum } from '../ir/cascade.js';
import type { Expr } from '../ir/expr.js';
import { evalSize } from '../ir/sizes.js';

export interface ContractionPattern {
  readonly a: Extract<Expr, { k: 'access' }>;
  readonly b: Extract<Expr, { k: 'access' }>;
  readonly m?: string;
  readonly n?: string;
  readonly k: string;
  readonly batch: readonly string[];
  readonly scale: number;
}

/** A value that does not depend on any index: numbers, ranks and builtins of them. */
function constantValue(e: Expr, ranks: ReadonlyMap<string, number>): number | undefined {
  switch (e.k) {
    case 'num':
      return e.value;
    case 'rank':
      return ranks.get(e.name);
    case 'call': {
      const a = e.args.length === 1 ? constantValue(e.args[0]!, ranks) : undefined;
      if (a === undefined) return undefined;
      if (e.fn === 'sqrt') return Math.sqrt(a);
      if (e.fn === 'rsqrt') return 1 / Math.sqrt(a);
      return undefined;
    }
    case 'binary': {
      const a = constantValue(e.a, ranks);
      const b = constantValue(e.b, ranks);
      if (a === undefined || b === undefined) return undefined;
      return e.op === '*'
        ? a * b
        : e.op === '/'
          ? a / b
          : e.op === '+'
            ? a + b
            : e.op === '-'
              ? a - b
              : undefined;
    }
    default:
      return undefined;
  }
}

/** Split a product into its factors; divisions by constants become factors 1/c. */
function factors(e: Expr, ranks: ReadonlyMap<string, number>, out: Expr[], scale: { v: number }): boolean {
  if (e.k === 'binary' && e.op === '*')
    return factors(e.a, ranks, out, scale) && factors(e.b, ranks, out, scale);
  if (e.k === 'binary' && e.op === '/') {
    const c = constantValue(e.b, ranks);
    if (c === undefined) return false;
    scale.v /= c;
    return factors(e.a, ranks, out, scale);
  }
  const c = constantValue(e, ranks);
  if (c !== undefined) scale.v *= c;
  else out.push(e);
  return true;
}

const plainIndices = (a: Extract<Expr, { k: 'access' }>): string[] | undefined => {
  const names = a.subs.map((s) => (s.k === 'index' ? s.name : undefined));
  return names.every((n) => n !== undefined) && new Set(names).size === names.length
    ? (names as string[])
    : undefined;
};

export function matchContraction(
  e: Einsum,
  ranks: ReadonlyMap<string, number>,
): ContractionPattern | undefined {
  if (e.reduce !== 'sum' || e.reduced.length !== 1) return undefined;
  const out = e.subs.map((s) => (s.k === 'index' ? s.name : undefined));
  if (out.some((n) => n === undefined)) return undefined;
  const scale = { v: 1 };
  const fs: Expr[] = [];
  if (!factors(e.body, ranks, fs, scale) || fs.length !== 2) return undefined;
  const [a, b] = fs as [Expr, Expr];
  if (a.k !== 'access' || b.k !== 'access') return undefined;
  const ai = plainIndices(a);
  const bi = plainIndices(b);
  if (!ai || !bi) return undefined;
  const k = e.reduced[0]!;
  if (!ai.includes(k) || !bi.includes(k)) return undefined;
  const o = out as string[];
  const batch = o.filter((i) => ai.includes(i) && bi.includes(i));
  const ms = o.filter((i) => ai.includes(i) && !bi.includes(i));
  const ns = o.filter((i) => bi.includes(i) && !ai.includes(i));
  if (ms.length > 1 || ns.length > 1 || batch.length + ms.length + ns.length !== o.length) return undefined;
  if (ai.length !== batch.length + ms.length + 1 || bi.length !== batch.length + ns.length + 1)
    return undefined;
  // Tiny contractions are not worth the intrinsic's packing.
  const size = (i?: string) => (i ? evalSize(e.ranges.find((r) => r.name === i)!.extent, ranks) : 1);
  if (size(ms[0]) * size(ns[0]) * size(k) < 64) return undefined;
  return { a, b, m: ms[0], n: ns[0], k, batch, scale: scale.v };
}
