// The `cosma` pass: place the global buffers of the lowered kernels in a scratchpad of a given size
// and decide which to spill to DRAM and reload (COSMA: Li, Gupta, Malik, arXiv 2311.18246). The
// kernels become the planner's operators and the global buffers its tensors (kernel-graph.ts); the
// ILP (HiGHS, a time limit) plans small graphs, divide-and-conquer large ones, and the greedy
// first-fit + Belady plan is always computed beside it as the baseline. The WASM backend executes
// the plan (backends/wasm/cosma-layout.ts).
//
// HiGHS loads asynchronously, so the solver runs in `runAsync` (compileKernelAsync); the synchronous
// pipeline falls back to the greedy plan so `compileKernel` keeps working with a budget.
import { EinError } from '../frontend/diagnostics.js';
import { formatBytes } from '../ir/limits.js';
import {
  analyzeGraph,
  certifyCapacity,
  operatorFootprintBound,
  planGreedy,
  planScratchpad,
  type OperatorGraph,
  type ScratchpadPlan,
  type SolverReport,
} from './cosma/index.js';
import type { Decision } from './decisions.js';

export interface CosmaOptions {
  /** Scratchpad bytes the global buffers must share. */
  readonly capacity: number;
  /** Per ILP solve (per window for divide-and-conquer). */
  readonly timeLimitSeconds?: number;
}

/** What the pass keeps in the state and the report: enough for a time × address chart. */
export interface CosmaResult {
  readonly capacity: number;
  readonly graph: OperatorGraph;
  /** The plan the backend executes: the solver's, or greedy's when the solver did not beat it. */
  readonly plan: ScratchpadPlan;
  /** Greedy first-fit with Belady eviction at the same capacity. */
  readonly baseline: ScratchpadPlan | null;
  readonly solver: SolverReport | null;
  /** Non-compulsory bytes the plan saves against the baseline. */
  readonly savedBytes: number;
  readonly notes: readonly string[];
}

export const DEFAULT_COSMA_TIME_LIMIT_SECONDS = 10;

function result(
  graph: OperatorGraph,
  capacity: number,
  plan: ScratchpadPlan,
  baseline: ScratchpadPlan | null,
  notes: string[],
): CosmaResult {
  return {
    capacity,
    graph,
    plan,
    baseline,
    solver: plan.solver,
    savedBytes: baseline ? baseline.traffic.nonCompulsoryBytes - plan.traffic.nonCompulsoryBytes : 0,
    notes,
  };
}

/** The synchronous fallback: greedy only, with a greedy capacity certificate when it fails. */
export function planCosmaGreedy(graph: OperatorGraph, opts: CosmaOptions): CosmaResult {
  const greedy = planGreedy(graph, opts.capacity);
  if (!greedy.ok) throw infeasible(graph, opts.capacity, greedyMinimum(graph, opts.capacity));
  return result(graph, opts.capacity, greedy.plan, greedy.plan, [
    'method: greedy (synchronous compile; the ILP runs in compileKernelAsync)',
  ]);
}

/** The ILP (or divide-and-conquer) beside the greedy baseline; a certificate when nothing fits. */
export async function planCosma(graph: OperatorGraph, opts: CosmaOptions): Promise<CosmaResult> {
  const timeLimitSeconds = opts.timeLimitSeconds ?? DEFAULT_COSMA_TIME_LIMIT_SECONDS;
  const outcome = await planScratchpad(graph, opts.capacity, { timeLimitSeconds, certifyOnFailure: false });
  if (outcome.plan === null) {
    const certificate = await certifyCapacity(graph, opts.capacity, {
      planner: graph.operators.length <= 10 ? 'ilp' : 'greedy',
      timeLimitSeconds,
    });
    throw infeasible(graph, opts.capacity, {
      capacity: certificate.minimumCapacity,
      message: certificate.message,
    });
  }
  return result(graph, opts.capacity, outcome.plan, outcome.baseline, [...outcome.notes]);
}

/**
 * Smallest capacity greedy fits, by bisection between M_R (COSMA §III-D: operators are not tiled,
 * so nothing below the largest footprint can work) and the sum of all tensors (always fits).
 */
function greedyMinimum(graph: OperatorGraph, requested: number): { capacity: number; message: string } {
  const analysis = analyzeGraph(graph);
  const footprint = operatorFootprintBound(analysis);
  let low = footprint.bytes - 1;
  let high = graph.tensors.reduce((s, t) => s + t.bytes, 0);
  while (high - low > 1) {
    const mid = Math.floor((low + high) / 2);
    if (planGreedy(graph, mid).ok) high = mid;
    else low = mid;
  }
  const op = graph.operators[footprint.operator]!;
  const plan = planGreedy(graph, high);
  const spills = plan.ok
    ? plan.plan.steps.flatMap((s) => s.spills.map((t) => `${t} before step ${s.step}`))
    : [];
  const message =
    `A ${requested}-byte scratchpad is too small for this graph. Operator "${op.name}" alone needs ${footprint.bytes} bytes on chip (${[...op.inputs, ...op.outputs].join(', ')}), so no scratchpad below that can work. ` +
    `The smallest scratchpad the greedy planner fits is ${high} bytes; ${spills.length ? `it gets there by spilling ${spills.join('; ')}` : 'it gets there without spills'}.`;
  return { capacity: high, message };
}

/** Never a bare "out of memory": the smallest capacity that fits and how it gets there. */
function infeasible(
  graph: OperatorGraph,
  requested: number,
  certificate: { capacity: number; message: string },
): EinError {
  return new EinError({
    message: `no scratchpad plan fits ${formatBytes(requested)} (${requested} B): the smallest scratchpad that fits is ${formatBytes(certificate.capacity)} (${certificate.capacity} B)`,
    hint: `${certificate.message} Use --scratchpad ${certificate.capacity} or more (the graph has ${graph.operators.length} kernels).`,
  });
}

export function cosmaDecisions(cosma: CosmaResult): Decision[] {
  const { plan, baseline, solver } = cosma;
  const traffic = plan.traffic.nonCompulsoryBytes;
  const decisions: Decision[] = [
    {
      pass: 'cosma',
      subject: `scratchpad ${formatBytes(cosma.capacity)}`,
      choice: `${plan.method} plan: ${formatBytes(traffic)} of spills and reloads, peak on chip ${formatBytes(plan.peakResidentBytes)}`,
      why: solver
        ? `the solver says ${solver.status}${solver.gap !== null ? `, gap ${(solver.gap * 100).toFixed(2)}%` : ''} (${solver.variables} variables, ${solver.rows} rows)`
        : 'greedy first-fit with furthest-next-use eviction',
      ...(baseline && baseline !== plan
        ? {
            alternativeCost: `greedy: ${formatBytes(baseline.traffic.nonCompulsoryBytes)} (saves ${formatBytes(cosma.savedBytes)})`,
          }
        : {}),
    },
  ];
  for (const step of plan.steps)
    for (const t of step.spills)
      decisions.push({
        pass: 'cosma',
        subject: t,
        choice: `spilled before step ${step.step} (${step.operator})`,
        why: 'the scratchpad is full and it is read again later',
      });
  return decisions;
}
