/**
 * The greedy baseline and fallback: a topological order, first-fit addresses,
 * and furthest-next-use (Belady) eviction with spill and reload. It obeys the
 * same rules as the ILP, so its plans are feasible ILP solutions.
 */
import { analyzeGraph, type AnalyzedGraph, type OperatorGraph } from './graph.js';
import { assemblePlan } from './assemble.js';
import { assertValidPlan, type ScratchpadPlan } from './plan.js';
import { candidateOrders, scheduleFromNames, type Schedule } from './schedule.js';
import {
  advanceState,
  hasDramCopy,
  initialState,
  readSteps,
  type RawStep,
  type ScratchpadState,
} from './state.js';

export type GreedySimulation =
  | { readonly ok: true; readonly steps: readonly RawStep[]; readonly state: ScratchpadState }
  | { readonly ok: false; readonly failure: string };

/**
 * Runs steps [firstStep, lastStep] (1-based) of `order` from `start`.
 * Fails only when the tensors the current operator needs cannot be placed
 * (too large, or fragmented around tensors that must stay put, Eq. 11).
 */
export function simulateGreedy(
  analysis: AnalyzedGraph,
  order: Schedule,
  capacity: number,
  firstStep = 1,
  lastStep = order.length,
  start: ScratchpadState = initialState,
): GreedySimulation {
  const reads = readSteps(analysis, order);
  const nextRead = (tensor: number, step: number): number =>
    reads[tensor]!.find((at) => at >= step) ?? Infinity;
  const bytes = (tensor: number): number => analysis.tensors[tensor]!.bytes;
  let state = start;
  const steps: RawStep[] = [];

  for (let step = firstStep; step <= lastStep; step++) {
    const op = order[step - 1]!;
    const opName = analysis.operators[op]!.name;
    const inputs = analysis.operatorInputs[op]!;
    const needed = new Set([...inputs, ...analysis.operatorOutputs[op]!]);
    // Dropping tensors nobody reads again is free and never hurts.
    const resident = new Map([...state.resident].filter(([tensor]) => nextRead(tensor, step) !== Infinity));
    const spills: number[] = [];
    const loads = inputs.filter((tensor) => !resident.has(tensor));
    const toPlace = [...loads, ...analysis.operatorOutputs[op]!].sort((a, b) => bytes(b) - bytes(a) || a - b);
    for (const tensor of toPlace) {
      let offset = firstFit(resident, bytes(tensor), capacity, bytes);
      while (offset === null) {
        const victim = furthestNextUse([...resident.keys()], needed, (t) => nextRead(t, step));
        if (victim === null) {
          return {
            ok: false,
            failure:
              `step ${step} (${opName}): no free range of ${bytes(tensor)} bytes for ` +
              `"${analysis.tensors[tensor]!.name}" in a ${capacity}-byte scratchpad`,
          };
        }
        resident.delete(victim);
        if (!hasDramCopy(analysis, state, victim)) spills.push(victim);
        offset = firstFit(resident, bytes(tensor), capacity, bytes);
      }
      resident.set(tensor, offset);
    }
    const raw: RawStep = { operator: op, resident, spills, loads };
    steps.push(raw);
    state = advanceState(analysis, state, raw);
  }
  return { ok: true, steps, state };
}

/** Lowest address where `size` bytes fit between the resident tensors. */
function firstFit(
  resident: ReadonlyMap<number, number>,
  size: number,
  capacity: number,
  bytes: (tensor: number) => number,
): number | null {
  const taken = [...resident]
    .map(([tensor, offset]) => [offset, offset + bytes(tensor)] as const)
    .sort((a, b) => a[0] - b[0]);
  let cursor = 0;
  for (const [begin, end] of taken) {
    if (begin - cursor >= size) return cursor;
    cursor = Math.max(cursor, end);
  }
  return capacity - cursor >= size ? cursor : null;
}

/** Belady's choice: the evictable tensor read again furthest in the future. */
function furthestNextUse(
  resident: readonly number[],
  pinned: ReadonlySet<number>,
  nextRead: (tensor: number) => number,
): number | null {
  let victim: number | null = null;
  for (const tensor of resident) {
    if (pinned.has(tensor)) continue;
    if (victim === null || nextRead(tensor) > nextRead(victim)) victim = tensor;
  }
  return victim;
}

export type GreedyResult =
  | {
      readonly ok: true;
      readonly plan: ScratchpadPlan;
      readonly order: Schedule;
      readonly steps: readonly RawStep[];
    }
  | { readonly ok: false; readonly failures: readonly string[] };

/**
 * Tries each candidate order (or the given one) and keeps the plan with the
 * least non-compulsory traffic.
 */
export function greedyPlanForAnalysis(
  analysis: AnalyzedGraph,
  capacity: number,
  orders: readonly Schedule[] = candidateOrders(analysis),
): GreedyResult {
  let best: { plan: ScratchpadPlan; order: Schedule; steps: readonly RawStep[] } | null = null;
  const failures: string[] = [];
  for (const order of orders) {
    const run = simulateGreedy(analysis, order, capacity);
    if (!run.ok) {
      failures.push(run.failure);
      continue;
    }
    const plan = assemblePlan(analysis, run.steps, capacity, 'greedy', null);
    if (best === null || plan.traffic.nonCompulsoryBytes < best.plan.traffic.nonCompulsoryBytes) {
      best = { plan, order, steps: run.steps };
    }
  }
  return best === null ? { ok: false, failures } : { ok: true, ...best };
}

export interface GreedyOptions {
  /** Operator names in execution order; by default several orders are tried. */
  readonly schedule?: readonly string[];
}

export function planGreedy(
  graph: OperatorGraph,
  capacity: number,
  options: GreedyOptions = {},
): GreedyResult {
  const analysis = analyzeGraph(graph);
  const orders = options.schedule ? [scheduleFromNames(analysis, options.schedule)] : undefined;
  const result = greedyPlanForAnalysis(analysis, capacity, orders);
  if (result.ok) assertValidPlan(graph, result.plan, capacity);
  return result;
}
