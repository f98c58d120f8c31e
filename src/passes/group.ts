// Analysis of one fusion group (the Einsums of one kernel): which indices are shared parallel
// dimensions ("outer"), whether an iterative rank can be streamed (one serial loop that all the
// per-block Einsums share, FuseMax's 1-pass mapping), and where each tensor lives: in global memory,
// or as a per-thread slice on chip whose size no longer depends on the outer and streamed ranks.
import type { Einsum, KernelIR } from '../ir/cascade.js';
import { walkExpr, type Expr } from '../ir/expr.js';
import { evalSize } from '../ir/sizes.js';
import { lhsIndex } from '../frontend/ranges.js';

export interface OuterDim {
  /** Display name: the index name in the group's first Einsum that has it. */
  readonly name: string;
  readonly extent: number;
}

export interface Placement {
  readonly tensor: string;
  readonly local: boolean;
  /** Axes stored (for a local slice); the others are fixed by the thread or the stream. */
  readonly keptAxes: readonly number[];
  /** Generation axis stored modulo 2 (an iterative tensor streamed generation by generation). */
  readonly modTwoAxis?: number;
  /** Elements per thread slot (local) or in all (global). */
  readonly size: number;
}

export interface GroupPlan {
  readonly einsums: readonly Einsum[];
  readonly outer: readonly OuterDim[];
  /** Per Einsum (same order), the index name that plays each outer dimension. */
  readonly outerIndex: readonly (readonly string[])[];
  /** The streamed serial rank: its extent, and per Einsum the index that walks it (undefined: outside). */
  readonly stream?: { readonly extent: number; readonly index: readonly (string | undefined)[] };
  readonly placements: ReadonlyMap<string, Placement>;
  /** Bytes of on-chip memory one thread slot needs (the sum of local slices). */
  readonly localBytesPerSlot: number;
  /** False when some Einsum reads, along a parallel dimension, an element another thread produces. */
  readonly valid: boolean;
}

export interface GroupContext {
  readonly kernel: KernelIR;
  readonly ranks: ReadonlyMap<string, number>;
  readonly shapes: ReadonlyMap<string, readonly number[]>;
  /** Tensor → indices (into the kernel's Einsum list) of the Einsums that read it. */
  readonly readers: ReadonlyMap<string, readonly Einsum[]>;
}

/** GroupContext's `readers`: each tensor's reading Einsums, in program order. */
export function readersOf(einsums: readonly Einsum[]): Map<string, Einsum[]> {
  const readers = new Map<string, Einsum[]>();
  for (const e of einsums)
    walkExpr(e.body, (x) => {
      if (x.k !== 'access') return;
      const list = readers.get(x.tensor) ?? [];
      if (!list.includes(e)) readers.set(x.tensor, [...list, e]);
    });
  return readers;
}

export const extentOf = (e: Einsum, index: string, ranks: ReadonlyMap<string, number>): number =>
  evalSize(e.ranges.find((r) => r.name === index)!.extent, ranks);

/** Plain left-side indices (for an iterative update, without its generation index). */
export function parallelIndices(e: Einsum): string[] {
  return e.subs.filter((s) => s.k === 'index').map((s) => (s as { name: string }).name);
}

export function readsOf(e: Einsum): Extract<Expr, { k: 'access' }>[] {
  const out: Extract<Expr, { k: 'access' }>[] = [];
  walkExpr(e.body, (x) => {
    if (x.k === 'access') out.push(x);
  });
  return out;
}

/**
 * Map the group's outer dimensions onto a new Einsum `e` through what it reads from the group: the
 * index it uses plainly at the axis where the producer keeps that dimension. Dimensions that cannot
 * be mapped are dropped (the group gets fewer parallel dimensions). Unrelated Einsums map by extent.
 */
export function mapOuter(
  group: Pick<GroupPlan, 'einsums' | 'outer' | 'outerIndex'>,
  e: Einsum,
  ranks: ReadonlyMap<string, number>,
): { keep: boolean[]; indices: (string | undefined)[] } {
  const mine = parallelIndices(e);
  const indices: (string | undefined)[] = group.outer.map(() => undefined);
  const conflict: boolean[] = group.outer.map(() => false);
  let related = false;
  for (const read of readsOf(e)) {
    const at = group.einsums.findIndex((x) => x.tensor === read.tensor);
    if (at < 0) continue;
    related = true;
    const producer = group.einsums[at]!;
    group.outer.forEach((_, d) => {
      const axis = producer.subs.findIndex((s) => s.k === 'index' && s.name === group.outerIndex[at]![d]);
      const sub = axis >= 0 ? read.subs[axis] : undefined;
      const v = sub?.k === 'index' && mine.includes(sub.name) ? sub.name : undefined;
      if (v === undefined || (indices[d] !== undefined && indices[d] !== v)) conflict[d] = true;
      else indices[d] = v;
    });
  }
  if (!related) {
    // An Einsum that reads nothing from the group (an iterative init, a sibling): match by extent.
    group.outer.forEach((dim, d) => {
      const matches = mine.filter((v) => extentOf(e, v, ranks) === dim.extent && !indices.includes(v));
      if (matches.length === 1) indices[d] = matches[0];
      else conflict[d] = true;
    });
  }
  // One index cannot play two parallel dimensions (a diagonal read such as `C[f, f]`).
  group.outer.forEach((_, d) => {
    if (indices[d] !== undefined && indices.indexOf(indices[d]) < d) conflict[d] = true;
  });
  const keep = group.outer.map((_, d) => !conflict[d] && indices[d] !== undefined);
  return { keep, indices: indices.map((v, d) => (keep[d] ? v : undefined)) };
}

/** Order and stream detection, then placements. Returns undefined if the Einsums cannot share a kernel. */
export function planGroup(
  einsums: readonly Einsum[],
  outer: readonly OuterDim[],
  outerIndex: readonly (readonly string[])[],
  ctx: GroupContext,
): GroupPlan {
  const stream = findStream(einsums, outerIndex, ctx.ranks);
  const ordered = stream ? streamOrder(einsums, stream) : { einsums, index: undefined };
  const reorder = ordered.einsums.map((e) => einsums.indexOf(e));
  const plan = {
    einsums: ordered.einsums,
    outer,
    outerIndex: reorder.map((i) => outerIndex[i]!),
    stream: ordered.index && stream ? { extent: stream.extent, index: ordered.index } : undefined,
  };
  const placements = new Map<string, Placement>();
  let localBytesPerSlot = 0;
  for (const e of plan.einsums) {
    if (placements.has(e.tensor)) continue;
    const p = place(e.tensor, plan, ctx);
    placements.set(e.tensor, p);
    if (p.local) localBytesPerSlot += p.size * 4;
  }
  return { ...plan, placements, localBytesPerSlot, valid: threadLocalReads(plan) };
}

interface Stream {
  readonly extent: number;
  /** Per Einsum (input order): its streamed index, if it is in the stream. */
  readonly index: readonly (string | undefined)[];
}

/**
 * The streamed rank follows the data: it starts at the generation index of each iterative update
 * and spreads to every Einsum that reads a streamed tensor at its streamed axis with a plain left-side
 * index (forward), or whose tensor a streamed Einsum reads that way (backward).
 */
function findStream(
  einsums: readonly Einsum[],
  outerIndex: readonly (readonly string[])[],
  ranks: ReadonlyMap<string, number>,
): Stream | undefined {
  const banned = new Set<number>();
  for (;;) {
    const index = propagateStream(einsums, outerIndex, banned);
    if (index.every((x) => x === undefined)) return undefined;
    // A streamed Einsum may read a streamed tensor only at its own position (m1, or m1 + 1 of a
    // generation): anything else needs the whole tensor, which the stream never holds at once.
    const offender = misreadProducer(einsums, index);
    if (offender === undefined) {
      const extents = new Set(
        index
          .map((v, i) => (v === undefined ? undefined : extentOf(einsums[i]!, v, ranks)))
          .filter((x) => x !== undefined),
      );
      return extents.size === 1 ? { extent: [...extents][0]!, index } : undefined;
    }
    // Move the misread producer before the stream when it does not depend on it; else give up.
    if (einsums[offender]!.subs.some((s) => s.k === 'binary') || dependsOnStreamed(einsums, index, offender))
      return undefined;
    banned.add(offender);
  }
}

function propagateStream(
  einsums: readonly Einsum[],
  outerIndex: readonly (readonly string[])[],
  banned: ReadonlySet<number>,
): (string | undefined)[] {
  const index: (string | undefined)[] = einsums.map((e) => {
    const gen = e.subs.find((s) => s.k === 'binary');
    return gen ? lhsIndex(gen) : undefined;
  });
  const axisOf = (i: number): number => einsums[i]!.subs.findIndex((s) => lhsIndex(s) === index[i]);
  const candidate = (i: number, v: string | undefined): boolean =>
    v !== undefined &&
    !banned.has(i) &&
    parallelIndices(einsums[i]!).includes(v) &&
    !outerIndex[i]!.includes(v);
  for (let changed = true; changed;) {
    changed = false;
    einsums.forEach((e, i) => {
      for (const read of readsOf(e)) {
        const j = einsums.findIndex((x, jj) => x.tensor === read.tensor && index[jj] !== undefined);
        if (j < 0) continue;
        const sub = read.subs[axisOf(j)];
        const v =
          sub?.k === 'index' ? sub.name : sub?.k === 'binary' && sub.a.k === 'index' ? sub.a.name : undefined;
        if (index[i] === undefined && candidate(i, v)) {
          index[i] = v;
          changed = true;
        }
      }
      if (index[i] === undefined) return;
      // Backward: producers of what this Einsum reads at its stream position.
      for (const read of readsOf(e)) {
        read.subs.forEach((sub, axis) => {
          if (sub.k !== 'index' || sub.name !== index[i]) return;
          einsums.forEach((x, j) => {
            if (x.tensor !== read.tensor || index[j] !== undefined) return;
            const v = lhsIndex(x.subs[axis]!);
            if (candidate(j, v)) {
              index[j] = v;
              changed = true;
            }
          });
        });
      }
    });
  }
  return index;
}

/** The first streamed producer some streamed Einsum reads away from its own stream position. */
function misreadProducer(
  einsums: readonly Einsum[],
  index: readonly (string | undefined)[],
): number | undefined {
  for (let i = 0; i < einsums.length; i++) {
    const own = index[i];
    if (own === undefined) continue;
    for (const read of readsOf(einsums[i]!)) {
      for (let j = 0; j < einsums.length; j++) {
        const x = einsums[j]!;
        if (x.tensor !== read.tensor || index[j] === undefined || x.subs.some((s) => s.k === 'num')) continue;
        const axis = x.subs.findIndex((s) => lhsIndex(s) === index[j]);
        const sub = read.subs[axis]!;
        const plain = sub.k === 'index' && sub.name === own;
        const next =
          sub.k === 'binary' &&
          sub.op === '+' &&
          sub.a.k === 'index' &&
          sub.a.name === own &&
          sub.b.k === 'num' &&
          sub.b.value === 1;
        const generational = x.subs.some((s) => s.k === 'binary');
        if (!(plain || (generational && next))) return j;
      }
    }
  }
  return undefined;
}

function dependsOnStreamed(
  einsums: readonly Einsum[],
  index: readonly (string | undefined)[],
  i: number,
): boolean {
  const seen = new Set<number>();
  const visit = (k: number): boolean =>
    readsOf(einsums[k]!).some((r) =>
      einsums.some((x, j) => {
        if (x.tensor !== r.tensor || j === k || seen.has(j)) return false;
        seen.add(j);
        return index[j] !== undefined || visit(j);
      }),
    );
  return visit(i);
}

/** Einsums outside the stream that it does not depend on go first; those that depend on it go last. */
function streamOrder(
  einsums: readonly Einsum[],
  stream: Stream,
): { einsums: Einsum[]; index: (string | undefined)[] } | { einsums: readonly Einsum[]; index: undefined } {
  const inStream = new Set(einsums.filter((_, i) => stream.index[i] !== undefined));
  const dependsOnStream = new Set<Einsum>();
  for (const e of einsums) {
    if (inStream.has(e)) continue;
    const producers = readsOf(e).flatMap((r) => einsums.filter((x) => x.tensor === r.tensor && x !== e));
    if (producers.some((p) => inStream.has(p) || dependsOnStream.has(p))) dependsOnStream.add(e);
  }
  const pre = einsums.filter((e) => !inStream.has(e) && !dependsOnStream.has(e));
  const mid = einsums.filter((e) => inStream.has(e));
  const post = einsums.filter((e) => dependsOnStream.has(e));
  // The stream may not read what comes after it.
  const postTensors = new Set(post.map((e) => e.tensor));
  if (mid.some((e) => readsOf(e).some((r) => postTensors.has(r.tensor))))
    return { einsums, index: undefined };
  const order = [...pre, ...mid, ...post];
  return { einsums: order, index: order.map((e) => stream.index[einsums.indexOf(e)]) };
}

function place(
  tensor: string,
  plan: Omit<GroupPlan, 'placements' | 'localBytesPerSlot' | 'valid'>,
  ctx: GroupContext,
): Placement {
  const shape = ctx.shapes.get(tensor)!;
  const info = ctx.kernel.tensors[tensor]!;
  const all = shape.reduce((a, b) => a * b, 1);
  const global: Placement = { tensor, local: false, keptAxes: shape.map((_, a) => a), size: all };
  if (info.kind !== 'intermediate') return global;
  const readers = ctx.readers.get(tensor) ?? [];
  if (readers.some((r) => !plan.einsums.includes(r))) return global;
  const producers = plan.einsums.filter((e) => e.tensor === tensor);
  const main = producers.find((e) => e.subs.some((s) => s.k === 'binary')) ?? producers[0]!;
  const mi = plan.einsums.indexOf(main);
  const dropped = new Set<number>();
  main.subs.forEach((s, axis) => {
    if (s.k === 'index' && plan.outerIndex[mi]!.includes(s.name)) dropped.add(axis);
  });
  let modTwoAxis: number | undefined;
  if (plan.stream) {
    const streamed = plan.stream.index[mi];
    const axis = main.subs.findIndex((s) => lhsIndex(s) === streamed && streamed !== undefined);
    if (axis >= 0 && streamReadsOnly(tensor, axis, plan, info.iterativeAxis === axis)) {
      if (info.iterativeAxis === axis) modTwoAxis = axis;
      else dropped.add(axis);
    }
  }
  const keptAxes = shape.map((_, a) => a).filter((a) => !dropped.has(a));
  const size = keptAxes.reduce((n, a) => n * (a === modTwoAxis ? 2 : shape[a]!), 1);
  return { tensor, local: true, keptAxes, size, ...(modTwoAxis !== undefined ? { modTwoAxis } : {}) };
}

/**
 * A streamed tensor can drop (or fold to two generations) its streamed axis when every read is at
 * the reader's own stream position (`m1`, or `m1 + 1` for a generation) or, for an iterative tensor,
 * at its final generation after the stream.
 */
function streamReadsOnly(
  tensor: string,
  axis: number,
  plan: Omit<GroupPlan, 'placements' | 'localBytesPerSlot' | 'valid'>,
  iterative: boolean,
): boolean {
  return plan.einsums.every((e, i) => {
    const own = plan.stream!.index[i];
    return readsOf(e)
      .filter((r) => r.tensor === tensor)
      .every((r) => {
        const sub = r.subs[axis]!;
        if (own !== undefined && sub.k === 'index' && sub.name === own) return true;
        if (!iterative) return false;
        if (own !== undefined)
          return (
            sub.k === 'binary' &&
            sub.op === '+' &&
            sub.a.k === 'index' &&
            sub.a.name === own &&
            sub.b.k === 'num' &&
            sub.b.value === 1
          );
        return sub.k !== 'index' && !readsIndex(sub); // the final generation, read after the stream
      });
  });
}

function readsIndex(e: Expr): boolean {
  let found = false;
  walkExpr(e, (x) => {
    if (x.k === 'index') found = true;
  });
  return found;
}

/**
 * Every read of a tensor produced in the group must, on each parallel axis of its producer, use the
 * reader's own index for that dimension: threads (and tiles) never see each other's elements.
 */
function threadLocalReads(plan: Pick<GroupPlan, 'einsums' | 'outerIndex'>): boolean {
  return plan.einsums.every((e, i) =>
    readsOf(e).every((read) =>
      plan.einsums.every((x, j) => {
        if (x.tensor !== read.tensor) return true;
        return plan.outerIndex[j]!.every((v, d) => {
          const axis = x.subs.findIndex((s) => lhsIndex(s) === v);
          const sub = axis >= 0 ? read.subs[axis] : undefined;
          return sub?.k === 'index' && sub.name === plan.outerIndex[i]![d];
        });
      }),
    ),
  );
}
