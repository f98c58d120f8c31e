// fusion: group the cascade's Einsums into kernels. A linear scan in dependency order: the next
// Einsum joins the current kernel when it can share at least one parallel index with it (what it
// reads from the kernel is indexed by that index plainly) and the kernel's on-chip slices still fit
// the scratchpad for one thread; otherwise a new kernel starts. Fusing saves the write and re-read
// of every intermediate that stays on chip (tinygrad and TVM fuse by rules; we fuse by bytes).
import type { Einsum } from '../ir/cascade.js';
import { lhsIndex } from '../frontend/ranges.js';
import { groupTraffic } from './group-traffic.js';
import { formatBytes } from '../ir/limits.js';
import type { Decision } from './decisions.js';
import {
  extentOf,
  mapOuter,
  parallelIndices,
  planGroup,
  type GroupContext,
  type GroupPlan,
  type OuterDim,
} from './group.js';

export interface FusionOptions {
  readonly scratchpadBytes: number;
  /** The cache tier below the scratchpad: tensors that fit are read from memory once. */
  readonly cacheBytes: number;
  /** The tiles the tiling pass would give a group (the traffic model counts re-reads per tile). */
  readonly tilesOf: (plan: GroupPlan) => readonly number[];
  /** `fuse A .. B` from a schedule: the Einsums from A's to B's share one kernel whatever it costs. */
  readonly forced: readonly { readonly from: string; readonly to: string }[];
}

interface Open {
  einsums: Einsum[];
  outer: OuterDim[];
  outerIndex: string[][];
  plan: GroupPlan;
}

/** How many bytes of traffic one byte of materialized intermediate is worth. */
export const MEMORY_WEIGHT = 4;

interface ScanResult {
  readonly groups: GroupPlan[];
  readonly decisions: Decision[];
  /** The objective over all the groups: modelled traffic plus weighted materialized bytes. */
  readonly traffic: number;
}

export function fuse(
  einsums: readonly Einsum[],
  ctx: GroupContext,
  opts: FusionOptions,
): { groups: GroupPlan[]; decisions: Decision[] } {
  const { groups, decisions } = new FusionScan(einsums, ctx, opts).scan(undefined, 0, true);
  return { groups, decisions };
}

/**
 * The scan, with a one-step lookahead where the traffic model says "split": a join can look costly
 * on its own (fewer parallel dimensions re-read more) yet save far more later (FuseMax's 1-pass chain
 * only pays off once every Einsum of the stream is in), so both continuations are scanned greedily to
 * the end and the cheaper one wins.
 */
class FusionScan {
  private readonly forcedWith: (e: Einsum, group: readonly Einsum[]) => boolean;
  // An iterative tensor's init joins whatever kernel its update joins, with the same indices by axis.
  private readonly initOf = new Map<string, Einsum>();

  constructor(
    private readonly einsums: readonly Einsum[],
    private readonly ctx: GroupContext,
    private readonly opts: FusionOptions,
  ) {
    this.forcedWith = forcedPairs(einsums, opts.forced);
    for (const e of einsums)
      if (e.subs.some((s) => s.k === 'num') && einsums.some((u) => u.tensor === e.tensor && u !== e))
        this.initOf.set(e.tensor, e);
  }

  /**
   * The objective: bytes moved through global memory, plus every byte a kernel leaves materialized
   * in global memory for later kernels, weighted — memory is the first-class cost, so holding a
   * large intermediate must buy a real saving in traffic.
   */
  private traffic(p: GroupPlan): number {
    const held = p.einsums
      .filter((e, i) => p.einsums.findIndex((x) => x.tensor === e.tensor) === i)
      .filter(
        (e) =>
          !p.placements.get(e.tensor)?.local && this.ctx.kernel.tensors[e.tensor]?.kind === 'intermediate',
      )
      .reduce((n, e) => n + 4 * (this.ctx.shapes.get(e.tensor) ?? []).reduce((a, b) => a * b, 1), 0);
    return groupTraffic(p, this.ctx, this.opts.cacheBytes, this.opts.tilesOf(p)) + MEMORY_WEIGHT * held;
  }

  private withInit(e: Einsum, indices: readonly string[]): { units: Einsum[]; index: string[][] } {
    const init = this.initOf.get(e.tensor);
    if (!init || init === e) return { units: [e], index: [[...indices]] };
    const initIndices = indices.map((v) => lhsIndex(init.subs[e.subs.findIndex((s) => lhsIndex(s) === v)]!)!);
    return { units: [init, e], index: [initIndices, [...indices]] };
  }

  private start(e: Einsum): Open {
    const outer = parallelIndices(e).map((v) => ({ name: v, extent: extentOf(e, v, this.ctx.ranks) }));
    const { units, index } = this.withInit(
      e,
      outer.map((d) => d.name),
    );
    return { einsums: units, outer, outerIndex: index, plan: planGroup(units, outer, index, this.ctx) };
  }

  /** Scan the Einsums from position `from`, with `open` the kernel being grown. */
  scan(initial: Open | undefined, from: number, lookahead: boolean): ScanResult {
    const groups: GroupPlan[] = [];
    const decisions: Decision[] = [];
    let open = initial;
    const close = () => {
      if (open) groups.push(open.plan);
      open = undefined;
    };
    const finish = (): ScanResult => {
      close();
      return { groups, decisions, traffic: groups.reduce((t, g) => t + this.traffic(g), 0) };
    };
    for (let i = from; i < this.einsums.length; i++) {
      const e = this.einsums[i]!;
      if (this.initOf.get(e.tensor) === e) continue;
      if (!open) {
        open = this.start(e);
        continue;
      }
      const { keep, indices } = mapOuter(open, e, this.ctx.ranks);
      const forced = this.forcedWith(e, open.einsums);
      const kernelName = `kernel ${groups.length + 1} (${open.einsums.map((x) => x.tensor).join(', ')})`;
      if (!keep.some(Boolean)) {
        decisions.push({
          pass: 'fusion',
          subject: e.tensor,
          choice: 'new kernel',
          why: `shares no parallel index with ${kernelName}: it reduces over or re-indexes every parallel dimension`,
        });
        close();
        open = this.start(e);
        continue;
      }
      const outer = open.outer.filter((_, d) => keep[d]);
      const added = this.withInit(e, indices.filter((_, d) => keep[d]) as string[]);
      const outerIndex = [...open.outerIndex.map((xs) => xs.filter((_, d) => keep[d])), ...added.index];
      const plan = planGroup([...open.einsums, ...added.units], outer, outerIndex, this.ctx);
      const joined: Open = { einsums: [...open.einsums, ...added.units], outer, outerIndex, plan };
      if (!plan.valid) {
        decisions.push({
          pass: 'fusion',
          subject: e.tensor,
          choice: 'new kernel',
          why: `it reads, along a parallel dimension of ${kernelName}, elements other threads produce`,
        });
        close();
        open = this.start(e);
        continue;
      }
      if (plan.localBytesPerSlot > this.opts.scratchpadBytes && !forced) {
        decisions.push({
          pass: 'fusion',
          subject: e.tensor,
          choice: 'new kernel',
          why: `joining ${kernelName} would need ${formatBytes(plan.localBytesPerSlot)} on chip per thread, over the ${formatBytes(this.opts.scratchpadBytes)} scratchpad`,
          alternativeCost: `fusing would have saved ${formatBytes(savedBytes(e, open.plan, this.ctx))} of global traffic`,
        });
        close();
        open = this.start(e);
        continue;
      }
      const alone = this.start(e);
      const fusedTraffic = this.traffic(plan);
      const separateTraffic = this.traffic(open.plan) + this.traffic(alone.plan);
      let join = forced || fusedTraffic <= separateTraffic;
      let why = forced
        ? 'the schedule asks for it (fuse)'
        : `shares parallel ${outer.map((d) => d.name).join(', ')}; on chip ${formatBytes(plan.localBytesPerSlot)} per thread`;
      let alternative = `as a separate kernel: ${formatBytes(separateTraffic)} of global traffic instead of ${formatBytes(fusedTraffic)}`;
      if (!join && lookahead) {
        const ifJoined = this.scan(joined, i + 1, false).traffic;
        const ifSplit = this.traffic(open.plan) + this.scan(alone, i + 1, false).traffic;
        join = ifJoined < ifSplit;
        why = join
          ? `fusing costs ${formatBytes(fusedTraffic - separateTraffic)} more here but the kernels that follow then move ${formatBytes(ifJoined)} in all, against ${formatBytes(ifSplit)}`
          : `joining ${kernelName} would move ${formatBytes(ifJoined)} in all against ${formatBytes(ifSplit)} as separate kernels (fewer parallel dimensions re-read what they do not index)`;
        alternative = join
          ? `split here: ${formatBytes(ifSplit)} of global traffic`
          : `fused: ${formatBytes(ifJoined)} of global traffic`;
      } else if (!join) {
        why = `joining ${kernelName} would move ${formatBytes(fusedTraffic)} through global memory, against ${formatBytes(separateTraffic)} as two kernels`;
        alternative = `fused: ${formatBytes(fusedTraffic - separateTraffic)} more traffic`;
      }
      decisions.push({
        pass: 'fusion',
        subject: e.tensor,
        choice: join ? `fused into ${kernelName}` : 'new kernel',
        why,
        alternativeCost: alternative,
      });
      if (join) open = joined;
      else {
        close();
        open = alone;
      }
    }
    return finish();
  }
}

/** Bytes a separate kernel would write and read back for what `e` takes from the group. */
function savedBytes(e: Einsum, group: GroupPlan, ctx: GroupContext): number {
  let bytes = 0;
  const seen = new Set<string>();
  for (const x of group.einsums) {
    if (seen.has(x.tensor)) continue;
    seen.add(x.tensor);
    const readsIt = (ctx.readers.get(x.tensor) ?? []).includes(e);
    if (readsIt) bytes += 2 * 4 * (ctx.shapes.get(x.tensor) ?? []).reduce((a, b) => a * b, 1);
  }
  return bytes;
}

function forcedPairs(
  einsums: readonly Einsum[],
  forced: FusionOptions['forced'],
): (e: Einsum, group: readonly Einsum[]) => boolean {
  const ranges = forced.map((f) => {
    const from = einsums.findIndex((e) => e.tensor === f.from);
    const to = einsums.map((e) => e.tensor).lastIndexOf(f.to);
    return [Math.min(from, to), Math.max(from, to)] as const;
  });
  return (e, group) => {
    const i = einsums.indexOf(e);
    return group.some((g) => {
      const j = einsums.indexOf(g);
      return ranges.some(([a, b]) => a >= 0 && i >= a && i <= b && j >= a && j <= b);
    });
  };
}
