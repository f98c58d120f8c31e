/**
 * Solves the COSMA ILP with HiGHS under a time limit, decodes the plan, and
 * checks it independently (validatePlan plus an objective recount).
 */
import { assemblePlan } from './assemble.js';
import { analyzeGraph, operatorFootprintBound, type AnalyzedGraph, type OperatorGraph } from './graph.js';
import { greedyPlanForAnalysis } from './greedy.js';
import { solveMip } from './highs.js';
import { buildCosmaModel, type CosmaModelSpec } from './ilp-model.js';
import { writeLpText } from './lp-text.js';
import { assertValidPlan, type ScratchpadPlan, type SolverReport, type SolverStatus } from './plan.js';
import { scheduleFromNames, type Schedule } from './schedule.js';
import { initialState, type RawStep } from './state.js';

export const DEFAULT_TIME_LIMIT_SECONDS = 10;

export interface IlpOptions {
  /** Operator names in execution order (COSMA-FS, Eq. 16–17); omit to let the ILP choose. */
  readonly schedule?: readonly string[];
  readonly timeLimitSeconds?: number;
}

export interface IlpResult {
  readonly status: SolverStatus;
  /** Present when the solver found a plan (`optimal` or `feasible`). */
  readonly plan: ScratchpadPlan | null;
  readonly solver: SolverReport;
  /** One sentence on the outcome, for reports. */
  readonly message: string;
}

/** What one model solve produced, before it becomes a plan. */
export interface ModelSolve {
  readonly status: SolverStatus;
  readonly steps: readonly RawStep[] | null;
  /** Non-compulsory bytes of the incumbent (Eq. 12); null without one. */
  readonly objective: number | null;
  readonly bestBound: number | null;
  readonly seconds: number;
  readonly variables: number;
  readonly rows: number;
}

export function assertCapacity(capacity: number): void {
  if (!Number.isSafeInteger(capacity) || capacity <= 0) {
    throw new Error(`scratchpad capacity must be a positive integer byte count, got ${capacity}`);
  }
}

/** Builds, solves and decodes one model; `startSteps` seeds HiGHS with a plan. */
export async function solveCosmaModel(
  spec: CosmaModelSpec,
  timeLimitSeconds: number,
  startSteps: readonly RawStep[] | null,
): Promise<ModelSolve> {
  const model = buildCosmaModel(spec);
  const sizes = { variables: model.lp.variables.length, rows: model.lp.rows.length };
  if (model.infeasibleRow !== null) {
    return { status: 'infeasible', steps: null, objective: null, bestBound: null, seconds: 0, ...sizes };
  }
  const start = startSteps === null ? undefined : model.encode(startSteps);
  const outcome = await solveMip(writeLpText(model.lp), timeLimitSeconds, start);
  // Traffic is never negative, so 0 is a valid bound before HiGHS proves one;
  // all objective coefficients are integers, so bounds round up.
  const bestBound =
    outcome.status === 'infeasible' ? null : Math.max(0, Math.ceil((outcome.bestBound ?? 0) - 1e-6));
  const objective = outcome.objective === null ? null : Math.round(outcome.objective);
  return {
    status: outcome.status,
    steps: outcome.objective === null ? null : model.decode(outcome.value),
    objective,
    bestBound: outcome.status === 'optimal' ? objective : bestBound,
    seconds: outcome.seconds,
    ...sizes,
  };
}

export function relativeGap(objective: number | null, bound: number | null): number | null {
  if (objective === null || bound === null) return null;
  return objective === 0 ? 0 : Math.max(0, (objective - bound) / objective);
}

/** The COSMA ILP over the whole graph, free or fixed schedule. */
export async function ilpPlanForAnalysis(
  graph: OperatorGraph,
  analysis: AnalyzedGraph,
  capacity: number,
  order: Schedule | null,
  timeLimitSeconds: number,
): Promise<IlpResult> {
  assertCapacity(capacity);
  const schedule = order === null ? 'free' : 'fixed';
  const footprint = operatorFootprintBound(analysis);
  if (capacity < footprint.bytes) {
    const solver: SolverReport = {
      status: 'infeasible',
      schedule,
      objective: null,
      bestBound: null,
      gap: null,
      seconds: 0,
      timeLimitSeconds,
      variables: 0,
      rows: 0,
      windows: 1,
    };
    const op = analysis.operators[footprint.operator]!.name;
    const message =
      `infeasible: operator "${op}" alone needs ${footprint.bytes} bytes of inputs and ` +
      `outputs on chip, more than the ${capacity}-byte scratchpad`;
    return { status: 'infeasible', plan: null, solver, message };
  }
  const steps = analysis.operators.length;
  const greedy = greedyPlanForAnalysis(analysis, capacity, order === null ? undefined : [order]);
  const solve = await solveCosmaModel(
    { analysis, capacity, order, firstStep: 1, lastStep: steps, start: initialState },
    timeLimitSeconds,
    greedy.ok ? greedy.steps : null,
  );
  const solver: SolverReport = {
    status: solve.status,
    schedule,
    objective: solve.objective,
    bestBound: solve.bestBound,
    gap: relativeGap(solve.objective, solve.bestBound),
    seconds: solve.seconds,
    timeLimitSeconds,
    variables: solve.variables,
    rows: solve.rows,
    windows: 1,
  };
  if (solve.steps === null) {
    const message =
      solve.status === 'infeasible'
        ? `infeasible: no ${schedule}-schedule plan fits a ${capacity}-byte scratchpad`
        : `no plan found within the ${timeLimitSeconds} s time limit`;
    return { status: solve.status, plan: null, solver, message };
  }
  const plan = assemblePlan(analysis, solve.steps, capacity, 'ilp', solver);
  assertValidPlan(graph, plan, capacity);
  if (plan.traffic.nonCompulsoryBytes !== solve.objective) {
    throw new Error(
      `internal error: the ILP objective ${solve.objective} disagrees with the decoded ` +
        `plan's ${plan.traffic.nonCompulsoryBytes} non-compulsory bytes`,
    );
  }
  const message =
    solve.status === 'optimal'
      ? `optimal: ${plan.traffic.nonCompulsoryBytes} non-compulsory bytes`
      : `time limit: ${plan.traffic.nonCompulsoryBytes} non-compulsory bytes, best bound ${solve.bestBound ?? 'unknown'}`;
  return { status: solve.status, plan, solver, message };
}

/** Plans with the COSMA ILP (HiGHS). */
export async function planIlp(
  graph: OperatorGraph,
  capacity: number,
  options: IlpOptions = {},
): Promise<IlpResult> {
  const analysis = analyzeGraph(graph);
  const order = options.schedule ? scheduleFromNames(analysis, options.schedule) : null;
  const timeLimit = options.timeLimitSeconds ?? DEFAULT_TIME_LIMIT_SECONDS;
  return ilpPlanForAnalysis(graph, analysis, capacity, order, timeLimit);
}
