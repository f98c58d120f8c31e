// Runs Loop IR programs as CUDA on the CPU: the printed kernels and host launcher, compiled with g++
// through ein_cuda_emu.h (runEmulated). Several programs share one binary (one g++ run) when given
// together: each gets its own kernel and tensor-file prefix and run function.
import type { LoopProgram } from '../../ir/loops.js';
import type { Tensor } from '../../ir/tensor.js';
import { HOST_PRELUDE, hostFunction, hostMain } from './host.js';
import { buildCudaProgram } from './emit.js';
import { runEmulated, type EmulatedTensor } from './toolchain.js';

export interface EmulatedProgram {
  readonly loops: LoopProgram;
  readonly inputs: Readonly<Record<string, Tensor>>;
}

/** The kernels and host source of a batch, as runEmulated takes them. */
export function batchSources(programs: readonly EmulatedProgram[]): { kernels: string; host: string } {
  const kernels: string[] = [];
  const functions: string[] = [];
  const host: string[] = [HOST_PRELUDE];
  programs.forEach(({ loops }, i) => {
    const prefix = programs.length === 1 ? '' : `p${i}_`;
    const program = buildCudaProgram(loops, { prefix });
    kernels.push(program.kernelSource);
    const fn = `ein_run_${prefix}${loops.name}`;
    functions.push(fn);
    host.push(hostFunction(loops, program.kernels, { function: fn, tensorPrefix: prefix }));
  });
  return { kernels: kernels.join('\n\n'), host: [...host, hostMain(functions)].join('\n\n') };
}

/** Every program's outputs, in order. */
export async function runCudaEmulated(
  programs: readonly EmulatedProgram[],
  options: { timeoutMs?: number } = {},
): Promise<Record<string, Tensor>[]> {
  const { kernels, host } = batchSources(programs);
  const inputs: Record<string, EmulatedTensor> = {};
  const outputs: Record<string, 'f32' | 'i32'> = {};
  programs.forEach(({ loops, inputs: given }, i) => {
    const prefix = programs.length === 1 ? '' : `p${i}_`;
    for (const name of loops.inputs) inputs[prefix + name] = given[name]!.data;
    for (const name of loops.outputs)
      outputs[prefix + name] = loops.buffers.find((b) => b.name === name)!.dtype;
  });
  const result = await runEmulated(kernels, host, { inputs, outputs, timeoutMs: options.timeoutMs });
  return programs.map(({ loops }, i) => {
    const prefix = programs.length === 1 ? '' : `p${i}_`;
    return Object.fromEntries(
      loops.outputs.map((name) => {
        const b = loops.buffers.find((x) => x.name === name)!;
        return [name, { dtype: b.dtype, shape: b.shape, data: result.outputs[prefix + name]! }];
      }),
    );
  });
}
