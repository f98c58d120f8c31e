import type { EinGpu } from './device.js';
import { withErrorScopes } from './error-scopes.js';
import { EinGpuError } from './gpu-error.js';
import { compileWgsl } from './shader.js';
import { DEFAULT_GPU_TIMEOUT_MS, withTimeout } from './timeout.js';

/** A `var<storage, read>` or `var<storage, read_write>` binding of `@group(0)`. */
export interface StorageBinding {
  name: string;
  binding: number;
  access: 'read' | 'read_write';
  /** Initial contents; without it the buffer starts zeroed with `byteLength` bytes. */
  data?: ArrayBufferView;
  byteLength?: number;
}

/** A `var<uniform>` binding of `@group(0)`. */
export interface UniformBinding {
  binding: number;
  data: ArrayBufferView;
}

export interface ComputeRun {
  wgsl: string;
  entryPoint: string;
  storage: readonly StorageBinding[];
  uniform?: UniformBinding;
  /** Workgroups to dispatch in x, y and z. */
  workgroups: readonly [number, number?, number?];
  label?: string;
  timeoutMs?: number;
}

/** The contents of every read_write binding after the dispatch, by binding name. */
export type ComputeResult = Record<string, ArrayBuffer>;

/** Compiles, binds, dispatches once and reads back; every WebGPU error becomes an EinGpuError. */
export async function runCompute(gpu: EinGpu, run: ComputeRun): Promise<ComputeResult> {
  const label = run.label ?? run.entryPoint;
  checkLimits(gpu, run, label);
  const module = await compileWgsl(gpu, run.wgsl, label);
  const created: GPUBuffer[] = [];
  try {
    const staging = await withErrorScopes(gpu, `dispatch of '${label}'`, () =>
      encodeAndSubmit(gpu.device, module, run, created),
    );
    return await withErrorScopes(gpu, `read-back of '${label}'`, () =>
      readBack(staging, run.timeoutMs ?? DEFAULT_GPU_TIMEOUT_MS, label),
    );
  } finally {
    for (const buffer of created) buffer.destroy();
  }
}

/** WebGPU would reject these too, but with a message that does not say which limit or binding. */
function checkLimits(gpu: EinGpu, run: ComputeRun, label: string): void {
  const { limits } = gpu;
  if (run.storage.length > limits.maxStorageBuffersPerShaderStage) {
    throw new EinGpuError(
      'limit',
      `'${label}' binds ${run.storage.length} storage buffers; this device allows ` +
        `maxStorageBuffersPerShaderStage = ${limits.maxStorageBuffersPerShaderStage}`,
    );
  }
  for (const binding of run.storage) {
    const size = byteSize(binding);
    if (size > limits.maxStorageBufferBindingSize) {
      throw new EinGpuError(
        'limit',
        `'${label}' binding '${binding.name}' has ${size} bytes; this device allows ` +
          `maxStorageBufferBindingSize = ${limits.maxStorageBufferBindingSize}`,
      );
    }
  }
  for (const count of run.workgroups) {
    if (count !== undefined && count > limits.maxComputeWorkgroupsPerDimension) {
      throw new EinGpuError(
        'limit',
        `'${label}' dispatches ${count} workgroups in one dimension; this device allows ` +
          `maxComputeWorkgroupsPerDimension = ${limits.maxComputeWorkgroupsPerDimension}`,
      );
    }
  }
}

function byteSize(binding: StorageBinding): number {
  const size = binding.data?.byteLength ?? binding.byteLength;
  if (size === undefined) throw new Error(`storage binding '${binding.name}' needs data or byteLength`);
  return size;
}

/** Sizes rounded up as WebGPU requires (multiples of 4; 16 for uniforms), never zero. */
function paddedSize(bytes: number, alignment: number): number {
  return Math.max(alignment, Math.ceil(bytes / alignment) * alignment);
}

function createFilledBuffer(
  device: GPUDevice,
  size: number,
  usage: GPUBufferUsageFlags,
  data: ArrayBufferView | undefined,
  label: string,
): GPUBuffer {
  const buffer = device.createBuffer({ size, usage, label, mappedAtCreation: data !== undefined });
  if (data) {
    new Uint8Array(buffer.getMappedRange()).set(
      new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
    );
    buffer.unmap();
  }
  return buffer;
}

interface Staging {
  name: string;
  buffer: GPUBuffer;
  byteLength: number;
}

function encodeAndSubmit(
  device: GPUDevice,
  module: GPUShaderModule,
  run: ComputeRun,
  created: GPUBuffer[],
): Staging[] {
  const layoutEntries: GPUBindGroupLayoutEntry[] = [];
  const groupEntries: GPUBindGroupEntry[] = [];
  const staging: Staging[] = [];
  const encoder = device.createCommandEncoder();
  const copies: (() => void)[] = [];

  for (const binding of run.storage) {
    const byteLength = byteSize(binding);
    const size = paddedSize(byteLength, 4);
    const readWrite = binding.access === 'read_write';
    const usage =
      GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | (readWrite ? GPUBufferUsage.COPY_SRC : 0);
    const buffer = createFilledBuffer(device, size, usage, binding.data, binding.name);
    created.push(buffer);
    layoutEntries.push({
      binding: binding.binding,
      visibility: GPUShaderStage.COMPUTE,
      buffer: { type: readWrite ? 'storage' : 'read-only-storage' },
    });
    groupEntries.push({ binding: binding.binding, resource: { buffer } });
    if (readWrite) {
      const target = device.createBuffer({
        size,
        usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
        label: `${binding.name} (read-back)`,
      });
      created.push(target);
      staging.push({ name: binding.name, buffer: target, byteLength });
      copies.push(() => encoder.copyBufferToBuffer(buffer, 0, target, 0, size));
    }
  }
  if (run.uniform) {
    const { binding, data } = run.uniform;
    const usage = GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST;
    const buffer = createFilledBuffer(device, paddedSize(data.byteLength, 16), usage, data, 'uniforms');
    created.push(buffer);
    layoutEntries.push({ binding, visibility: GPUShaderStage.COMPUTE, buffer: { type: 'uniform' } });
    groupEntries.push({ binding, resource: { buffer } });
  }

  const bindGroupLayout = device.createBindGroupLayout({ entries: layoutEntries });
  const pipeline = device.createComputePipeline({
    layout: device.createPipelineLayout({ bindGroupLayouts: [bindGroupLayout] }),
    compute: { module, entryPoint: run.entryPoint },
  });
  const pass = encoder.beginComputePass();
  pass.setPipeline(pipeline);
  pass.setBindGroup(0, device.createBindGroup({ layout: bindGroupLayout, entries: groupEntries }));
  const [x, y = 1, z = 1] = run.workgroups;
  pass.dispatchWorkgroups(x, y, z);
  pass.end();
  for (const copy of copies) copy();
  device.queue.submit([encoder.finish()]);
  return staging;
}

async function readBack(
  staging: readonly Staging[],
  timeoutMs: number,
  label: string,
): Promise<ComputeResult> {
  const result: ComputeResult = {};
  for (const { name, buffer, byteLength } of staging) {
    await withTimeout(buffer.mapAsync(GPUMapMode.READ), `mapAsync of '${name}' for '${label}'`, timeoutMs);
    result[name] = buffer.getMappedRange().slice(0, byteLength);
    buffer.unmap();
  }
  return result;
}
