import { EinGpuError } from './gpu-error.js';
import { DEFAULT_GPU_TIMEOUT_MS, withTimeout } from './timeout.js';

/** The limits Ein's lowering decides with (binding splits, tile sizes, workgroup shapes). */
export interface GpuLimits {
  maxStorageBuffersPerShaderStage: number;
  maxStorageBufferBindingSize: number;
  maxBufferSize: number;
  maxUniformBufferBindingSize: number;
  maxComputeWorkgroupStorageSize: number;
  maxComputeInvocationsPerWorkgroup: number;
  maxComputeWorkgroupSizeX: number;
  maxComputeWorkgroupSizeY: number;
  maxComputeWorkgroupSizeZ: number;
  maxComputeWorkgroupsPerDimension: number;
}
const LIMIT_NAMES: readonly (keyof GpuLimits)[] = [
  'maxStorageBuffersPerShaderStage',
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxUniformBufferBindingSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY',
  'maxComputeWorkgroupSizeZ',
  'maxComputeWorkgroupsPerDimension',
];

/** Features requested whenever the adapter has them, so generated code may use f16 and subgroups. */
const OPTIONAL_FEATURES: readonly GPUFeatureName[] = ['shader-f16', 'subgroups'];

export interface AdapterSummary {
  /** Where the adapter came from: the browser's `navigator.gpu` or Dawn's Node bindings. */
  source: 'navigator.gpu' | 'node webgpu (Dawn)';
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** True for software adapters such as lavapipe or SwiftShader. */
  isFallbackAdapter: boolean;
}

export interface EinGpu {
  /** The `GPU` object the device came from; Dawn frees its instance (and crashes) once this is collected. */
  readonly instance: GPU;
  readonly device: GPUDevice;
  readonly adapter: AdapterSummary;
  readonly limits: Readonly<GpuLimits>;
  readonly features: ReadonlySet<string>;
  /** Throws if the device was lost or raised an error outside every error scope. */
  assertHealthy(): void;
  /** Releases the device; in Node this also lets the process exit. */
  destroy(): void;
}

export type GpuAcquisition = { ok: true; gpu: EinGpu } | { ok: false; reason: string };

export interface AcquireOptions {
  /**
   * 'adapter' (default) asks for the adapter's own values of {@link GpuLimits}; 'default' keeps the
   * WebGPU defaults every implementation guarantees (8 storage buffers, 16 KiB workgroup memory,
   * 256 invocations), to check that code runs anywhere.
   */
  limits?: 'adapter' | 'default';
  timeoutMs?: number;
}

const HOW_TO_ENABLE =
  'On a machine without a GPU (Debian 12), set up Mesa lavapipe once with `bash .ci/cpu-webgpu.sh` ' +
  '(Ein then finds it in ~/.cache/cpu-webgpu by itself), or export its variables with ' +
  '`source <(bash .ci/cpu-webgpu.sh)` (VK_ICD_FILENAMES, LD_LIBRARY_PATH, XDG_RUNTIME_DIR).';

/** Finds a WebGPU adapter and device, or says why none is available and how to get one. */
export async function acquireGpu(options: AcquireOptions = {}): Promise<GpuAcquisition> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_GPU_TIMEOUT_MS;
  let gpu: GPU;
  let source: AdapterSummary['source'];
  if (typeof navigator !== 'undefined' && navigator.gpu) {
    gpu = navigator.gpu;
    source = 'navigator.gpu';
  } else if (typeof process !== 'undefined' && process.versions?.node) {
    try {
      const { nodeGpu } = await import('./node-gpu.js');
      gpu = await nodeGpu();
    } catch (error) {
      return { ok: false, reason: `No WebGPU: npm package 'webgpu' failed to load (${String(error)}).` };
    }
    source = 'node webgpu (Dawn)';
  } else {
    return { ok: false, reason: 'No WebGPU: navigator.gpu is missing (in Chromium, enable WebGPU).' };
  }

  const adapter = await withTimeout(gpu.requestAdapter(), 'requestAdapter()', timeoutMs);
  if (!adapter) {
    return { ok: false, reason: `No WebGPU adapter: ${source} found no GPU. ${HOW_TO_ENABLE}` };
  }
  const features = OPTIONAL_FEATURES.filter((f) => adapter.features.has(f));
  const requiredLimits: Record<string, number> = {};
  if ((options.limits ?? 'adapter') === 'adapter') {
    for (const name of LIMIT_NAMES) requiredLimits[name] = adapter.limits[name];
  }
  const device = await withTimeout(
    adapter.requestDevice({ requiredFeatures: features, requiredLimits }),
    'requestDevice()',
    timeoutMs,
  );
  return { ok: true, gpu: wrapDevice(gpu, device, summarize(adapter, source)) };
}

function summarize(adapter: GPUAdapter, source: AdapterSummary['source']): AdapterSummary {
  const info = adapter.info;
  return {
    source,
    vendor: info.vendor,
    architecture: info.architecture,
    device: info.device,
    description: info.description,
    isFallbackAdapter: info.isFallbackAdapter ?? false,
  };
}

function wrapDevice(instance: GPU, device: GPUDevice, adapter: AdapterSummary): EinGpu {
  let lost: string | undefined;
  const uncaptured: string[] = [];
  let destroyed = false;
  void device.lost.then((info) => {
    if (!destroyed) lost = `${info.reason}: ${info.message}`;
  });
  device.onuncapturederror = (event) => uncaptured.push(event.error.message);
  const limits = Object.fromEntries(
    LIMIT_NAMES.map((name) => [name, device.limits[name]]),
  ) as unknown as GpuLimits;
  return {
    instance,
    device,
    adapter,
    limits,
    features: new Set(device.features),
    assertHealthy() {
      if (lost !== undefined) throw new EinGpuError('device-lost', `WebGPU device lost (${lost})`);
      if (uncaptured.length > 0) {
        const messages = uncaptured.splice(0).join('\n');
        throw new EinGpuError('validation', `WebGPU error outside an error scope:\n${messages}`);
      }
    },
    destroy() {
      destroyed = true;
      device.destroy();
    },
  };
}

/** One line for test logs: "mesa software llvmpipe: Mesa 25.0.7 (LLVM 15.0.6) via node webgpu (Dawn)". */
export function describeAdapter(adapter: AdapterSummary): string {
  const parts = [adapter.vendor, adapter.architecture, adapter.description || adapter.device].filter(Boolean);
  return `${parts.join(' ')} via ${adapter.source}`;
}
