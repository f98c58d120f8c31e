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
};
