// Executing a COSMA scratchpad plan in WASM linear memory. The arena is split into "DRAM" (every
// input and output at its memory-plan offset, and a home for every intermediate tile the plan
// spills) and a scratchpad region of the plan's capacity. Each step runs its tile operator: the
// kernel bound at the tile ranks (cosma-tile-axes.ts), generated with the addresses the plan gives
// its tiles at that step — so one export per step. The plan's data movement becomes copies the
// runner does between steps (COSMA's S, R and the compulsory loads and stores; Eq. 3–5):
//   before step t: spills (scratchpad at step t−1 → home), then loads and reloads (home →
//   scratchpad at step t; a tile of an input or output is a strided slice of its buffer's home),
//   then gathers (the tiles of a view an operator reads whole → its staging buffer); spills go
//   first because a reload may land where a spilled tile was;
//   after step t: scatters (staging buffer → the tiles it covers), then stores of the output tiles
//   created (scratchpad → home).
import type { LoopProgram } from '../../ir/loops.js';
import type { CosmaResult } from '../../passes/cosma-pass.js';
import type { AxisRange } from '../../passes/cosma-tiling.js';
import type { MemoryPlan } from '../../passes/memplan.js';
import { sliceRuns } from './tile-slices.js';

const ALIGN = 16;
const align = (n: number) => Math.ceil(n / ALIGN) * ALIGN;

/** One memory.copy inside the arena (absolute byte addresses). */
export interface BufferCopy {
  readonly tensor: string;
  readonly kind: 'spill' | 'load' | 'reload' | 'store' | 'gather' | 'scatter';
  readonly from: number;
  readonly to: number;
  readonly bytes: number;
}

export interface CosmaLayout {
  /** Absolute address of scratchpad byte 0, and its size. */
  readonly regionOffset: number;
  readonly capacity: number;
  /** DRAM address of every buffer (inputs, outputs) and intermediate tile that has one. */
  readonly homes: ReadonlyMap<string, number>;
  /** Per step kernel: the absolute address of every global buffer (its tile or staging view) it uses. */
  readonly kernelOffsets: ReadonlyMap<string, ReadonlyMap<string, number>>;
  /** The kernel each step runs, in the plan's order (the free-schedule ILP may reorder). */
  readonly order: readonly string[];
  readonly before: ReadonlyMap<string, readonly BufferCopy[]>;
  readonly after: ReadonlyMap<string, readonly BufferCopy[]>;
  /** First byte after the homes and the region. */
  readonly end: number;
}

/** The kernel that runs tile operator `index`: the kernel itself when it is not split. */
function stepKernelName(cosma: CosmaResult, index: number): string {
  const op = cosma.tiling.operators[index]!;
  return op.name === op.kernel ? op.kernel : `${op.kernel}__${index}`;
}

/** The program's kernels as the steps run them: one per tile operator, bound at its tile ranks. */
export function cosmaKernelProgram(loops: LoopProgram, cosma: CosmaResult): LoopProgram {
  const kernels = cosma.tiling.operators.map((op, index) => ({
    ...cosma.tileKernels.find((k) => k.name === op.kernel)!,
    name: stepKernelName(cosma, index),
  }));
  return { ...loops, kernels };
}

const elements = (ranges: readonly AxisRange[]) => ranges.reduce((n, [a, b]) => n * (b - a), 1);

export function cosmaLayout(program: LoopProgram, memory: MemoryPlan, cosma: CosmaResult): CosmaLayout {
  const { plan, tiling } = cosma;
  const buffers = new Map(program.buffers.map((b) => [b.name, b]));
  const tiles = new Map(tiling.tiles.map((t) => [t.name, t]));
  const operators = new Map(
    tiling.operators.map((op, index) => [op.name, { op, kernel: stepKernelName(cosma, index) }]),
  );
  // Inputs and outputs live whole at their memory-plan offsets; their tiles are slices of them.
  const bufferHomes = new Map(
    memory.entries.filter((e) => e.role !== 'intermediate').map((e) => [e.buffer, e.offset]),
  );
  const homes = new Map(bufferHomes);
  // Spilled intermediate tiles get compact homes of their own: the memory plan shares intermediate
  // offsets by program-order liveness, which a reordered tile schedule need not respect.
  let at = align(memory.scratchOffset);
  for (const step of plan.steps)
    for (const t of step.spills)
      if (!homes.has(t)) {
        homes.set(t, at);
        at = align(at + elements(tiles.get(t)!.ranges) * 4);
      }
  const regionOffset = align(at);

  /** A tile between DRAM and the scratchpad: one run per contiguous piece of its buffer's home. */
  const transfer = (
    tile: string,
    kind: BufferCopy['kind'],
    scratch: number,
    toScratch: boolean,
  ): BufferCopy[] => {
    const { buffer, ranges } = tiles.get(tile)!;
    const home = bufferHomes.get(buffer) ?? homes.get(tile);
    if (home === undefined) throw new Error(`internal error: ${tile} moves to DRAM but has no home`);
    const runs = bufferHomes.has(buffer)
      ? sliceRuns(buffers.get(buffer)!.shape, ranges).map((r) => ({
          dram: home + 4 * r.outer,
          chip: scratch + 4 * r.inner,
          bytes: 4 * r.length,
        }))
      : [{ dram: home, chip: scratch, bytes: elements(ranges) * 4 }];
    return runs.map((r) => ({
      tensor: tile,
      kind,
      from: toScratch ? r.dram : r.chip,
      to: toScratch ? r.chip : r.dram,
      bytes: r.bytes,
    }));
  };
  /** A tile between its own compact copy and its place inside a staging view. */
  const restage = (
    tile: string,
    view: readonly AxisRange[],
    tileAt: number,
    viewAt: number,
    gather: boolean,
  ): BufferCopy[] => {
    const shape = view.map(([a, b]) => b - a);
    const inView = tiles
      .get(tile)!
      .ranges.map(([a, b], axis): AxisRange => [a - view[axis]![0], b - view[axis]![0]]);
    return sliceRuns(shape, inView).map((r) => {
      const [staged, own] = [viewAt + 4 * r.outer, tileAt + 4 * r.inner];
      return {
        tensor: tile,
        kind: gather ? 'gather' : 'scatter',
        from: gather ? own : staged,
        to: gather ? staged : own,
        bytes: 4 * r.length,
      };
    });
  };

  const kernelOffsets = new Map<string, Map<string, number>>();
  const before = new Map<string, BufferCopy[]>();
  const after = new Map<string, BufferCopy[]>();
  let previous = new Map<string, number>();
  for (const step of plan.steps) {
    const resident = new Map(step.resident.map((p) => [p.tensor, regionOffset + p.offset]));
    const { op, kernel } = operators.get(step.operator)!;
    const copies: BufferCopy[] = [];
    for (const t of step.spills) copies.push(...transfer(t, 'spill', previous.get(t)!, false));
    for (const t of step.loads) copies.push(...transfer(t, 'load', resident.get(t)!, true));
    for (const t of step.reloads) copies.push(...transfer(t, 'reload', resident.get(t)!, true));
    const stores: BufferCopy[] = [];
    for (const operand of op.operands) {
      if (operand.staging === null) continue;
      const viewAt = resident.get(operand.staging)!;
      for (const t of operand.tiles) {
        const moves = restage(t, operand.view, resident.get(t)!, viewAt, !operand.written);
        (operand.written ? stores : copies).push(...moves);
      }
    }
    for (const t of step.stores) stores.push(...transfer(t, 'store', resident.get(t)!, false));
    before.set(kernel, copies);
    after.set(kernel, stores);
    kernelOffsets.set(
      kernel,
      new Map(op.operands.map((o) => [o.buffer, resident.get(o.staging ?? o.tiles[0]!)!])),
    );
    previous = resident;
  }
  return {
    regionOffset,
    capacity: plan.capacity,
    homes,
    kernelOffsets,
    order: plan.steps.map((s) => operators.get(s.operator)!.kernel),
    before,
    after,
    end: align(regionOffset + plan.capacity),
  };
}
