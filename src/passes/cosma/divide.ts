/**
 * Divide-and-conquer for graphs too large for one ILP (COSMA §IV, as
 * reconstructed in the implementation note): fix a schedule, cut it into
 * windows at narrow points, and solve the windows in order with the
 * fixed-schedule ILP (Eq. 16–17), each starting from the state the previous
 * window left (tensors on chip at fixed addresses, or in DRAM).
 */
import { assemblePlan } from './assemble.js';
import { analyzeGraph, type AnalyzedGraph, type OperatorGraph } from './graph.js';
import { greedyPlanForAnalysis, simulateGreedy } from './greedy.js';
import { assertCapacity, relativeGap, solveCosmaModel } from './ilp.js';
import { assertValidPlan, type ScratchpadPlan, type SolverStatus } from './plan.js';
import { minPeakOrder, scheduleFromNames, type Schedule } from './schedule.js';
import {
  advanceState,
  initialState,
  nonCompulsoryBytes,
  readSteps,
  type RawStep,
  type ScratchpadState,
} from './state.js';

export const DEFAULT_WINDOW_SIZE = 6;

export interface DivideOptions {
  /** Fixed schedule; by default the best greedy order for this capacity. */
  readonly order?: Schedule;
  /** Operators per window (at most; cuts move earlier to narrow points). */
  readonly windowSize?: number;
  /** Time limit per window. */
  readonly timeLimitSeconds?: number;
}

export type DivideResult =
  | { readonly ok: true; readonly plan: ScratchpadPlan; readonly order: Schedule }
  | { readonly ok: false; readonly failure: string };

/**
 * Cuts steps 1..N into windows of at most `windowSize` steps, each ending
 * where the fewest bytes are live across the cut (searched over the second
 * half of the window), so little state is carried between windows.
 */
export function cutWindows(analysis: AnalyzedGraph, order: Schedule, windowSize: number): [number, number][] {
  if (!Number.isInteger(windowSize) || windowSize < 1) {
    throw new Error(`window size must be a positive integer, got ${windowSize}`);
  }
  const reads = readSteps(analysis, order);
  const stepOf = new Map(order.map((op, index) => [op, index + 1]));
  // Bytes that exist by the end of step `cut` and are read after it.
  const crossing = (cut: number): number =>
    analysis.tensors.reduce((sum, tensor, a) => {
      const producer = analysis.producer[a]!;
      const born = producer === null ? Math.min(...reads[a]!) : stepOf.get(producer)!;
      const readAfter = reads[a]!.some((step) => step > cut);
      return born <= cut && readAfter ? sum + tensor.bytes : sum;
    }, 0);
  const windows: [number, number][] = [];
  const count = order.length;
  for (let first = 1; first <= count;) {
    let last = Math.min(count, first + windowSize - 1);
    if (last < count) {
      for (let cut = last - 1; cut >= first + Math.ceil(windowSize / 2) - 1; cut--) {
        if (crossing(cut) < crossing(last)) last = cut;
      }
    }
    windows.push([first, last]);
    first = last + 1;
  }
  return windows;
}

export async function dividePlanForAnalysis(
  graph: OperatorGraph,
  analysis: AnalyzedGraph,
  capacity: number,
  options: DivideOptions = {},
): Promise<DivideResult> {
  assertCapacity(capacity);
  const timeLimit = options.timeLimitSeconds ?? 5;
  const greedy = greedyPlanForAnalysis(analysis, capacity);
  const order = options.order ?? (greedy.ok ? greedy.order : minPeakOrder(analysis));
  const windows = cutWindows(analysis, order, options.windowSize ?? DEFAULT_WINDOW_SIZE);

  let state: ScratchpadState = initialState;
  const steps: RawStep[] = [];
  const totals = { objective: 0, bound: 0 as number | null, seconds: 0, variables: 0, rows: 0 };
  let status: SolverStatus = 'optimal';
  for (const [first, last] of windows) {
    const seed = simulateGreedy(analysis, order, capacity, first, last, state);
    const spec = { analysis, capacity, order, firstStep: first, lastStep: last, start: state };
    const solve = await solveCosmaModel(spec, timeLimit, seed.ok ? seed.steps : null);
    totals.seconds += solve.seconds;
    totals.variables += solve.variables;
    totals.rows += solve.rows;
    let windowSteps = solve.steps;
    if (windowSteps === null || solve.status !== 'optimal') status = 'feasible';
    if (windowSteps === null) {
      // No ILP plan in time (or none from this carried state): keep greedy's.
      if (!seed.ok) {
        return {
          ok: false,
          failure: `steps ${first}-${last}: no plan from the state earlier windows left (${seed.failure})`,
        };
      }
      windowSteps = seed.steps;
      totals.bound = null;
    } else if (totals.bound !== null) {
      totals.bound = solve.bestBound === null ? null : totals.bound + solve.bestBound;
    }
    const windowBytes = nonCompulsoryBytes(analysis, windowSteps, state);
    if (solve.steps !== null && windowBytes !== solve.objective) {
      throw new Error(
        `internal error: window ${first}-${last} objective ${solve.objective} disagrees ` +
          `with its decoded ${windowBytes} non-compulsory bytes`,
      );
    }
    totals.objective += windowBytes;
    for (const step of windowSteps) {
      steps.push(step);
      state = advanceState(analysis, state, step);
    }
  }

  const plan = assemblePlan(analysis, steps, capacity, 'divide', {
    status,
    schedule: 'fixed',
    objective: totals.objective,
    bestBound: totals.bound,
    gap: relativeGap(totals.objective, totals.bound),
    seconds: totals.seconds,
    timeLimitSeconds: timeLimit,
    variables: totals.variables,
    rows: totals.rows,
    windows: windows.length,
  });
  assertValidPlan(graph, plan, capacity);
  return { ok: true, plan, order };
}

/** Divide-and-conquer over a named schedule (or the best greedy order). */
export async function planDivide(
  graph: OperatorGraph,
  capacity: number,
  options: Omit<DivideOptions, 'order'> & { readonly schedule?: readonly string[] } = {},
): Promise<DivideResult> {
  const analysis = analyzeGraph(graph);
  const { schedule, ...rest } = options;
  const order = schedule ? scheduleFromNames(analysis, schedule) : undefined;
  return dividePlanForAnalysis(graph, analysis, capacity, order ? { ...rest, order } : rest);
}
