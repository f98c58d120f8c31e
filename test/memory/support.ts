// Shared by the memory tests: compile, run on WASM, compare with the interpreter, and measure the
// intermediate bytes a run really touched.
import { fillSentinel, intermediateRegion, touchedBytes } from '../../src/backends/wasm/arena-probe.js';
import { buildWasmProgram } from '../../src/backends/wasm/program.js';
import { WasmRunner } from '../../src/backends/wasm/runner.js';
import type { CascadeProgram } from '../../src/ir/cascade.js';
import { bindKernel } from '../../src/ir/bind.js';
import { interpret } from '../../src/ir/interpreter.js';
import { randomInputs } from '../../src/ir/random-inputs.js';
import type { Tensor } from '../../src/ir/tensor.js';
import type { CompileState } from '../../src/passes/state.js';

export function maxRelativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++)
    worst = Math.max(worst, Math.abs(a[i]! - b[i]!) / Math.max(1, Math.abs(b[i]!)));
  return worst;
}

export interface Reference {
  readonly inputs: Record<string, Tensor>;
  readonly want: Record<string, Tensor>;
}

export function reference(program: CascadeProgram, ranks: Record<string, number>, seed = 5): Reference {
  const kernel = program.kernels[program.kernels.length - 1]!.name;
  const inputs = randomInputs(bindKernel(program, kernel, { ranks }), seed);
  return { inputs, want: interpret(program, kernel, inputs, { ranks }) };
}

export interface Execution {
  readonly outputs: Record<string, Tensor>;
  /** Bytes of the intermediate region (global intermediates and worker scratch) the run wrote. */
  readonly touchedBytes: number;
}

export async function execute(
  state: CompileState,
  inputs: Record<string, Tensor>,
  threads = 1,
): Promise<Execution> {
  const program = buildWasmProgram(state, { threads });
  const runner = await WasmRunner.create(program);
  try {
    const region = intermediateRegion(program);
    fillSentinel(runner.memory, region);
    const outputs = runner.run(inputs);
    return { outputs, touchedBytes: touchedBytes(runner.memory, region) };
  } finally {
    await runner.close();
  }
}

export function worstError(got: Record<string, Tensor>, want: Record<string, Tensor>): number {
  return Math.max(...Object.keys(want).map((o) => maxRelativeError(got[o]!.data, want[o]!.data)));
}
