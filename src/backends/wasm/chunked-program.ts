// An AutoChunk plan (passes/chunking.ts) as one WebAssembly program: every region's kernels are
// exports of one module over one memory, each generated with its buffers where the plan's layout
// (passes/chunk-layout.ts) puts them. All regions share the workers' scratch, slot flags and GEMM
// packing scratch after the activations, since they run one after another.
import type { ChunkPlan } from '../../passes/chunking.js';
import type { SliceCopy } from '../../passes/chunk-layout.js';
import type { CompileState } from '../../passes/state.js';
import { buildKernelModule } from './kernel-module.js';
import { addKernels, gemmScratchOf } from './kernel-steps.js';
import { localLayout, type WasmLayout } from './layout.js';
import type { WasmBuildOptions, WasmProgram, WasmStep } from './program.js';
import { ScalarMath } from './scalar-math.js';

const ALIGN = 16;
const align = (n: number) => Math.ceil(n / ALIGN) * ALIGN;

export interface ChunkedSegmentRun {
  readonly steps: readonly WasmStep[];
  /** 1 for a region run whole. */
  readonly count: number;
  readonly size: number;
  /** Per chunk: slices copied into the region's buffers before its steps, and out after. */
  readonly gathers: readonly SliceCopy[];
  readonly scatters: readonly SliceCopy[];
}

export interface ChunkedRun {
  readonly segments: readonly ChunkedSegmentRun[];
  /** Where activation memory starts: the runner's inputs and outputs lie below it. */
  readonly activationOffset: number;
}

export function buildChunkedProgram(
  state: CompileState,
  plan: ChunkPlan,
  opts: WasmBuildOptions,
): WasmProgram {
  if (opts.guardBytes) throw new Error('guard regions are not implemented for chunked programs');
  const threads = Math.max(1, opts.threads);
  const relaxedSimd = opts.relaxedSimd ?? false;
  const { layout: planned, compiled } = plan;
  const names = compiled.flatMap((c) => c.state.loops!.kernels.map((k) => k.name));
  if (new Set(names).size !== names.length)
    throw new Error(`internal: kernel names repeat across regions: ${names}`);
  const offsets = compiled.map((_, i) => new Map(Object.entries(planned.segments[i]!.offsets)));
  const locals = compiled.map((c) => localLayout(c.state.loops!));
  const perWorker = Math.max(0, ...locals.map((l) => l.perWorker));
  const gemmScratch = Math.max(
    0,
    ...compiled.map((c, i) => gemmScratchOf(c.state.loops!, offsets[i]!, relaxedSimd)),
  );
  const scratchOffset = align(planned.scratchOffset);
  const slotFlagsOffset = align(scratchOffset + perWorker * threads);
  const gemmScratchOffset = align(slotFlagsOffset + 4 * threads);
  const totalBytes = align(gemmScratchOffset + gemmScratch);
  const shared = {
    scratchOffset,
    scratchBytesPerWorker: perWorker,
    localOffsets: new Map(locals.flatMap((l) => [...l.localOffsets])),
    slots: threads,
    slotFlagsOffset,
    gemmScratchOffset,
    totalBytes,
    pages: Math.max(1, Math.ceil(totalBytes / 65536)),
  };
  const layouts: WasmLayout[] = offsets.map((o) => ({ offsets: o, ...shared }));
  const segmentSteps: WasmStep[][] = [];
  const bytes = buildKernelModule(
    { memoryPages: shared.pages, maximumPages: shared.pages, shared: true, relaxedSimd },
    (mod) => {
      const math = new ScalarMath(mod);
      compiled.forEach((c, i) => {
        const loops = c.state.loops!;
        const steps = addKernels(mod, math, loops, () => layouts[i]!, relaxedSimd);
        segmentSteps.push(loops.kernels.flatMap((k) => steps.get(k.name)!));
      });
    },
  );
  const segments = compiled.map((c, i) => ({
    steps: segmentSteps[i]!,
    count: c.count,
    size: c.segment.chunk?.size ?? 0,
    gathers: planned.segments[i]!.gathers,
    scatters: planned.segments[i]!.scatters,
  }));
  return {
    bytes,
    layout: { ...shared, offsets: new Map(Object.entries(planned.ioOffsets)) },
    steps: segments.flatMap((s) => s.steps),
    loops: state.loops!,
    threads,
    relaxedSimd,
    chunking: { segments, activationOffset: planned.activationOffset },
  };
}
