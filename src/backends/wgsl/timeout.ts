import { EinGpuError } from './gpu-error.js';

/** GPU waits on a software adapter may never resolve when something is wrong: tests must not hang. */
export const DEFAULT_GPU_TIMEOUT_MS = 30_000;

export async function withTimeout<T>(
  promise: Promise<T>,
  what: string,
  ms = DEFAULT_GPU_TIMEOUT_MS,
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new EinGpuError('timeout', `${what} did not finish within ${ms} ms`)),
      ms,
    );
  });
  try {
    return await Promise.race([promise, expired]);
  } finally {
    clearTimeout(timer);
  }
}
