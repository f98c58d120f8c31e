// Peak memory of a model run: predicted from the bound program before any weight is read, and
// measured from the typed arrays the runtime actually holds.
//
// The prediction: the tensors that live for the whole run (weights, KV cache) plus, for the hungriest
// kernel call, its non-persistent inputs (activations, scalars) and every tensor the call creates.
// That last term is what the reference interpreter allocates: it keeps all intermediates of a call
// alive until the call returns, and a nested kernel call adds its own while it runs. Backends that
// reuse buffers need less, so the prediction is an upper bound for them.
import { bindKernel, type BoundKernel } from '../ir/bind.js';
import type { Tensors } from '../ir/interpreter.js';
import { sizeOf } from '../ir/tensor.js';
import { formatBytes } from '../ir/limits.js';
import { EinRuntimeError } from './errors.js';

const bytesOfShape = (shape: readonly number[]): number => sizeOf(shape) * 4;

/** Bytes a call of `bound` allocates: its intermediates and outputs, and those of nested calls. */
export function kernelWorkingBytes(bound: BoundKernel): number {
  const { kernel } = bound;
  let own = 0;
  for (const info of Object.values(kernel.tensors))
    if (info.kind !== 'input') own += bytesOfShape(bound.shapes.get(info.name)!);
  let nested = 0;
  for (const step of kernel.steps) {
    if (step.kind !== 'call') continue;
    const callee = bound.program.kernels.find((k) => k.name === step.kernel)!;
    const inputShapes = Object.fromEntries(
      callee.params.map((p, i) => [p, bound.shapes.get(step.args[i]!)!] as const),
    );
    const calleeBound = bindKernel(bound.program, step.kernel, { inputShapes });
    // The callee's outputs are the caller's tensors, already counted in `own`.
    const outputs = callee.outputs.reduce((sum, o) => sum + bytesOfShape(calleeBound.shapes.get(o)!), 0);
    nested = Math.max(nested, kernelWorkingBytes(calleeBound) - outputs);
  }
  return own + nested;
}

export interface MemoryPrediction {
  /** Weights and caches: alive for the whole run. */
  readonly persistentBytes: number;
  /** The largest call: its activation inputs plus everything it allocates. */
  readonly largestCallBytes: number;
  readonly largestKernel: string;
  readonly totalBytes: number;
}

/**
 * `persistent` names, per kernel, the inputs that are weights or caches (counted once overall, in
 * `persistentBytes`); every other input of a kernel is an activation counted with its call.
 */
export function predictPeakMemory(
  kernels: readonly BoundKernel[],
  persistent: ReadonlyMap<BoundKernel, ReadonlySet<string>>,
  persistentBytes: number,
): MemoryPrediction {
  let largestCallBytes = 0;
  let largestKernel = '';
  for (const bound of kernels) {
    const kept = persistent.get(bound) ?? new Set<string>();
    const activations = bound.kernel.params
      .filter((p) => !kept.has(p))
      .reduce((sum, p) => sum + bytesOfShape(bound.shapes.get(p)!), 0);
    const call = activations + kernelWorkingBytes(bound);
    if (call > largestCallBytes) [largestCallBytes, largestKernel] = [call, bound.kernel.name];
  }
  return {
    persistentBytes,
    largestCallBytes,
    largestKernel,
    totalBytes: persistentBytes + largestCallBytes,
  };
}

/**
 * Measured memory: the bytes of the typed arrays the runtime allocated and holds (weights, caches,
 * scalars), plus the largest set of tensors a kernel call handed back; and, where the platform can
 * tell, the process's peak of ArrayBuffer bytes, which also sees what a Runner allocates inside a call.
 */
export class MemoryMeter {
  private ownedBytes = 0;
  private largestOutputBytes = 0;
  private arrayBufferPeak = 0;

  own(...arrays: readonly ArrayBufferView[]): void {
    for (const a of arrays) this.ownedBytes += a.byteLength;
  }

  observe(outputs: Tensors): void {
    const bytes = Object.values(outputs).reduce((sum, t) => sum + t.data.byteLength, 0);
    this.largestOutputBytes = Math.max(this.largestOutputBytes, bytes);
    this.sampleProcess();
  }

  sampleProcess(): void {
    if (typeof process === 'undefined') return;
    this.arrayBufferPeak = Math.max(this.arrayBufferPeak, process.memoryUsage().arrayBuffers);
  }

  get heldBytes(): number {
    return this.ownedBytes + this.largestOutputBytes;
  }

  get processArrayBufferPeak(): number {
    return this.arrayBufferPeak;
  }
}

export function describeMemory(prediction: MemoryPrediction, meter: MemoryMeter): string {
  const p = prediction;
  return [
    `predicted peak memory: ${formatBytes(p.totalBytes)} (${p.totalBytes} B: weights and caches ${formatBytes(p.persistentBytes)}, largest call ${p.largestKernel} ${formatBytes(p.largestCallBytes)})`,
    `measured peak memory: ${formatBytes(meter.heldBytes)} (${meter.heldBytes} B held by the runtime); process ArrayBuffer peak ${formatBytes(meter.processArrayBufferPeak)}`,
  ].join('\n');
}

/**
 * The refusal of a model that needs more memory than its caller allows, naming both amounts; undefined
 * within the limit (or without one). `need` says what the bytes are ("at its peak", "of GPU buffers"),
 * `allowedBy` where the limit came from (`ein generate`'s --max-memory), when a flag set it.
 */
export function memoryLimitError(
  subject: string,
  neededBytes: number,
  need: string,
  maxBytes: number | undefined,
  allowedBy?: string,
): EinRuntimeError | undefined {
  if (maxBytes === undefined || neededBytes <= maxBytes) return undefined;
  return new EinRuntimeError(
    `${subject} needs ${formatBytes(neededBytes)} (${neededBytes} bytes) ${need}, ` +
      `more than the ${formatBytes(maxBytes)} (${maxBytes} bytes) allowed${allowedBy ? ` by ${allowedBy}` : ''}`,
  );
}
