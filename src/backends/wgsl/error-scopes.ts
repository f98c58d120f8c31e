import type { EinGpu } from './device.js';
import { EinGpuError, type EinGpuErrorKind } from './gpu-error.js';
import { withTimeout } from './timeout.js';

const FILTERS: readonly GPUErrorFilter[] = ['validation', 'out-of-memory', 'internal'];

/**
 * Runs `action` inside validation, out-of-memory and internal error scopes and throws an
 * {@link EinGpuError} for anything they caught. Dawn reports these errors asynchronously and only
 * prints them otherwise, so every WebGPU call of Ein goes through here.
 */
export async function withErrorScopes<T>(
  gpu: EinGpu,
  what: string,
  action: () => T | Promise<T>,
): Promise<T> {
  gpu.assertHealthy();
  for (const filter of FILTERS) gpu.device.pushErrorScope(filter);
  let outcome: { value: T } | { thrown: unknown };
  try {
    outcome = { value: await action() };
  } catch (thrown) {
    outcome = { thrown };
  }
  const caught: { kind: EinGpuErrorKind; message: string }[] = [];
  // Scopes pop in reverse order of pushing.
  for (const filter of [...FILTERS].reverse()) {
    const error = await withTimeout(gpu.device.popErrorScope(), `popErrorScope('${filter}') after ${what}`);
    if (error) caught.push({ kind: filter, message: error.message.trim() });
  }
  // A WebGPU error usually explains a later failure (a map of a buffer that was never written), so
  // it wins; validation, the most specific, names the error's kind.
  if (caught.length > 0) {
    const details = caught.map((c) => `[${c.kind}] ${c.message}`);
    if ('thrown' in outcome) details.push(`(then: ${String(outcome.thrown)})`);
    throw new EinGpuError(caught[caught.length - 1].kind, `${what} failed:\n${details.join('\n')}`);
  }
  if ('thrown' in outcome) throw outcome.thrown;
  gpu.assertHealthy();
  return outcome.value;
}
