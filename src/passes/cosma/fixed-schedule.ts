/**
 * The fixed-schedule COSMA ILP (COSMA-FS, Eq. 16–17) for graphs too large for the full model —
 * tile graphs of hundreds of tile operators — solved in two exact stages:
 *
 * 1. Residency without addresses. With the order fixed, a tensor must be on chip at each of its
 *    uses (its creation and its reads, Eq. 5); between two consecutive uses it is either kept
 *    (occupying its bytes at every step in between) or dropped and reloaded at the next use (its
 *    bytes as a reload, plus one spill for an intermediate, Eq. 3–4, 8). Dropping part-way through
 *    a gap never helps, so one binary per gap is exact. Capacity (Eq. 9 summed) binds every step.
 *    Its optimum is a lower bound on the full model (which adds Eq. 10–11) for this order.
 * 2. Addresses. Each maximal run of steps a tensor stays on chip gets one address (Eq. 11); runs
 *    are placed in start order by best fit, then first fit. A placement realizes the stage-1 plan
 *    with the same traffic, so when stage 1 is optimal the plan is optimal for the order (gap 0).
 *    When no placement is found, stage 1 is solved again with room left for fragmentation, and the
 *    plan is measured against the first bound (an honest gap); failing that, the caller falls back
 *    to divide-and-conquer.
 */
import { assemblePlan } from './assemble.js';
import type { AnalyzedGraph, OperatorGraph } from './graph.js';
import { solveMip } from './highs.js';
import { relativeGap } from './ilp.js';
import { LinearExpr, LpBuilder } from './lp-builder.js';
import { writeLpText } from './lp-text.js';
import { assertValidPlan, type ScratchpadPlan, type SolverReport } from './plan.js';
import type { Schedule } from './schedule.js';
import type { RawStep } from './state.js';

export interface FixedScheduleResult {
  /** Null when stage 1 found nothing in time or no placement realizes it. */
  readonly plan: ScratchpadPlan | null;
  readonly message: string;
}

/** Steps (1-based) at which each tensor must be on chip: its creation, then its reads. */
function useSteps(analysis: AnalyzedGraph, order: Schedule): number[][] {
  const uses: number[][] = analysis.tensors.map(() => []);
  order.forEach((op, index) => {
    for (const a of [...analysis.operatorOutputs[op]!, ...analysis.operatorInputs[op]!])
      uses[a]!.push(index + 1);
  });
  return uses.map((steps) => [...new Set(steps)].sort((x, y) => x - y));
}

/** One binary per gap between consecutive uses with steps in between; adjacent uses are always kept. */
interface Gap {
  readonly tensor: number;
  /** Use steps the gap lies between (exclusive). */
  readonly from: number;
  readonly to: number;
  readonly name: string;
}

/** Addresses for runs of residency, or null when a run finds no free range. */
function place(
  runs: readonly { tensor: number; start: number; end: number; bytes: number }[],
  capacity: number,
  bestFit: boolean,
): Map<number, number> | null {
  const address = new Map<number, number>();
  const live: { end: number; offset: number; bytes: number }[] = [];
  const sorted = runs
    .map((_, i) => i)
    .sort((a, b) => runs[a]!.start - runs[b]!.start || runs[b]!.bytes - runs[a]!.bytes);
  for (const i of sorted) {
    const run = runs[i]!;
    for (let j = live.length - 1; j >= 0; j--) if (live[j]!.end < run.start) live.splice(j, 1);
    const taken = [...live].sort((a, b) => a.offset - b.offset);
    let best: { offset: number; room: number } | null = null;
    let cursor = 0;
    for (const next of [...taken, { offset: capacity, bytes: 0 }]) {
      const room = next.offset - cursor;
      if (room >= run.bytes && (best === null || (bestFit && room < best.room)))
        best = { offset: cursor, room };
      if (best && !bestFit) break;
      cursor = Math.max(cursor, next.offset + next.bytes);
    }
    if (best === null) return null;
    address.set(i, best.offset);
    live.push({ end: run.end, offset: best.offset, bytes: run.bytes });
  }
  return address;
}

interface Residency {
  readonly gaps: readonly Gap[];
  /** The model text and its size, for the solver report. */
  readonly text: string;
  readonly variables: number;
  readonly rows: number;
  /** The greedy plan as a start: a gap is kept when the tensor stayed on chip across it. */
  readonly seed: ReadonlyMap<string, number> | undefined;
}

/** Stage 1 at a capacity; null when a step's uses alone exceed it. */
function residencyModel(
  analysis: AnalyzedGraph,
  uses: readonly (readonly number[])[],
  capacity: number,
  start: readonly RawStep[] | null,
): Residency | null {
  const size = (a: number) => analysis.tensors[a]!.bytes;
  const lp = new LpBuilder();
  const gaps: Gap[] = [];
  uses.forEach((steps, a) => {
    for (let i = 1; i < steps.length; i++)
      if (steps[i]! - steps[i - 1]! > 1)
        gaps.push({ tensor: a, from: steps[i - 1]!, to: steps[i]!, name: lp.binary(`K_a${a}_g${i}`) });
  });
  const objective = new LinearExpr();
  const spilled = new Map<number, string>();
  for (const gap of gaps) {
    // Not kept: reloaded at the next use; an intermediate is spilled once (Eq. 8).
    objective.add(size(gap.tensor)).add(gap.name, -size(gap.tensor));
    if (analysis.tensors[gap.tensor]!.kind !== 'intermediate') continue;
    if (!spilled.has(gap.tensor)) {
      spilled.set(gap.tensor, lp.binary(`S_a${gap.tensor}`));
      objective.add(spilled.get(gap.tensor)!, size(gap.tensor));
    }
    lp.constrain(`spill_${gap.name}`, LinearExpr.sum(spilled.get(gap.tensor)!, gap.name), '>=', 1);
  }
  const steps = Math.max(0, ...uses.flat());
  for (let t = 1; t <= steps; t++) {
    const onChip = new LinearExpr();
    uses.forEach((at, a) => void (at.includes(t) && onChip.add(size(a))));
    for (const gap of gaps) if (gap.from < t && t < gap.to) onChip.add(gap.name, size(gap.tensor));
    lp.constrain(`cap_t${t}`, onChip, '<=', capacity);
  }
  if (lp.infeasibleRow !== null) return null;
  const seed =
    start === null
      ? undefined
      : new Map(
          gaps.map((g) => [
            g.name,
            start.slice(g.from, g.to - 1).every((s) => s.resident.has(g.tensor)) ? 1 : 0,
          ]),
        );
  if (seed)
    for (const [a, name] of spilled)
      seed.set(name, gaps.some((g) => g.tensor === a && seed.get(g.name) === 0) ? 1 : 0);
  const model = lp.build(objective);
  return { gaps, text: writeLpText(model), variables: model.variables.length, rows: model.rows.length, seed };
}

type Run = { readonly tensor: number; readonly start: number; readonly end: number; readonly bytes: number };

/** Runs of residency: from a use, through kept gaps, to the use before a dropped gap. */
function residencyRuns(
  analysis: AnalyzedGraph,
  uses: readonly (readonly number[])[],
  kept: ReadonlySet<string>,
  gaps: readonly Gap[],
): Run[] {
  const runs: Run[] = [];
  uses.forEach((steps, a) => {
    let begin = steps[0]!;
    for (let i = 1; i <= steps.length; i++) {
      const gap = gaps.find((g) => g.tensor === a && g.to === steps[i]);
      const keep =
        i < steps.length && (steps[i]! - steps[i - 1]! === 1 || (gap !== undefined && kept.has(gap.name)));
      if (!keep) {
        runs.push({ tensor: a, start: begin, end: steps[i - 1]!, bytes: analysis.tensors[a]!.bytes });
        if (i < steps.length) begin = steps[i]!;
      }
    }
  });
  return runs;
}

/** Placed runs as planner steps: loads where a run starts off chip, one spill per dropped intermediate. */
function placedSteps(
  analysis: AnalyzedGraph,
  order: Schedule,
  uses: readonly (readonly number[])[],
  runs: readonly Run[],
  address: ReadonlyMap<number, number>,
): RawStep[] {
  const steps = order.map((operator) => ({
    operator,
    resident: new Map<number, number>(),
    spills: [] as number[],
    loads: [] as number[],
  }));
  const spilledYet = new Set<number>();
  runs.forEach((run, i) => {
    for (let t = run.start; t <= run.end; t++) steps[t - 1]!.resident.set(run.tensor, address.get(i)!);
    const created = analysis.producer[run.tensor] !== null && run.start === uses[run.tensor]![0];
    if (!created) steps[run.start - 1]!.loads.push(run.tensor);
    // A dropped intermediate is written to DRAM right after its run, the first time.
    const next = uses[run.tensor]!.find((s) => s > run.end);
    if (
      next !== undefined &&
      analysis.tensors[run.tensor]!.kind === 'intermediate' &&
      !spilledYet.has(run.tensor)
    ) {
      spilledYet.add(run.tensor);
      steps[run.end]!.spills.push(run.tensor);
    }
  });
  return steps;
}

/** Stage 1 is retried this many times with room left for fragmentation (the smallest tensor's bytes more each time). */
const PLACEMENT_RETRIES = 4;

export async function fixedSchedulePlan(
  graph: OperatorGraph,
  analysis: AnalyzedGraph,
  capacity: number,
  order: Schedule,
  timeLimitSeconds: number,
  start: readonly RawStep[] | null,
): Promise<FixedScheduleResult> {
  const uses = useSteps(analysis, order);
  const room = Math.min(...analysis.tensors.map((t) => t.bytes));
  // The bound comes from the real capacity; a plan found with less room is measured against it.
  let bound: number | null = null;
  let proven = false;
  for (let retry = 0; retry <= PLACEMENT_RETRIES; retry++) {
    const model = residencyModel(analysis, uses, capacity - retry * room, start);
    if (model === null) break;
    const outcome = await solveMip(model.text, timeLimitSeconds, model.seed);
    if (retry === 0) {
      const found = outcome.status === 'optimal' ? outcome.objective : outcome.bestBound;
      bound = found === null ? null : Math.max(0, Math.ceil(found - 1e-6));
      proven = outcome.status === 'optimal';
    }
    if (outcome.objective === null) break;
    const kept = new Set(model.gaps.filter((g) => outcome.value(g.name) > 0.5).map((g) => g.name));
    const runs = residencyRuns(analysis, uses, kept, model.gaps);
    const address = place(runs, capacity, true) ?? place(runs, capacity, false);
    if (address === null) continue;
    const objective = Math.round(outcome.objective);
    const solver: SolverReport = {
      status: proven && objective === bound ? 'optimal' : 'feasible',
      schedule: 'fixed',
      objective,
      bestBound: bound,
      gap: relativeGap(objective, bound),
      seconds: outcome.seconds,
      timeLimitSeconds,
      variables: model.variables,
      rows: model.rows,
      windows: 1,
    };
    const plan = assemblePlan(
      analysis,
      placedSteps(analysis, order, uses, runs, address),
      capacity,
      'ilp',
      solver,
    );
    assertValidPlan(graph, plan, capacity);
    if (plan.traffic.nonCompulsoryBytes !== objective)
      throw new Error(
        `internal error: the fixed-schedule ILP objective ${objective} disagrees with the placed plan's ${plan.traffic.nonCompulsoryBytes} bytes`,
      );
    const planned =
      retry === 0 ? '' : ` (residency planned for ${capacity - retry * room} B so the addresses place)`;
    return {
      plan,
      message: `${solver.status} for the fixed order${planned}: ${objective} non-compulsory bytes`,
    };
  }
  return {
    plan: null,
    message: 'no residency plan that places within the time limit (fragmentation or time)',
  };
}
