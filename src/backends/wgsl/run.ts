// Runs a Loop IR program on a WebGPU device: one GPUBuffer per storage unit (bindings.ts), inputs
// written at creation, every kernel a compute pass of one command buffer (WebGPU orders passes and
// makes each one's writes visible to the next), outputs copied out and read back. Shader modules
// must compile without a warning; every device call runs inside error scopes.
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
import { compileWgsl } from './shader.js';
import { DEFAULT_GPU_TIMEOUT_MS, withTimeout } from './timeout.js';

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
  const { loops, layout } = program;
  for (const name of loops.inputs)
    if (!inputs[name]) throw new EinGpuError('validation', `input ${name} of ${loops.name} was not given`);
  const modules = new Map<string, GPUShaderModule>();
  for (const k of program.kernels) modules.set(k.name, await compileWgsl(gpu, k.source, k.name));
  const created: GPUBuffer[] = [];
  const device = gpu.device;
  try {
    const staging = await withErrorScopes(gpu, `dispatch of ${loops.name}`, () => {
      const units = new Map<string, GPUBuffer>();
      for (const unit of layout.units) {
        const fills = unit.members.filter((m) => inputs[m.buffer] && loops.inputs.includes(m.buffer));
        const buffer = device.createBuffer({
          label: unit.name,
          size: Math.max(4, unit.elements * 4),
          usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
          mappedAtCreation: fills.length > 0,
        });
        created.push(buffer);
        if (fills.length > 0) {
          const bytes = new Uint8Array(buffer.getMappedRange());
          for (const m of fills) {
            const data = inputs[m.buffer]!.data;
            const source = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
            for (const s of layout.segments.get(m.buffer)!)
              if (s.unit === unit.name)
                bytes.set(source.subarray(s.start * 4, (s.start + s.length) * 4), s.offset * 4);
          }
          buffer.unmap();
        }
        units.set(unit.name, buffer);
      }
      const encoder = device.createCommandEncoder({ label: loops.name });
      for (const k of program.kernels) {
        const bindGroupLayout = device.createBindGroupLayout({
          entries: k.bindings.map((b, i) => ({
            binding: i,
            visibility: GPUShaderStage.COMPUTE,
            buffer: { type: b.access === 'read_write' ? 'storage' : 'read-only-storage' },
          })),
        });
        const pipeline = device.createComputePipeline({
          label: k.name,
          layout: device.createPipelineLayout({ bindGroupLayouts: [bindGroupLayout] }),
          compute: { module: modules.get(k.name)!, entryPoint: k.entryPoint },
        });
        const pass = encoder.beginComputePass({ label: k.name });
        pass.setPipeline(pipeline);
        pass.setBindGroup(
          0,
          device.createBindGroup({
            layout: bindGroupLayout,
            entries: k.bindings.map((b, i) => ({ binding: i, resource: { buffer: units.get(b.unit)! } })),
          }),
        );
        pass.dispatchWorkgroups(...k.workgroups);
        pass.end();
      }
      const readBack = loops.outputs.map((name) => {
        const size = loops.buffers.find((b) => b.name === name)!.size;
        const target = device.createBuffer({
          label: `${name} (read-back)`,
          size: Math.max(4, size * 4),
          usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
        });
        created.push(target);
        for (const s of layout.segments.get(name)!)
          encoder.copyBufferToBuffer(units.get(s.unit)!, s.offset * 4, target, s.start * 4, s.length * 4);
        return { name, target, size };
      });
      device.queue.submit([encoder.finish()]);
      return readBack;
    });
    return await withErrorScopes(gpu, `read-back of ${loops.name}`, async () => {
      const outputs: Record<string, Tensor> = {};
      for (const { name, target, size } of staging) {
        const timeout = options.timeoutMs ?? DEFAULT_GPU_TIMEOUT_MS;
        await withTimeout(target.mapAsync(GPUMapMode.READ), `mapAsync of ${name}`, timeout);
        const bytes = target.getMappedRange().slice(0, size * 4);
        target.unmap();
        const decl = loops.buffers.find((b) => b.name === name)!;
        outputs[name] = {
          dtype: decl.dtype,
          shape: decl.shape,
          data: decl.dtype === 'i32' ? new Int32Array(bytes) : new Float32Array(bytes),
        };
      }
      return outputs;
    });
  } finally {
    for (const b of created) b.destroy();
  }
}
