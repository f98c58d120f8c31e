// tiling: how many positions of the parallel dimensions one workgroup takes. Bounded by the
// target's threads per group and by the scratchpad: every thread slot keeps its own on-chip slices,
// so tile × bytes-per-slot must fit. The innermost dimension is tiled first (contiguous accesses).
// On WASM a worker runs one position at a time and takes contiguous runs of the grid, so tiles are 1.
import type { TargetDescription } from '../backends/targets.js';
import { formatBytes } from '../ir/limits.js';
import type { Decision } from './decisions.js';
import type { GroupPlan } from './group.js';

export interface Tiling {
  readonly tiles: readonly number[];
  readonly decision: Decision;
}

export function chooseTiles(
  plan: GroupPlan,
  kernelName: string,
  target: TargetDescription,
  scratchpadBytes: number,
  requested: Readonly<Record<string, number>>,
): Tiling {
  const tiles = plan.outer.map(() => 1);
  const byMemory =
    plan.localBytesPerSlot > 0 ? Math.floor(scratchpadBytes / plan.localBytesPerSlot) : Infinity;
  let budget = Math.max(1, Math.min(target.preferredThreadsPerGroup, byMemory));
  const fromSchedule = plan.outer.map((d) => requested[d.name]);
  if (fromSchedule.some((t) => t !== undefined)) {
    plan.outer.forEach((d, i) => (tiles[i] = Math.min(fromSchedule[i] ?? 1, d.extent)));
    const threads = tiles.reduce((a, b) => a * b, 1);
    return {
      tiles,
      decision: {
        pass: 'tiling',
        subject: kernelName,
        choice: tileText(plan, tiles),
        why: `the schedule asks for it; ${formatBytes(threads * plan.localBytesPerSlot)} on chip per workgroup`,
      },
    };
  }
  for (let i = plan.outer.length - 1; i >= 0 && budget > 1; i--) {
    const extent = plan.outer[i]!.extent;
    let t = 1;
    while (t * 2 <= budget && t < extent) t *= 2;
    tiles[i] = t;
    budget = Math.floor(budget / t);
  }
  const threads = tiles.reduce((a, b) => a * b, 1);
  const limit =
    byMemory < target.preferredThreadsPerGroup
      ? `the scratchpad (${formatBytes(scratchpadBytes)} / ${formatBytes(plan.localBytesPerSlot)} per thread)`
      : `${target.preferredThreadsPerGroup} threads per group on ${target.name}`;
  return {
    tiles,
    decision: {
      pass: 'tiling',
      subject: kernelName,
      choice: tileText(plan, tiles),
      why:
        threads === 1 && target.maxThreadsPerGroup === 1
          ? `${target.name} runs one position per worker at a time; workers take contiguous runs of the grid`
          : `largest power-of-two tile within ${limit}`,
      alternativeCost:
        plan.localBytesPerSlot > 0
          ? `each doubling needs ${formatBytes(2 * threads * plan.localBytesPerSlot)} on chip`
          : undefined,
    },
  };
}

const tileText = (plan: GroupPlan, tiles: readonly number[]) =>
  plan.outer.length === 0 ? 'one workgroup' : plan.outer.map((d, i) => `${d.name} by ${tiles[i]}`).join(', ');
