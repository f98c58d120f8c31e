// A Loop IR program as WGSL: the storage layout shared by all kernels and one shader module per
// kernel, printed for a set of device limits (the WebGPU defaults, which every device offers, unless
// told otherwise).
import type { LoopProgram } from '../../ir/loops.js';
import { kernelHeader } from '../c-header.js';
import { planStorage, type BindingLimits, type StorageLayout } from './bindings.js';
import { WgslPrinter, type WgslKernel, type WgslLimits } from './printer.js';

export type WgslProgramLimits = WgslLimits & BindingLimits;

/** The limits every WebGPU implementation guarantees. */
export const WEBGPU_DEFAULT_LIMITS: WgslProgramLimits = {
  maxStorageBuffersPerShaderStage: 8,
  maxStorageBufferBindingSize: 128 * 1024 * 1024,
  maxComputeInvocationsPerWorkgroup: 256,
  maxComputeWorkgroupsPerDimension: 65535,
  maxComputeWorkgroupStorageSize: 16 * 1024,
};

export interface WgslProgram {
  readonly loops: LoopProgram;
  readonly layout: StorageLayout;
  readonly kernels: readonly WgslKernel[];
  readonly limits: WgslProgramLimits;
}

export interface BuildWgslOptions {
  readonly limits?: Partial<WgslProgramLimits>;
  /** The cost model's traffic per kernel, for the header comments. */
  readonly traffic?: readonly (string | undefined)[];
}

export function buildWgslProgram(loops: LoopProgram, options: BuildWgslOptions = {}): WgslProgram {
  const limits = { ...WEBGPU_DEFAULT_LIMITS, ...options.limits };
  const layout = planStorage(loops, limits);
  const kernels = loops.kernels.map((kernel, i) =>
    new WgslPrinter(layout, limits).printKernel(kernel, loops, (plan, dispatch) =>
      kernelHeader(kernel, plan, dispatch, 'a WGSL compute shader', options.traffic?.[i]),
    ),
  );
  return { loops, layout, kernels, limits };
}
