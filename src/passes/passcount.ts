// passcount: FuseMax's pass analysis (FuseMax §III-A). A pass is a walk over every element of a fiber
// along one rank; when a later Einsum can re-read a fiber element only after an earlier Einsum has
// read the whole fiber, that read-read pair adds a pass. Per rank R we keep, for each tensor, `s` (the
// pass that produces its elements), `c` (the last complete sweep of R its value depends on) and `red`
// (the sub-ranks of R it is fully reduced over), and walk the Einsums in order — the algorithm of
// cosma-fusemax.md §2(a), checked there against Cascades 1, 2, 4 and 5.
import type { Einsum, KernelIR, RankInfo } from '../ir/cascade.js';
import { walkExpr, type Expr } from '../ir/expr.js';
import { sizeKey } from '../ir/sizes.js';
import { passConsequence, rankValues, type RankValueSource } from './passcount-consequence.js';
import { partsWalked, printSize, reducedRanks, type ReducedRank } from './passcount-ranks.js';

import type { PassConsequence } from './passcount-consequence.js';
export type { PassConsequence, RankValueSource, ReRead } from './passcount-consequence.js';

export interface PasscountContext {
  /** Values of symbolic ranks (e.g. from input shapes), to turn sizes into numbers. */
  readonly ranks?: RankValueSource;
  /** The program's global ranks (`rank M0 = 4` outside any kernel). */
  readonly globalRanks?: readonly RankInfo[];
}

/** The pass in which one Einsum runs, for one rank; `sweep` when it walks a whole fiber of the rank. */
export interface EinsumPass {
  readonly step: number;
  readonly tensor: string;
  readonly pass: number;
  readonly sweep: boolean;
}

export interface RankPasses {
  /** The rank's size, printed (`M`). */
  readonly rank: string;
  /** sizeKey of the rank's size: compare ranks across kernels with this. */
  readonly key: string;
  /** Printed sizes of the sub-ranks: `[M]`, or `[M1, M0]` for a split rank. */
  readonly parts: readonly string[];
  readonly passes: number;
  /** For a split rank, passes over the outer sub-rank alone: 2 or more keeps an M1-long fiber live. */
  readonly outerPasses?: number;
  readonly perEinsum: readonly EinsumPass[];
  /** For passes > 1: the fiber to buffer on chip, or the traffic of re-reading it (FuseMax §III-B). */
  readonly consequence?: PassConsequence;
}

interface State {
  readonly s: number;
  readonly c: number;
  readonly red: ReadonlySet<string>;
}

const INPUT: State = { s: 0, c: 0, red: new Set() };

/** Counting for one rank with a chosen set of parts; also which passes read each tensor. */
export interface PassTrace {
  readonly passes: number;
  readonly perEinsum: readonly EinsumPass[];
  readonly state: ReadonlyMap<string, State>;
  /** Every read: which Einsum (by tensor) read which tensor, in which pass. */
  readonly reads: readonly { readonly reader: string; readonly tensor: string; readonly pass: number }[];
}

/** The generation subscript of an iterative tensor read at its last generation (RM[M1, p]). */
function readsFinalGeneration(kernel: KernelIR, tensor: string, subs: readonly Expr[]): boolean {
  const info = kernel.tensors[tensor];
  if (info?.iterativeAxis === undefined) return false;
  const sub = subs[info.iterativeAxis]!;
  let hasIndex = false;
  walkExpr(sub, (x) => (hasIndex ||= x.k === 'index' || x.k === 'access'));
  const last: Expr = { k: 'binary', op: '-', a: info.shape[info.iterativeAxis]!, b: { k: 'num', value: 1 } };
  return !hasIndex && sizeKey(sub) === sizeKey(last);
}

/** Parts walked by the generation index of each iterative tensor's update (m1 of RM[m1 + 1, p]). */
function generationParts(kernel: KernelIR, rank: ReducedRank, parts: ReadonlySet<string>) {
  const out = new Map<string, string[]>();
  for (const step of kernel.steps) {
    if (step.kind !== 'einsum') continue;
    const gen = step.subs.find((s) => s.k === 'binary');
    if (gen?.k !== 'binary' || gen.a.k !== 'index') continue;
    const extent = step.ranges.find((r) => r.name === (gen.a as { name: string }).name)?.extent;
    if (extent)
      out.set(
        step.tensor,
        partsWalked(rank, extent).filter((p) => parts.has(p)),
      );
  }
  return out;
}

const union = <T>(...sets: Iterable<T>[]): Set<T> => new Set(sets.flatMap((s) => [...s]));

export function tracePasses(kernel: KernelIR, rank: ReducedRank, partKeys: readonly string[]): PassTrace {
  const parts = new Set(partKeys);
  const walked = (e: Einsum, names: Iterable<string>) =>
    new Set(
      [...names].flatMap((n) => {
        const extent = e.ranges.find((r) => r.name === n)?.extent;
        return extent ? partsWalked(rank, extent).filter((p) => parts.has(p)) : [];
      }),
    );
  const genParts = generationParts(kernel, rank, parts);
  const state = new Map<string, State>();
  const reads: { reader: string; tensor: string; pass: number }[] = [];
  const perEinsum: EinsumPass[] = [];
  let passes = 0;
  kernel.steps.forEach((step, index) => {
    if (step.kind === 'call') {
      // A call is opaque: its results depend on everything its arguments depend on.
      const args = step.args.map((a) => state.get(a) ?? INPUT);
      const merged = {
        s: Math.max(0, ...args.map((a) => a.s)),
        c: Math.max(0, ...args.map((a) => a.c)),
        red: new Set<string>(),
      };
      step.outputs.forEach((o) => state.set(o, merged));
      return;
    }
    const iter = walked(
      step,
      step.ranges.map((r) => r.name),
    );
    const sweep = [...parts].every((p) => iter.has(p));
    const lhsIndices = step.subs.flatMap((s) =>
      s.k === 'index' ? [s.name] : s.k === 'binary' && s.a.k === 'index' ? [s.a.name] : [],
    );
    const out = walked(step, lhsIndices);
    const generational = step.subs.some((s) => s.k === 'binary');
    let maxS = 0;
    let maxEffC = 0;
    let red = new Set<string>();
    const readers: string[] = [];
    walkExpr(step.body, (x) => {
      if (x.k !== 'access') return;
      const st = state.get(x.tensor) ?? INPUT;
      let effC = st.c;
      let effRed: Set<string> = new Set(st.red);
      // Reading X_{M1}, the last generation, consumes the whole iterative walk (cosma-fusemax.md §2(a)).
      if (readsFinalGeneration(kernel, x.tensor, x.subs)) {
        effRed = union(effRed, genParts.get(x.tensor) ?? []);
        if ([...parts].every((p) => effRed.has(p))) effC = Math.max(effC, st.s);
      }
      maxS = Math.max(maxS, st.s);
      maxEffC = Math.max(maxEffC, effC);
      red = union(red, effRed);
      readers.push(x.tensor);
    });
    const p = Math.max(sweep ? 1 : 0, maxS, maxEffC + (sweep ? 1 : 0));
    const newly = generational ? new Set<string>() : new Set([...iter].filter((q) => !out.has(q)));
    const redAfter = union(red, newly);
    const complete = newly.size > 0 && [...parts].every((q) => redAfter.has(q));
    state.set(step.tensor, {
      s: p,
      c: complete ? Math.max(maxEffC, p) : maxEffC,
      red: new Set([...redAfter].filter((q) => !out.has(q))),
    });
    for (const t of readers) reads.push({ reader: step.tensor, tensor: t, pass: p });
    perEinsum.push({ step: index, tensor: step.tensor, pass: p, sweep });
    if (sweep) passes = Math.max(passes, p);
  });
  return { passes, perEinsum, state, reads };
}

/** FuseMax pass counts for every rank some Einsum of `kernel` reduces over. */
export function passcount(kernel: KernelIR, ctx: PasscountContext = {}): RankPasses[] {
  const values = rankValues(kernel, ctx.ranks, ctx.globalRanks);
  return reducedRanks(kernel, ctx.globalRanks).map((rank) => {
    const trace = tracePasses(
      kernel,
      rank,
      rank.parts.map((p) => p.key),
    );
    const outer = rank.parts.length > 1 ? tracePasses(kernel, rank, [rank.parts[0]!.key]).passes : undefined;
    const consequence = trace.passes > 1 ? passConsequence(kernel, rank, trace, values) : undefined;
    return {
      rank: printSize(rank.size),
      key: rank.key,
      parts: rank.parts.map((p) => printSize(p.size)),
      passes: trace.passes,
      ...(outer !== undefined ? { outerPasses: outer } : {}),
      perEinsum: trace.perEinsum,
      ...(consequence ? { consequence } : {}),
    };
  });
}

/**
 * Passes over the rank with this sizeKey counted over the sweeps of `region` only (tensors defined
 * there), with the consequence for that region: the online pass judges one softmax chain by the
 * Einsums that depend on it, so two chains in one kernel are each seen to improve.
 */
export function passesWithin(
  kernel: KernelIR,
  key: string,
  region: ReadonlySet<string>,
  ctx: PasscountContext = {},
): { passes: number; consequence?: PassConsequence } {
  const rank = reducedRanks(kernel, ctx.globalRanks).find((r) => r.key === key);
  if (!rank) return { passes: 0 };
  const trace = tracePasses(
    kernel,
    rank,
    rank.parts.map((p) => p.key),
  );
  const inRegion = (t: string) => region.has(t);
  const passes = Math.max(
    0,
    ...trace.perEinsum.filter((e) => e.sweep && inRegion(e.tensor)).map((e) => e.pass),
  );
  if (passes < 2) return { passes };
  const values = rankValues(kernel, ctx.ranks, ctx.globalRanks);
  return { passes, consequence: passConsequence(kernel, rank, { ...trace, passes }, values, inRegion) };
}

/** Passes over the rank whose size has this sizeKey; 0 when no Einsum reduces over it. */
export function passesOver(kernel: KernelIR, key: string, ctx: PasscountContext = {}): number {
  return passcount(kernel, ctx).find((r) => r.key === key)?.passes ?? 0;
}
