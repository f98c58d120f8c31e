/**
 * Entry point: picks the ILP for small graphs and divide-and-conquer for
 * large ones (model size grows as O(|T||A|²), §III-F), always computes the
 * greedy baseline, and never returns a plan worse than greedy's.
 */
import { certifyForAnalysis, type CapacityCertificate } from './certificate.js';
import { dividePlanForAnalysis, DEFAULT_WINDOW_SIZE } from './divide.js';
import { analyzeGraph, type OperatorGraph } from './graph.js';
import { greedyPlanForAnalysis } from './greedy.js';
import { assertCapacity, DEFAULT_TIME_LIMIT_SECONDS, ilpPlanForAnalysis } from './ilp.js';
import type { PlanMethod, ScratchpadPlan } from './plan.js';
import { fixedSchedulePlan } from './fixed-schedule.js';
import { minPeakOrder, scheduleFromNames } from './schedule.js';

/** Above this many operators, `auto` switches from one ILP to windows. */
export const DEFAULT_MAX_ILP_OPERATORS = 10;

export interface PlanOptions {
  readonly method?: 'auto' | PlanMethod;
  /** Operator names in execution order; fixes the schedule for every method. */
  readonly schedule?: readonly string[];
  /** For `ilp` the whole solve, for `divide` each window. */
  readonly timeLimitSeconds?: number;
  readonly maxIlpOperators?: number;
  readonly windowSize?: number;
  /** When nothing fits, search for the smallest capacity that does (default true). */
  readonly certifyOnFailure?: boolean;
}

export interface PlanOutcome {
  /** The best plan found, or null when none fits. */
  readonly plan: ScratchpadPlan | null;
  /** The greedy baseline at the same capacity, or null when greedy fails. */
  readonly baseline: ScratchpadPlan | null;
  /** What was tried and why a fallback was taken. */
  readonly notes: readonly string[];
  /** Present when no plan fits: the smallest capacity that would. */
  readonly certificate: CapacityCertificate | null;
}

export async function planScratchpad(
  graph: OperatorGraph,
  capacity: number,
  options: PlanOptions = {},
): Promise<PlanOutcome> {
  assertCapacity(capacity);
  const analysis = analyzeGraph(graph);
  const order = options.schedule ? scheduleFromNames(analysis, options.schedule) : null;
  const timeLimit = options.timeLimitSeconds ?? DEFAULT_TIME_LIMIT_SECONDS;
  const maxIlp = options.maxIlpOperators ?? DEFAULT_MAX_ILP_OPERATORS;
  const auto = options.method === undefined || options.method === 'auto';
  const large = analysis.operators.length > maxIlp;
  const method = auto ? (large ? 'divide' : 'ilp') : options.method!;
  const notes: string[] = [
    `method: ${auto && large ? 'fixed-schedule ILP, else divide' : method} (${analysis.operators.length} operators)`,
  ];

  const greedy = greedyPlanForAnalysis(analysis, capacity, order === null ? undefined : [order]);
  const baseline = greedy.ok ? greedy.plan : null;
  if (!greedy.ok) notes.push(`greedy found no plan: ${greedy.failures.join('; ')}`);

  let plan: ScratchpadPlan | null = baseline;
  // Too large for the free-schedule model: the fixed-schedule ILP on greedy's order first.
  const fixed =
    auto && large
      ? await fixedSchedulePlan(
          graph,
          analysis,
          capacity,
          greedy.ok ? greedy.order : (order ?? minPeakOrder(analysis)),
          timeLimit,
          greedy.ok ? greedy.steps : null,
        )
      : null;
  if (fixed) notes.push(`fixed-schedule ilp: ${fixed.message}`);
  if (fixed?.plan) {
    plan = fixed.plan;
  } else if (method === 'ilp') {
    const result = await ilpPlanForAnalysis(graph, analysis, capacity, order, timeLimit);
    notes.push(`ilp: ${result.message}`);
    plan = result.plan;
  } else if (method === 'divide') {
    const result = await dividePlanForAnalysis(graph, analysis, capacity, {
      ...(order === null ? {} : { order }),
      windowSize: options.windowSize ?? DEFAULT_WINDOW_SIZE,
      timeLimitSeconds: timeLimit,
    });
    notes.push(result.ok ? `divide: ${result.plan.solver?.windows} windows` : `divide: ${result.failure}`);
    plan = result.ok ? result.plan : null;
  }
  if (
    baseline !== null &&
    (plan === null || baseline.traffic.nonCompulsoryBytes < plan.traffic.nonCompulsoryBytes)
  ) {
    if (method !== 'greedy') notes.push('kept the greedy plan: the solver did not beat it in time');
    plan = baseline;
  }
  const certificate =
    plan === null && options.certifyOnFailure !== false
      ? await certifyForAnalysis(graph, analysis, capacity, {
          planner: method === 'ilp' ? 'ilp' : 'greedy',
          timeLimitSeconds: timeLimit,
        })
      : null;
  return { plan, baseline, notes, certificate };
}
