import {
  acquireGpu,
  describeAdapter,
  type AcquireOptions,
  type EinGpu,
} from '../../src/backends/wgsl/index.js';

export interface TestGpu {
  gpu: EinGpu | undefined;
  /** A describe() title that carries the adapter, or the reason the suite is skipped. */
  title: string;
}

/**
 * A WebGPU device for a test file. Outside CI a missing adapter skips the suite with the reason
 * (which says how to enable lavapipe); in CI (process.env.CI set) it fails the file instead.
 */
export async function gpuForTests(suite: string, options?: AcquireOptions): Promise<TestGpu> {
  const acquired = await acquireGpu(options);
  if (acquired.ok)
    return { gpu: acquired.gpu, title: `${suite} on ${describeAdapter(acquired.gpu.adapter)}` };
  if (process.env.CI) throw new Error(`CI must run the WebGPU tests. ${acquired.reason}`);
  return { gpu: undefined, title: `${suite} (skipped: ${acquired.reason})` };
}
