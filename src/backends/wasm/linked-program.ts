// Linking several compiled kernels into ONE Loop program over ONE arena, so a whole model becomes one
// WebAssembly module with one shared memory and one thread pool (buildWasmProgram then treats it as
// any other program). The renaming is target-independent (src/ir/link-loops.ts): a shared buffer
// (weights, the KV cache, activations handed from one kernel to the next) gets one place in the
// arena under its shared name; every other buffer is the part's own.
//
// The arena: first the resident region (every shared buffer, and every part's own inputs and outputs,
// which the host reads or writes around a call and must not be overwritten by another part), then a
// working region for intermediates that all parts overlap, since parts run one at a time and an
// intermediate dies with its call. Each part keeps its own memory plan's placement inside the working
// region, so its liveness-based reuse carries over unchanged.
import { linkLoops, type LinkedLoops, type LoopLinkPart } from '../../ir/link-loops.js';
import type { ArenaEntry, MemoryPlan } from '../../passes/memplan.js';

const ALIGN = 16;
const align = (n: number) => Math.ceil(n / ALIGN) * ALIGN;

export interface LinkPart extends LoopLinkPart {
  readonly memory: MemoryPlan;
}

export interface LinkedProgram extends LinkedLoops {
  readonly memory: MemoryPlan;
  /** Bytes of the resident region (shared buffers and every part's inputs and outputs). */
  readonly residentBytes: number;
  /** Bytes of the working region: the largest part's intermediates. */
  readonly workingBytes: number;
}

export function linkPrograms(parts: readonly LinkPart[], workers: number): LinkedProgram {
  const linked = linkLoops(parts);
  const entries: ArenaEntry[] = [];
  // Resident region, in the order the parts first use the buffers.
  let offset = 0;
  for (const b of linked.loops.buffers) {
    if (b.role === 'intermediate') continue;
    entries.push({ buffer: b.name, offset, bytes: b.size * 4, live: [0, 0], role: b.role });
    offset = align(offset + b.size * 4);
  }
  const residentBytes = offset;
  // Working region: every part's intermediates at their planned offsets, relative to its own base.
  let workingBytes = 0;
  for (const part of parts) {
    const rename = linked.names.get(part.name)!;
    const own = part.memory.entries.filter((e) => e.role === 'intermediate' && !part.shared.has(e.buffer));
    const base = Math.min(...own.map((e) => e.offset));
    for (const e of own) {
      entries.push({
        ...e,
        buffer: rename.get(e.buffer)!,
        offset: residentBytes + e.offset - base,
        live: [0, 0],
      });
      workingBytes = Math.max(workingBytes, align(e.offset - base + e.bytes));
    }
  }
  const scratchOffset = residentBytes + workingBytes;
  const scratchBytesPerWorker = Math.max(0, ...parts.map((p) => p.memory.scratchBytesPerWorker));
  const memory: MemoryPlan = {
    entries,
    scratchOffset,
    scratchBytesPerWorker,
    workers,
    arenaBytes: scratchOffset + scratchBytesPerWorker * workers,
    peakBytes: workingBytes + scratchBytesPerWorker * workers,
    peakKernel: 0,
  };
  return { ...linked, memory, residentBytes, workingBytes };
}
