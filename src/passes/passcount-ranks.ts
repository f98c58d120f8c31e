// Which ranks a cascade reduces over, and how each is split into sub-ranks. FuseMax counts passes per
// rank R with its partitions parts(R) = [r] or [r1, r0] (FuseMax §II-C "Partitioning": BK_{e,m1,m0} =
// K_{e,m1×M0+m0}). A rank is identified by its size expression (sizeKey), never by an index name,
// so `m` in one Einsum and `n` of the same extent in another are the same rank.
import type { Einsum, KernelIR, RankInfo } from '../ir/cascade.js';
import { walkExpr, type Expr } from '../ir/expr.js';
import { sizeKey } from '../ir/sizes.js';
import { printExpr } from '../frontend/print-expr.js';

/** One sub-rank of a rank: its id in the pass algorithm ('outer', 'inner', or the whole's key) and size. */
export interface RankPart {
  readonly key: string;
  /** The size of the first split found (another split of the same rank may use other ranks). */
  readonly size: Expr;
}

/** A rank some Einsum reduces over, with its parts: [whole] when unsplit, [outer, inner] when split. */
export interface ReducedRank {
  readonly key: string;
  readonly size: Expr;
  readonly parts: readonly RankPart[];
  /** sizeKey of an index extent → the parts an index of that extent walks (every split counts). */
  readonly members: ReadonlyMap<string, readonly string[]>;
}

export const OUTER = 'outer';
export const INNER = 'inner';

interface Split {
  readonly whole: Expr;
  readonly outer: Expr;
  readonly inner: Expr;
}

/** Index names bound in an Einsum, with their extents. */
const extentOf = (e: Einsum, name: string): Expr | undefined => e.ranges.find((r) => r.name === name)?.extent;

/** `a * B + b` or `b + a * B` over index names a and b: the two sub-rank indices of a split subscript. */
export function splitIndices(sub: Expr): { outer: string; inner: string } | undefined {
  if (sub.k !== 'binary' || sub.op !== '+') return undefined;
  const product = (x: Expr) => (x.k === 'binary' && x.op === '*' && x.a.k === 'index' ? x.a.name : undefined);
  if (product(sub.a) && sub.b.k === 'index') return { outer: product(sub.a)!, inner: sub.b.name };
  if (product(sub.b) && sub.a.k === 'index') return { outer: product(sub.b)!, inner: sub.a.name };
  return undefined;
}

/**
 * Splits declared by rank definitions (`rank M1 = M / M0`) and inferred from subscripts
 * (`K[m1 * M0 + m0, e]` on an axis of extent M), so hand-written 1-pass programs are recognised.
 * A rank may be split more than once (two rewritten chains): all its splits are kept.
 */
function findSplits(kernel: KernelIR, globals: readonly RankInfo[]): Map<string, Split[]> {
  const splits = new Map<string, Split[]>();
  const note = (s: Split) => {
    const known = splits.get(sizeKey(s.whole)) ?? [];
    const same = (x: Split) => sizeKey(x.outer) === sizeKey(s.outer) && sizeKey(x.inner) === sizeKey(s.inner);
    if (!known.some(same)) splits.set(sizeKey(s.whole), [...known, s]);
  };
  for (const r of [...globals, ...kernel.ranks])
    if (r.value?.k === 'binary' && r.value.op === '/')
      note({ whole: r.value.a, outer: { k: 'rank', name: r.name }, inner: r.value.b });
  for (const step of kernel.steps) {
    if (step.kind !== 'einsum') continue;
    walkExpr(step.body, (x) => {
      if (x.k !== 'access') return;
      const info = kernel.tensors[x.tensor];
      x.subs.forEach((sub, axis) => {
        const split = splitIndices(sub);
        const whole = info?.shape[axis];
        if (!split || !whole || axis === info.iterativeAxis) return;
        const outer = extentOf(step, split.outer);
        const inner = extentOf(step, split.inner);
        if (outer && inner) note({ whole, outer, inner });
      });
    });
  }
  return splits;
}

/** Every index an Einsum reduces: the statement's own and those of inner reductions. */
function reducedIndices(e: Einsum): string[] {
  const out = [...e.reduced];
  walkExpr(e.body, (x) => {
    if (x.k === 'reduce') out.push(...x.indices);
  });
  return out;
}

/** The ranks reduced over in `kernel`, in order of first reduction; a reduced sub-rank reports its whole. */
export function reducedRanks(kernel: KernelIR, globals: readonly RankInfo[] = []): ReducedRank[] {
  const splits = findSplits(kernel, globals);
  const parentOf = new Map<string, string>();
  for (const [whole, list] of splits)
    for (const s of list) {
      parentOf.set(sizeKey(s.outer), whole);
      parentOf.set(sizeKey(s.inner), whole);
    }
  const out = new Map<string, ReducedRank>();
  for (const step of kernel.steps) {
    if (step.kind !== 'einsum') continue;
    for (const index of reducedIndices(step)) {
      const extent = extentOf(step, index);
      if (!extent) continue;
      const key = parentOf.get(sizeKey(extent)) ?? sizeKey(extent);
      if (out.has(key)) continue;
      const list = splits.get(key);
      if (!list) {
        out.set(key, { key, size: extent, parts: [{ key, size: extent }], members: new Map([[key, [key]]]) });
        continue;
      }
      const members = new Map<string, string[]>([[key, [OUTER, INNER]]]);
      for (const s of list) {
        members.set(sizeKey(s.outer), [OUTER]);
        members.set(sizeKey(s.inner), [INNER]);
      }
      const parts = [
        { key: OUTER, size: list[0]!.outer },
        { key: INNER, size: list[0]!.inner },
      ];
      out.set(key, { key, size: list[0]!.whole, parts, members });
    }
  }
  return [...out.values()];
}

/** The parts of `rank` that an index of this extent walks: all of them for the whole rank. */
export function partsWalked(rank: ReducedRank, extent: Expr): readonly string[] {
  return rank.members.get(sizeKey(extent)) ?? [];
}

/** True when a tensor axis of this extent lies along `rank` (the whole rank or one of its parts). */
export function alongRank(rank: ReducedRank, extent: Expr): boolean {
  return partsWalked(rank, extent).length > 0;
}

export const printSize = (e: Expr): string => printExpr(e);
