// Runs a Loop IR program on a WebGPU device once: the program made resident (resident.ts), inputs
// written, every kernel a compute pass of one command buffer, outputs read back, buffers released.
// Shader modules must compile without a warning; every device call runs inside error scopes.
import type { LoopProgram } from '../../ir/loops.js';
import type { Tensor } from '../../ir/tensor.js';
import type { EinGpu, GpuLimits } from './device.js';
import { withErrorScopes } from './error-scopes.js';
import { EinGpuError } from './gpu-error.js';
import {
  buildWgslProgram,
  WEBGPU_DEFAULT_LIMITS,
  type WgslProgram,
  type WgslProgramLimits,
} from './program.js';
import { ResidentWgslProgram } from './resident.js';

export interface WgslRunOptions {
  /** Limits below the device's, to exercise packing and splitting (tests) or to mimic a smaller device. */
  readonly limits?: Partial<WgslProgramLimits>;
  readonly timeoutMs?: number;
}

/** The device's limits, lowered to any given in `options`. */
export function effectiveLimits(
  device: Readonly<GpuLimits>,
  requested: Partial<WgslProgramLimits> = {},
): WgslProgramLimits {
  const keys = Object.keys(WEBGPU_DEFAULT_LIMITS) as (keyof WgslProgramLimits)[];
  return Object.fromEntries(
    keys.map((k) => [k, Math.min(device[k], requested[k] ?? device[k])]),
  ) as unknown as WgslProgramLimits;
}

/** Prints `loops` for this device and runs it on `inputs`; returns the outputs. */
export async function runLoopsOnGpu(
  gpu: EinGpu,
  loops: LoopProgram,
  inputs: Readonly<Record<string, Tensor>>,
  options: WgslRunOptions = {},
): Promise<Record<string, Tensor>> {
  const program = buildWgslProgram(loops, { limits: effectiveLimits(gpu.limits, options.limits) });
  return runWgslProgram(gpu, program, inputs, options);
}

export async function runWgslProgram(
  gpu: EinGpu,
  program: WgslProgram,
  inputs: Readonly<Record<string, Tensor>>,
  options: WgslRunOptions = {},
): Promise<Record<string, Tensor>> {
  const { loops } = program;
  for (const name of loops.inputs)
    if (!inputs[name]) throw new EinGpuError('validation', `input ${name} of ${loops.name} was not given`);
  let resident: ResidentWgslProgram | undefined;
  try {
    resident = await withErrorScopes(gpu, `dispatch of ${loops.name}`, async () => {
      const r = await ResidentWgslProgram.create(gpu, program, options);
      for (const name of loops.inputs) r.write(name, inputs[name]!.data);
      r.submitAll();
      return r;
    });
    const done = resident;
    return await withErrorScopes(gpu, `read-back of ${loops.name}`, () => done.readOutputs());
  } finally {
    resident?.destroy();
  }
}
