// tiling: how many positions of the parallel dimensions one workgroup takes. Bounded by the
// target's threads per group and by the scratchpad: every thread slot keeps its own on-chip slices,
// so tile × bytes-per-slot must fit. The innermost dimension is tiled first (contiguous accesses).
// On WASM a worker runs one position at a time and takes contiguous runs of the grid, so tiles are 1.
import type { TargetDescription } from '../backends/targets.js';
import { formatBytes } from '../ir/limits.js';
import type { Decision } from './decisions.js';
import type { GroupPlan } from './group.js';
import { matchContraction } from './contract.js';

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
  ranks?: ReadonlyMap<string, number>,
): Tiling {
  const tiles = plan.outer.map(() => 1);
  const single = plan.einsums.length === 1 ? plan.einsums[0] : undefined;
  if (single && ranks && matchContraction(single, ranks))
    return {
      tiles,
      decision: {
        pass: 'tiling',
        subject: kernelName,
        choice: 'the contract intrinsic',
        why: `a plain contraction: the backend's GEMM blocks it for registers and ${target.name === 'wasm' ? 'cache' : 'shared memory'} itself`,
      },
    };
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
  tiles.splice(0, tiles.length, ...defaultTiles(plan, target, scratchpadBytes));
  const byMemory =
    plan.localBytesPerSlot > 0 ? Math.floor(scratchpadBytes / plan.localBytesPerSlot) : Infinity;
  const threads = tiles.reduce((a, b) => a * b, 1);
  const preferred = plan.stream
    ? Math.max(target.preferredThreadsPerGroup, STREAM_ROWS_PER_TILE)
    : target.preferredThreadsPerGroup;
  const limit =
    byMemory < preferred
      ? `the scratchpad (${formatBytes(scratchpadBytes)} / ${formatBytes(plan.localBytesPerSlot)} per thread)`
      : `${preferred} ${plan.stream ? 'rows' : 'threads'} per group on ${target.name}`;
  return {
    tiles,
    decision: {
      pass: 'tiling',
      subject: kernelName,
      choice: tileText(plan, tiles),
      why: plan.stream
        ? `${threads} rows share each streamed block while it is in ${target.name === 'wasm' ? 'cache' : 'shared memory'} (FlashAttention's order), within ${limit}`
        : threads === 1 && target.maxThreadsPerGroup === 1
          ? `${target.name} runs one position per worker at a time; workers take contiguous runs of the grid`
          : `largest power-of-two tile within ${limit}`,
      alternativeCost:
        plan.localBytesPerSlot > 0
          ? `each doubling needs ${formatBytes(2 * threads * plan.localBytesPerSlot)} on chip`
          : undefined,
    },
  };
}

/**
 * Rows of a streamed kernel share each block of the stream, so they are tiled even on WASM (where a
 * tile's rows run one after another on one worker): each key block is read once per tile, not per row.
 */
export const STREAM_ROWS_PER_TILE = 32;

/** The tiles the cost model assumes for a group: the largest power of two per dimension, innermost first. */
export function defaultTiles(plan: GroupPlan, target: TargetDescription, scratchpadBytes: number): number[] {
  const tiles = plan.outer.map(() => 1);
  const byMemory =
    plan.localBytesPerSlot > 0 ? Math.floor(scratchpadBytes / plan.localBytesPerSlot) : Infinity;
  const preferred = plan.stream
    ? Math.max(target.preferredThreadsPerGroup, STREAM_ROWS_PER_TILE)
    : target.preferredThreadsPerGroup;
  let budget = Math.max(
    1,
    Math.min(preferred, byMemory, plan.stream ? Infinity : target.maxThreadsPerGroup === 1 ? 1 : Infinity),
  );
  for (let i = plan.outer.length - 1; i >= 0 && budget > 1; i--) {
    const extent = plan.outer[i]!.extent;
    let t = 1;
    while (t * 2 <= budget && t < extent) t *= 2;
    tiles[i] = t;
    budget = Math.floor(budget / t);
  }
  return tiles;
}

const tileText = (plan: GroupPlan, tiles: readonly number[]) =>
  plan.outer.length === 0 ? 'one workgroup' : plan.outer.map((d, i) => `${d.name} by ${tiles[i]}`).join(', ');
