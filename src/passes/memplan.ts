// memplan: liveness of every global buffer over the kernel sequence, offsets in one arena (first fit
// in order of decreasing size — the greedy-by-size strategy of TFLite's arena planner), and the
// predicted peak of intermediate bytes. Inputs and outputs live for the whole program; each worker
// thread gets its own copy of the largest kernel's on-chip slices at the end of the arena.
import type { BufferDecl, LoopProgram } from '../ir/loops.js';

const ALIGN = 16; // one v128

export interface ArenaEntry {
  readonly buffer: string;
  readonly offset: number;
  readonly bytes: number;
  /** First and last kernel (inclusive) during which the buffer is live. */
  readonly live: readonly [number, number];
  readonly role: BufferDecl['role'];
}

export interface MemoryPlan {
  readonly entries: readonly ArenaEntry[];
  /** Bytes of on-chip slices per worker, reserved at `scratchOffset` for each of `workers`. */
  readonly scratchOffset: number;
  readonly scratchBytesPerWorker: number;
  readonly workers: number;
  readonly arenaBytes: number;
  /** Intermediates (global and on-chip) live at the worst moment, excluding inputs and outputs. */
  readonly peakBytes: number;
  readonly peakKernel: number;
  /** Intermediates (global and on-chip) live during each kernel: the activation-memory timeline. */
  readonly liveBytes?: readonly number[];
}

const align = (n: number) => Math.ceil(n / ALIGN) * ALIGN;

export function planMemory(program: LoopProgram, workers: number): MemoryPlan {
  const last = program.kernels.length - 1;
  const liveness = new Map<string, [number, number]>();
  program.kernels.forEach((k, i) => {
    for (const b of k.uses) {
      const l = liveness.get(b);
      liveness.set(b, l ? [Math.min(l[0], i), Math.max(l[1], i)] : [i, i]);
    }
  });
  const entries: ArenaEntry[] = [];
  let offset = 0;
  for (const b of program.buffers.filter((b) => b.role === 'input' || b.role === 'output')) {
    const bytes = b.size * 4;
    entries.push({ buffer: b.name, offset, bytes, live: [0, Math.max(0, last)], role: b.role });
    offset = align(offset + bytes);
  }
  const base = offset;
  const placed = firstFit(
    program.buffers
      .filter((b) => b.role === 'intermediate')
      .map((b) => ({ name: b.name, bytes: b.size * 4, live: liveness.get(b.name) ?? [0, 0] })),
    base,
  ).map(({ name, offset, bytes, live }) => ({
    buffer: name,
    offset,
    bytes,
    live,
    role: 'intermediate' as const,
  }));
  entries.push(...placed);
  const intermediateEnd = placed.reduce((m, p) => Math.max(m, align(p.offset + p.bytes)), base);
  const scratchPerKernel = program.kernels.map((k) => k.locals.reduce((s, l) => s + align(l.size * 4), 0));
  const scratchBytesPerWorker = Math.max(0, ...scratchPerKernel);
  const liveBytes = program.kernels.map(
    (_, i) =>
      placed.filter((p) => p.live[0] <= i && i <= p.live[1]).reduce((s, p) => s + p.bytes, 0) +
      scratchPerKernel[i]! * workers,
  );
  const peakBytes = Math.max(0, ...liveBytes);
  const peakKernel = Math.max(0, liveBytes.indexOf(peakBytes));
  return {
    entries,
    scratchOffset: intermediateEnd,
    scratchBytesPerWorker,
    workers,
    arenaBytes: intermediateEnd + scratchBytesPerWorker * workers,
    peakBytes,
    peakKernel,
    liveBytes,
  };
}

export interface Allocation {
  readonly name: string;
  readonly bytes: number;
  /** First and last step (inclusive) during which it is live. */
  readonly live: readonly [number, number];
}

/**
 * Offsets from `base` for allocations with lifetimes: first fit in order of decreasing size, never
 * sharing bytes with an allocation live at the same time (TFLite's greedy-by-size arena planner).
 */
export function firstFit(
  allocations: readonly Allocation[],
  base: number,
): (Allocation & { readonly offset: number })[] {
  const placed: (Allocation & { readonly offset: number })[] = [];
  for (const a of [...allocations].sort((x, y) => y.bytes - x.bytes)) {
    const clashes = placed
      .filter((p) => p.live[0] <= a.live[1] && a.live[0] <= p.live[1])
      .sort((x, y) => x.offset - y.offset);
    let at = base;
    for (const c of clashes) {
      if (at + a.bytes <= c.offset) break;
      at = Math.max(at, align(c.offset + c.bytes));
    }
    placed.push({ ...a, offset: at });
  }
  return placed;
}

/** Independent check used by tests: no two buffers live at the same time share bytes. */
export function overlappingEntries(plan: MemoryPlan): [string, string][] {
  const bad: [string, string][] = [];
  plan.entries.forEach((a, i) =>
    plan.entries.slice(i + 1).forEach((b) => {
      const timeOverlap = a.live[0] <= b.live[1] && b.live[0] <= a.live[1];
      const spaceOverlap = a.offset < b.offset + b.bytes && b.offset < a.offset + a.bytes;
      if (timeOverlap && spaceOverlap && a.bytes > 0 && b.bytes > 0) bad.push([a.buffer, b.buffer]);
    }),
  );
  return bad;
}
