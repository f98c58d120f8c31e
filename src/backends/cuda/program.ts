// The CUDA kernels file for a Loop IR program: helpers, then one `extern "C" __global__` per kernel.
// No node:* imports, so the library and the playground can print CUDA in a browser.
import type { LoopProgram } from '../../ir/loops.js';
import { kernelHeader } from '../c-header.js';
import { cudaHelper, CudaPrinter, type CudaKernel } from './printer.js';

export interface CudaProgram {
  readonly kernels: readonly CudaKernel[];
  /** Helpers and kernels: self-contained, no includes. */
  readonly kernelSource: string;
}

export interface BuildCudaOptions {
  /** Prepended to kernel names, so that several programs can share one file. */
  readonly prefix?: string;
  readonly traffic?: readonly (string | undefined)[];
}

export function buildCudaProgram(loops: LoopProgram, options: BuildCudaOptions = {}): CudaProgram {
  const helpers = new Set<string>();
  const kernels = loops.kernels.map((kernel, i) => {
    const printer = new CudaPrinter();
    const printed = printer.printKernel(
      kernel,
      loops,
      (plan, grid) => kernelHeader(kernel, plan, grid, 'a CUDA kernel', options.traffic?.[i]),
      options.prefix,
    );
    printer.helpers.forEach((h) => helpers.add(h));
    return printed;
  });
  const kernelSource = [...[...helpers].sort().map(cudaHelper), ...kernels.map((k) => k.source)].join('\n\n');
  return { kernels, kernelSource };
}

/** The host launcher; with `includes`, it includes the kernels file and ein_tensor_io.h itself. */
