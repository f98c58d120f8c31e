// A compiled kernel as one WebAssembly module plus the steps to run it: every Loop IR kernel is an
// export `(start, end)`; a kernel that is a lone contraction becomes the register-blocked GEMM
// (pack, then compute). The module imports its memory, so a thread pool can share it.
import type { LoopProgram } from '../../ir/loops.js';
import type { CompileState } from '../../passes/state.js';
import { buildChunkedProgram, type ChunkedRun } from './chunked-program.js';
import { cosmaKernelProgram, type BufferCopy } from './cosma-layout.js';
import { guardedLayout } from './guard-regions.js';
import { buildKernelModule } from './kernel-module.js';
import { addKernels, gemmScratchOf } from './kernel-steps.js';
import { kernelLayout, layoutFor, type WasmLayout } from './layout.js';
import { ScalarMath } from './scalar-math.js';

export interface WasmStep {
  readonly exportName: string;
  readonly count: number;
  /** COSMA plans: spills, loads and reloads before the step, stores after it (the runner copies). */
  readonly copiesBefore?: readonly BufferCopy[];
  readonly copiesAfter?: readonly BufferCopy[];
}

export interface WasmProgram {
  readonly bytes: Uint8Array<ArrayBuffer>;
  readonly layout: WasmLayout;
  readonly steps: readonly WasmStep[];
  readonly loops: LoopProgram;
  readonly threads: number;
  readonly relaxedSimd: boolean;
  /** AutoChunk: the runner runs the regions in order, chunked ones once per chunk (chunked-program.ts). */
  readonly chunking?: ChunkedRun;
}

export interface WasmBuildOptions {
  readonly threads: number;
  readonly relaxedSimd?: boolean;
  /** Test mode: every buffer in its own region between guard bytes (guard-regions.ts). */
  readonly guardBytes?: number;
}

export function buildWasmProgram(state: CompileState, opts: WasmBuildOptions): WasmProgram {
  if (state.chunking) return buildChunkedProgram(state, state.chunking, opts);
  const loops = state.loops!;
  const threads = Math.max(1, opts.threads);
  const relaxedSimd = opts.relaxedSimd ?? false;
  const planOffsets = new Map(state.memory!.entries.map((e) => [e.buffer, e.offset]));
  // Under a COSMA plan every step runs its own (tile) kernel at the plan's addresses.
  const kernelLoops = state.cosma ? cosmaKernelProgram(loops, state.cosma) : loops;
  const gemmScratch = gemmScratchOf(kernelLoops, planOffsets, relaxedSimd);
  const planned = layoutFor(kernelLoops, state.memory!, threads, gemmScratch, state.cosma);
  const layout = opts.guardBytes ? guardedLayout(planned, loops, opts.guardBytes) : planned;
  let kernelSteps = new Map<string, WasmStep[]>();
  const bytes = buildKernelModule(
    { memoryPages: layout.pages, maximumPages: layout.pages, shared: true, relaxedSimd },
    (mod) => {
      kernelSteps = addKernels(
        mod,
        new ScalarMath(mod),
        kernelLoops,
        (k) => kernelLayout(layout, k),
        relaxedSimd,
      );
    },
  );
  const steps = layout.cosma
    ? layout.cosma.order.flatMap((name) =>
        withCopies(kernelSteps.get(name)!, layout.cosma!.before.get(name)!, layout.cosma!.after.get(name)!),
      )
    : loops.kernels.flatMap((k) => kernelSteps.get(k.name)!);
  return { bytes, layout, steps, loops, threads, relaxedSimd };
}

/** A kernel's phases with the plan's copies before the first and after the last. */
function withCopies(
  phases: readonly WasmStep[],
  before: readonly BufferCopy[],
  after: readonly BufferCopy[],
): WasmStep[] {
  return phases.map((p, i) => ({
    ...p,
    ...(i === 0 && before.length ? { copiesBefore: before } : {}),
    ...(i === phases.length - 1 && after.length ? { copiesAfter: after } : {}),
  }));
}
