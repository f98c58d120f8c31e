// A compiled kernel as one WebAssembly module plus the steps to run it: every Loop IR kernel is an
// export `(start, end)`; a kernel that is a lone contraction becomes the register-blocked GEMM
// (pack, then compute). The module imports its memory, so a thread pool can share it.
import type { ContractStmt, LoopProgram } from '../../ir/loops.js';
import type { ChunkPlan } from '../../passes/chunking.js';
import type { CompileState } from '../../passes/state.js';
import { addGemm, gemmScratchBytes, type GemmSpec } from './gemm.js';
import { buildKernelModule } from './kernel-module.js';
import type { BufferCopy } from './cosma-layout.js';
import { guardedLayout } from './guard-regions.js';
import { kernelLayout, layoutFor, type WasmLayout } from './layout.js';
import { addLoopKernel } from './loop-codegen.js';
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
  /** AutoChunk: the runner runs the steps once per chunk on slices of the inputs and outputs. */
  readonly chunking?: ChunkPlan;
}

export interface WasmBuildOptions {
  readonly threads: number;
  readonly relaxedSimd?: boolean;
  /** Test mode: every buffer in its own region between guard bytes (guard-regions.ts). */
  readonly guardBytes?: number;
}

/** A kernel whose whole body is one contract at constant offsets: the GEMM's case. */
function loneContract(body: LoopProgram['kernels'][number]['body']): ContractStmt | undefined {
  const [s] = body;
  return body.length === 1 &&
    s?.k === 'contract' &&
    s.outOffset.k === 'const' &&
    s.aOffset.k === 'const' &&
    s.bOffset.k === 'const'
    ? s
    : undefined;
}

function gemmSpec(
  name: string,
  c: ContractStmt,
  layout: Pick<WasmLayout, 'offsets'>,
  scratchOffset: number,
  relaxedSimd: boolean,
): GemmSpec {
  const at = (buffer: string, offset: ContractStmt['aOffset']) =>
    layout.offsets.get(buffer)! + 4 * (offset.k === 'const' ? offset.v : 0);
  return {
    name,
    m: c.m,
    n: c.n,
    k: c.kDim,
    a: { offset: at(c.a, c.aOffset), strideM: c.aStride[0], strideK: c.aStride[1] },
    b: { offset: at(c.b, c.bOffset), strideK: c.bStride[0], strideN: c.bStride[1] },
    c: { offset: at(c.out, c.outOffset), strideM: c.outStride[0], strideN: c.outStride[1] },
    alpha: c.scale,
    accumulate: c.accumulate,
    scratchOffset,
    relaxedSimd,
  };
}

export function buildWasmProgram(state: CompileState, opts: WasmBuildOptions): WasmProgram {
  const loops = state.loops!;
  const threads = Math.max(1, opts.threads);
  const relaxedSimd = opts.relaxedSimd ?? false;
  const planOffsets = { offsets: new Map(state.memory!.entries.map((e) => [e.buffer, e.offset])) };
  const gemmScratch = Math.max(
    0,
    ...loops.kernels.map((k) => {
      const c = loneContract(k.body);
      return c ? gemmScratchBytes(gemmSpec(k.name, c, planOffsets, 0, relaxedSimd)) : 0;
    }),
  );
  const planned = layoutFor(loops, state.memory!, threads, gemmScratch, state.cosma?.plan);
  const layout = opts.guardBytes ? guardedLayout(planned, loops, opts.guardBytes) : planned;
  const kernelSteps = new Map<string, WasmStep[]>();
  const bytes = buildKernelModule(
    { memoryPages: layout.pages, maximumPages: layout.pages, shared: true, relaxedSimd },
    (mod) => {
      const math = new ScalarMath(mod);
      for (const k of loops.kernels) {
        const c = loneContract(k.body);
        const at = kernelLayout(layout, k.name);
        if (c) {
          const gemm = addGemm(mod, gemmSpec(k.name, c, at, layout.gemmScratchOffset, relaxedSimd));
          kernelSteps.set(
            k.name,
            gemm.phases.map((p) => ({ exportName: p.exportName, count: p.count })),
          );
        } else {
          const e = addLoopKernel(mod, math, k, at, { relaxedSimd, buffers: loops.buffers });
          kernelSteps.set(k.name, [{ exportName: e.name, count: e.count }]);
        }
      }
    },
  );
  const steps = layout.cosma
    ? layout.cosma.order.flatMap((name) =>
        withCopies(kernelSteps.get(name)!, layout.cosma!.before.get(name)!, layout.cosma!.after.get(name)!),
      )
    : loops.kernels.flatMap((k) => kernelSteps.get(k.name)!);
  return {
    bytes,
    layout,
    steps,
    loops,
    threads,
    relaxedSimd,
    ...(state.chunking ? { chunking: state.chunking } : {}),
  };
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
