// Executing a COSMA scratchpad plan in WASM linear memory. The arena is split into "DRAM" (every
// input and output at its memory-plan offset, and a home for every intermediate the plan spills)
// and a scratchpad region of the plan's capacity. Each kernel is generated with the addresses the
// plan gives its buffers at its step (a tensor reloaded to a new address is read from there by
// later kernels), and the plan's data movement becomes copies the runner does between steps
// (COSMA's S, R and the compulsory loads and stores; Eq. 3–5):
//   before step t: spills (scratchpad at step t−1 → home), then loads and reloads (home →
//   scratchpad at step t); spills go first because a reload may land where a spilled tensor was;
//   after step t: stores of the outputs it created (scratchpad → home).
import type { LoopProgram } from '../../ir/loops.js';
import type { ScratchpadPlan } from '../../passes/cosma/index.js';
import type { MemoryPlan } from '../../passes/memplan.js';

const ALIGN = 16;
const align = (n: number) => Math.ceil(n / ALIGN) * ALIGN;

/** One memory.copy between DRAM and the scratchpad region (absolute byte addresses). */
export interface BufferCopy {
  readonly tensor: string;
  readonly kind: 'spill' | 'load' | 'reload' | 'store';
  readonly from: number;
  readonly to: number;
  readonly bytes: number;
}

export interface CosmaLayout {
  /** Absolute address of scratchpad byte 0, and its size. */
  readonly regionOffset: number;
  readonly capacity: number;
  /** DRAM address of every tensor that has one (inputs, outputs, spilled intermediates). */
  readonly homes: ReadonlyMap<string, number>;
  /** Per kernel: the absolute address of every global buffer it uses, at its step. */
  readonly kernelOffsets: ReadonlyMap<string, ReadonlyMap<string, number>>;
  /** Kernel names in the plan's order (the free-schedule ILP may reorder independent kernels). */
  readonly order: readonly string[];
  readonly before: ReadonlyMap<string, readonly BufferCopy[]>;
  readonly after: ReadonlyMap<string, readonly BufferCopy[]>;
  /** First byte after the homes and the region. */
  readonly end: number;
}

export function cosmaLayout(program: LoopProgram, memory: MemoryPlan, plan: ScratchpadPlan): CosmaLayout {
  const homes = new Map<string, number>();
  for (const e of memory.entries) if (e.role !== 'intermediate') homes.set(e.buffer, e.offset);
  // Spilled intermediates get their own DRAM homes: the memory plan shares intermediate offsets by
  // program-order liveness, which a reordered schedule need not respect.
  let at = align(memory.scratchOffset);
  const bytesOf = (name: string) => program.buffers.find((b) => b.name === name)!.size * 4;
  for (const step of plan.steps)
    for (const t of step.spills)
      if (!homes.has(t)) {
        homes.set(t, at);
        at = align(at + bytesOf(t));
      }
  const regionOffset = align(at);
  const home = (t: string) => {
    const h = homes.get(t);
    if (h === undefined) throw new Error(`internal error: ${t} moves to DRAM but has no home`);
    return h;
  };
  const kernelOffsets = new Map<string, Map<string, number>>();
  const before = new Map<string, BufferCopy[]>();
  const after = new Map<string, BufferCopy[]>();
  let previous = new Map<string, number>();
  for (const step of plan.steps) {
    const resident = new Map(step.resident.map((p) => [p.tensor, regionOffset + p.offset]));
    const copies: BufferCopy[] = [];
    for (const t of step.spills)
      copies.push({ tensor: t, kind: 'spill', from: previous.get(t)!, to: home(t), bytes: bytesOf(t) });
    for (const t of step.loads)
      copies.push({ tensor: t, kind: 'load', from: home(t), to: resident.get(t)!, bytes: bytesOf(t) });
    for (const t of step.reloads)
      copies.push({ tensor: t, kind: 'reload', from: home(t), to: resident.get(t)!, bytes: bytesOf(t) });
    before.set(step.operator, copies);
    after.set(
      step.operator,
      step.stores.map((t) => ({
        tensor: t,
        kind: 'store',
        from: resident.get(t)!,
        to: home(t),
        bytes: bytesOf(t),
      })),
    );
    kernelOffsets.set(step.operator, resident);
    previous = resident;
  }
  return {
    regionOffset,
    capacity: plan.capacity,
    homes,
    kernelOffsets,
    order: plan.steps.map((s) => s.operator),
    before,
    after,
    end: align(regionOffset + plan.capacity),
  };
}
