// The execution targets `ein run --target` knows. Each runs one kernel of a checked program on
// concrete inputs and returns its outputs; every one is compared against `interp` in the tests.
import { cpus } from 'node:os';
import { buildWasmProgram } from '../backends/wasm/program.js';
import { WasmRunner } from '../backends/wasm/runner.js';
import { hasRelaxedSimd } from '../backends/wasm/features.js';
import type { BoundKernel } from '../ir/bind.js';
import { runBound, type Tensors } from '../ir/interpreter.js';
import { executeLoops } from '../ir/loop-interpreter.js';
import { compileKernel } from '../passes/pipeline.js';
import type { TargetName } from '../backends/targets.js';
import { emitters } from '../backends/emitters.js';
import { acquireGpu } from '../backends/wgsl/device.js';
import { emitWgsl } from '../backends/wgsl/emit.js';
import { runLoopsOnGpu } from '../backends/wgsl/run.js';
import { emitCuda } from '../backends/cuda/emit.js';
import { runCudaEmulated } from '../backends/cuda/run.js';
import { EinError } from '../frontend/diagnostics.js';

// `ein compile --target wgsl|cuda -o DIR` writes what these emit besides the Loop IR.
emitters.wgsl ??= emitWgsl;
emitters.cuda ??= emitCuda;

export interface RunRequest {
  readonly bound: BoundKernel;
  readonly inputs: Tensors;
  readonly threads?: number;
}

export type Runner = (req: RunRequest) => Promise<Tensors>;

/** Compile the bound kernel with every rank it was bound to. */
export function compileBound(bound: BoundKernel, target: TargetName, threads = 1) {
  return compileKernel(bound.program, {
    kernel: bound.kernel.name,
    ranks: Object.fromEntries(bound.ranks),
    target,
    threads,
  });
}

export const defaultThreads = (): number => Math.max(1, cpus().length);

/** Targets whose models run as one persistent program (`ein generate`: src/runtime/{wasm,wgsl}-model-llama.ts). */
export const persistentModelTargets: ReadonlySet<string> = new Set(['wasm', 'wgsl']);

export const runners: Record<string, Runner> = {
  interp: async ({ bound, inputs }) => runBound(bound, inputs),
  /** The Loop IR's own interpreter: checks the passes without any backend. */
  loops: async ({ bound, inputs }) => executeLoops(compileBound(bound, 'wasm').loops!, inputs),
  wasm: async ({ bound, inputs, threads }) => {
    const n = threads ?? defaultThreads();
    const program = buildWasmProgram(compileBound(bound, 'wasm', n), {
      threads: n,
      relaxedSimd: hasRelaxedSimd(),
    });
    const runner = await WasmRunner.create(program);
    try {
      return runner.run(inputs);
    } finally {
      await runner.close();
    }
  },
  /** WGSL on a WebGPU device (a CPU adapter such as lavapipe works), compared in the tests. */
  wgsl: async ({ bound, inputs }) => {
    const acquired = await acquireGpu();
    if (!acquired.ok) throw new EinError({ message: `--target wgsl: ${acquired.reason}` });
    try {
      return await runLoopsOnGpu(acquired.gpu, compileBound(bound, 'wgsl').loops!, inputs);
    } finally {
      acquired.gpu.destroy();
    }
  },
  /** The CUDA kernels and launcher, compiled with g++ through ein_cuda_emu.h and run on the CPU. */
  'cuda-emu': async ({ bound, inputs }) => {
    const [outputs] = await runCudaEmulated([{ loops: compileBound(bound, 'cuda').loops!, inputs }]);
    return outputs!;
  },
};
