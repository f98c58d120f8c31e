// fusion: group the cascade's Einsums into kernels. A linear scan in dependency order: the next
// Einsum joins the current kernel when it can share at least one parallel index with it (what it
// reads from the kernel is indexed by that index plainly) and the kernel's on-chip slices still fit
// the scratchpad for one thread; otherwise a new kernel starts. Fusing saves the write and re-read
// of every intermediate that stays on chip (tinygrad and TVM fuse by rules; we fuse by bytes).
import type { Einsum } from '../ir/cascade.js';
import { lhsIndex } from '../frontend/ranges.js';
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
  /** `fuse A .. B` from a schedule: the Einsums from A's to B's share one kernel whatever it costs. */
  readonly forced: readonly { readonly from: string; readonly to: string }[];
}

interface Open {
  einsums: Einsum[];
  outer: OuterDim[];
  outerIndex: string[][];
  plan: GroupPlan;
}

export function fuse(
  einsums: readonly Einsum[],
  ctx: GroupContext,
  opts: FusionOptions,
): { groups: GroupPlan[]; decisions: Decision[] } {
  const groups: GroupPlan[] = [];
  const decisions: Decision[] = [];
  const forcedWith = forcedPairs(einsums, opts.forced);
  // An iterative tensor's init joins whatever kernel its update joins, with the same indices by axis.
  const initOf = new Map<string, Einsum>();
  for (const e of einsums)
    if (e.subs.some((s) => s.k === 'num') && einsums.some((u) => u.tensor === e.tensor && u !== e))
      initOf.set(e.tensor, e);
  const withInit = (e: Einsum, indices: readonly string[]): { units: Einsum[]; index: string[][] } => {
    const init = initOf.get(e.tensor);
    if (!init || init === e) return { units: [e], index: [[...indices]] };
    const initIndices = indices.map((v) => lhsIndex(init.subs[e.subs.findIndex((s) => lhsIndex(s) === v)]!)!);
    return { units: [init, e], index: [initIndices, [...indices]] };
  };
  let open: Open | undefined;
  const start = (e: Einsum) => {
    const outer = parallelIndices(e).map((v) => ({ name: v, extent: extentOf(e, v, ctx.ranks) }));
    const { units, index } = withInit(
      e,
      outer.map((d) => d.name),
    );
    open = { einsums: units, outer, outerIndex: index, plan: planGroup(units, outer, index, ctx) };
  };
  const close = () => {
    if (open) groups.push(open.plan);
    open = undefined;
  };
  for (const e of einsums) {
    if (initOf.get(e.tensor) === e) continue;
    if (!open) {
      start(e);
      continue;
    }
    const { keep, indices } = mapOuter(open, e, ctx.ranks);
    const forced = forcedWith(e, open.einsums);
    const kernelName = `kernel ${groups.length + 1} (${open.einsums.map((x) => x.tensor).join(', ')})`;
    if (!keep.some(Boolean)) {
      decisions.push({
        pass: 'fusion',
        subject: e.tensor,
        choice: 'new kernel',
        why: `shares no parallel index with ${kernelName}: it reduces over or re-indexes every parallel dimension`,
      });
      close();
      start(e);
      continue;
    }
    const outer = open.outer.filter((_, d) => keep[d]);
    const added = withInit(e, indices.filter((_, d) => keep[d]) as string[]);
    const outerIndex = [...open.outerIndex.map((xs) => xs.filter((_, d) => keep[d])), ...added.index];
    const plan = planGroup([...open.einsums, ...added.units], outer, outerIndex, ctx);
    const saved = savedBytes(e, open.plan, ctx);
    if (plan.localBytesPerSlot > opts.scratchpadBytes && !forced) {
      decisions.push({
        pass: 'fusion',
        subject: e.tensor,
        choice: 'new kernel',
        why: `joining ${kernelName} would need ${formatBytes(plan.localBytesPerSlot)} on chip per thread, over the ${formatBytes(opts.scratchpadBytes)} scratchpad`,
        alternativeCost: `fusing would have saved ${formatBytes(saved)} of global traffic`,
      });
      close();
      start(e);
      continue;
    }
    decisions.push({
      pass: 'fusion',
      subject: e.tensor,
      choice: `fused into ${kernelName}`,
      why: forced
        ? 'the schedule asks for it (fuse)'
        : `shares parallel ${outer.map((d) => d.name).join(', ')}; on chip ${formatBytes(plan.localBytesPerSlot)} per thread`,
      alternativeCost: `a separate kernel would move ${formatBytes(saved)} more through global memory`,
    });
    open = { einsums: [...open.einsums, ...added.units], outer, outerIndex, plan };
  }
  close();
  return { groups, decisions };
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
