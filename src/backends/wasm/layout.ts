// Where everything lives in the module's one linear memory: the memory plan's arena (inputs,
// outputs, intermediates at their planned offsets), then each worker's on-chip slices, then the
// slot flags workers claim scratch with, then the packing scratch of the GEMM intrinsics.
import type { LoopProgram } from '../../ir/loops.js';
import type { CosmaResult } from '../../passes/cosma-pass.js';
import type { MemoryPlan } from '../../passes/memplan.js';
import { cosmaLayout, type CosmaLayout } from './cosma-layout.js';

const ALIGN = 16;
const align = (n: number) => Math.ceil(n / ALIGN) * ALIGN;

export interface WasmLayout {
  /**
   * Byte offset of every global buffer. Under a COSMA plan these are the DRAM homes, and the layout
   * a kernel is generated with (`kernelLayout`) holds that kernel's scratchpad addresses instead.
   */
  readonly offsets: ReadonlyMap<string, number>;
  /** Present when a COSMA scratchpad plan is executed (cosma-layout.ts). */
  readonly cosma?: CosmaLayout;
  readonly scratchOffset: number;
  readonly scratchBytesPerWorker: number;
  /** Byte offset of each kernel's local buffers inside a worker's scratch. */
  readonly localOffsets: ReadonlyMap<string, ReadonlyMap<string, number>>;
  readonly slots: number;
  readonly slotFlagsOffset: number;
  readonly gemmScratchOffset: number;
  readonly totalBytes: number;
  readonly pages: number;
}

export function layoutFor(
  program: LoopProgram,
  plan: MemoryPlan,
  workers: number,
  gemmScratchBytes: number,
  cosmaPlan?: CosmaResult,
): WasmLayout {
  const offsets = new Map(plan.entries.map((e) => [e.buffer, e.offset]));
  const cosma = cosmaPlan ? cosmaLayout(program, plan, cosmaPlan) : undefined;
  const { localOffsets, perWorker } = localLayout(program);
  const scratchOffset = align(cosma ? cosma.end : plan.scratchOffset);
  const slotFlagsOffset = align(scratchOffset + perWorker * workers);
  const gemmScratchOffset = align(slotFlagsOffset + 4 * workers);
  const totalBytes = align(gemmScratchOffset + gemmScratchBytes);
  return {
    offsets,
    ...(cosma ? { cosma } : {}),
    scratchOffset,
    scratchBytesPerWorker: perWorker,
    localOffsets,
    slots: workers,
    slotFlagsOffset,
    gemmScratchOffset,
    totalBytes,
    pages: Math.max(1, Math.ceil(totalBytes / 65536)),
  };
}

/** Each kernel's local buffers inside a worker's scratch, and the most any kernel needs. */
export function localLayout(program: LoopProgram): {
  localOffsets: Map<string, ReadonlyMap<string, number>>;
  perWorker: number;
} {
  const localOffsets = new Map<string, ReadonlyMap<string, number>>();
  let perWorker = 0;
  for (const k of program.kernels) {
    const offs = new Map<string, number>();
    let at = 0;
    for (const l of k.locals) {
      offs.set(l.name, at);
      at = align(at + l.size * 4);
    }
    localOffsets.set(k.name, offs);
    perWorker = Math.max(perWorker, at);
  }
  return { localOffsets, perWorker };
}

/**
 * The layout one kernel is generated with: under a COSMA plan, its buffers at the addresses the plan
 * gives them at its step; otherwise the layout itself. Code generators only read `offsets`.
 */
export function kernelLayout(layout: WasmLayout, kernel: string): WasmLayout {
  const placed = layout.cosma?.kernelOffsets.get(kernel);
  if (!placed) return layout;
  return { ...layout, offsets: new Map([...layout.offsets, ...placed]) };
}
