// Every Loop IR kernel of a program as exports of a module under construction: a kernel that is a
// lone contraction becomes the register-blocked GEMM (pack, then compute), any other a loop kernel.
// Shared by the plain program (program.ts) and the chunked one, whose regions share one module.
import type binaryen from 'binaryen';
import type { ContractStmt, LoopProgram } from '../../ir/loops.js';
import { addGemm, gemmScratchBytes, type GemmSpec } from './gemm.js';
import type { WasmLayout } from './layout.js';
import { addLoopKernel } from './loop-codegen.js';
import type { WasmStep } from './program.js';
import type { ScalarMath } from './scalar-math.js';

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

/** Bytes of packing scratch the program's GEMMs need, with buffers at `offsets`. */
export function gemmScratchOf(
  loops: LoopProgram,
  offsets: ReadonlyMap<string, number>,
  relaxedSimd: boolean,
): number {
  return Math.max(
    0,
    ...loops.kernels.map((k) => {
      const c = loneContract(k.body);
      return c ? gemmScratchBytes(gemmSpec(k.name, c, { offsets }, 0, relaxedSimd)) : 0;
    }),
  );
}

/** Adds every kernel of `loops`, each generated for `layoutOf(kernel)`; the steps that run each. */
export function addKernels(
  mod: binaryen.Module,
  math: ScalarMath,
  loops: LoopProgram,
  layoutOf: (kernel: string) => WasmLayout,
  relaxedSimd: boolean,
): Map<string, WasmStep[]> {
  const steps = new Map<string, WasmStep[]>();
  for (const k of loops.kernels) {
    const c = loneContract(k.body);
    const at = layoutOf(k.name);
    if (c) {
      const gemm = addGemm(mod, gemmSpec(k.name, c, at, at.gemmScratchOffset, relaxedSimd));
      steps.set(
        k.name,
        gemm.phases.map((p) => ({ exportName: p.exportName, count: p.count })),
      );
    } else {
      const e = addLoopKernel(mod, math, k, at, { relaxedSimd, buffers: loops.buffers });
      steps.set(k.name, [{ exportName: e.name, count: e.count }]);
    }
  }
  return steps;
}
