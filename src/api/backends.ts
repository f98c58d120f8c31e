// The GPU backends as the library sees them: a printer (compiled state → source text) and, for WGSL,
// a runner. They are written separately (src/backends/wgsl, src/backends/cuda) and plug in here, so
// the library and the playground show "not available yet" until a backend registers itself.
import type { Tensors } from '../ir/interpreter.js';
import type { CompileState } from '../passes/state.js';

export type GpuTarget = 'wgsl' | 'cuda';

export interface GpuBackend {
  /** The generated source of every kernel of the compiled program. */
  readonly print: (state: CompileState) => string;
  /** Runs the compiled program on `inputs`; absent for targets JavaScript cannot run (CUDA). */
  readonly run?: (state: CompileState, inputs: Tensors) => Promise<Tensors>;
}

const registry: Partial<Record<GpuTarget, GpuBackend>> = {};

/** Registers (or replaces) the backend of `target`. */
export function registerBackend(target: GpuTarget, backend: GpuBackend): void {
  registry[target] = backend;
}

export function backendFor(target: GpuTarget): GpuBackend | undefined {
  return registry[target];
}
