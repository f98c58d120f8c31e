/**
 * Index-based step records the planners produce, and the scratchpad state
 * carried from one step (or one divide-and-conquer window) to the next.
 */
import { startsInDram, type AnalyzedGraph } from './graph.js';

/** One step as a planner decided it, before it is turned into a named plan. */
export interface RawStep {
  readonly operator: number;
  /** Tensors on chip while the operator runs, mapped to their base addresses. */
  readonly resident: ReadonlyMap<number, number>;
  /** Written to DRAM between the previous step and this one; off chip now (Eq. 3). */
  readonly spills: readonly number[];
  /** Brought on chip before this step runs (first loads of inputs included). */
  readonly loads: readonly number[];
}

export interface ScratchpadState {
  /** On chip after the last executed step, with base addresses. */
  readonly resident: ReadonlyMap<number, number>;
  /** Intermediates written to DRAM (at most once, Eq. 8). */
  readonly spilled: ReadonlySet<number>;
  /** Tensors whose producer has run. */
  readonly created: ReadonlySet<number>;
  /** Inputs and weights loaded at least once (their compulsory load is done). */
  readonly loaded: ReadonlySet<number>;
}

export const initialState: ScratchpadState = {
  resident: new Map(),
  spilled: new Set(),
  created: new Set(),
  loaded: new Set(),
};

/**
 * Whether DRAM holds a valid copy, so dropping the tensor is free and a later
 * load is legal: inputs and weights always, outputs once created (their
 * compulsory store happens at creation), intermediates once spilled.
 */
export function hasDramCopy(analysis: AnalyzedGraph, state: ScratchpadState, tensor: number): boolean {
  const { kind } = analysis.tensors[tensor]!;
  if (startsInDram(kind)) return true;
  if (kind === 'output') return state.created.has(tensor);
  return state.spilled.has(tensor);
}

export function advanceState(
  analysis: AnalyzedGraph,
  state: ScratchpadState,
  step: RawStep,
): ScratchpadState {
  const loadedInputs = step.loads.filter((tensor) => startsInDram(analysis.tensors[tensor]!.kind));
  return {
    resident: step.resident,
    spilled: new Set([...state.spilled, ...step.spills]),
    created: new Set([...state.created, ...analysis.operatorOutputs[step.operator]!]),
    loaded: new Set([...state.loaded, ...loadedInputs]),
  };
}

/** Steps (1-based) at which each tensor is read under a fixed schedule. */
export function readSteps(analysis: AnalyzedGraph, order: readonly number[]): number[][] {
  const steps: number[][] = analysis.tensors.map(() => []);
  order.forEach((op, index) => {
    for (const tensor of analysis.operatorInputs[op]!) steps[tensor]!.push(index + 1);
  });
  return steps;
}

/**
 * Non-compulsory bytes of consecutive steps run from `start` (Eq. 12):
 * spills plus loads, minus the first load of each input or weight.
 */
export function nonCompulsoryBytes(
  analysis: AnalyzedGraph,
  steps: readonly RawStep[],
  start: ScratchpadState,
): number {
  const loaded = new Set(start.loaded);
  let bytes = 0;
  for (const step of steps) {
    for (const tensor of [...step.spills, ...step.loads]) {
      const { bytes: size, kind } = analysis.tensors[tensor]!;
      if (startsInDram(kind) && !loaded.has(tensor) && step.loads.includes(tensor)) {
        loaded.add(tensor);
      } else {
        bytes += size;
      }
    }
  }
  return bytes;
}
