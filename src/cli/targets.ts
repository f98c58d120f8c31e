// The execution targets `ein run --target` knows. Each runs one kernel of a checked program on
// concrete inputs and returns its outputs; every one is compared against `interp` in the tests.
import type { BoundKernel } from '../ir/bind.js';
import { runBound, type Tensors } from '../ir/interpreter.js';

export interface RunRequest {
  readonly bound: BoundKernel;
  readonly inputs: Tensors;
  readonly threads?: number;
}

export type Runner = (req: RunRequest) => Promise<Tensors>;

export const runners: Record<string, Runner> = {
  interp: async ({ bound, inputs }) => runBound(bound, inputs),
};
