/**
 * The minimum-peak-memory variant (COSMA Eq. 13–15): no spills or reloads
 * (S = R = 0 beyond the compulsory first load of each input), no addresses;
 * choose the order that minimizes the largest sum of live bytes, M_P.
 * Fragmentation is ignored, so M_P is a lower bound on any spill-free plan.
 */
import {
  analyzeGraph,
  operatorFootprintBound,
  startsInDram,
  totalTensorBytes,
  type OperatorGraph,
} from './graph.js';
import { solveMip } from './highs.js';
import { DEFAULT_TIME_LIMIT_SECONDS, relativeGap } from './ilp.js';
import { LinearExpr, LpBuilder } from './lp-builder.js';
import { writeLpText } from './lp-text.js';
import type { SolverStatus } from './plan.js';
import { operatorStepWindows } from './schedule.js';

export interface MinimumPeakResult {
  readonly status: SolverStatus;
  /** M_P of the best order found; null without one. */
  readonly peakBytes: number | null;
  readonly bestBound: number | null;
  readonly gap: number | null;
  /** Operator names in the order that reaches peakBytes. */
  readonly order: readonly string[] | null;
  readonly seconds: number;
}

export async function minimumPeakSchedule(
  graph: OperatorGraph,
  options: { readonly timeLimitSeconds?: number } = {},
): Promise<MinimumPeakResult> {
  const analysis = analyzeGraph(graph);
  const steps = analysis.operators.length;
  const { asap, alap } = operatorStepWindows(analysis);
  const lp = new LpBuilder();
  const peak = lp.integer('Mpeak', operatorFootprintBound(analysis).bytes, totalTensorBytes(analysis));
  const C = (op: number, t: number): LinearExpr =>
    LinearExpr.sum(...(t >= asap[op]! && t <= alap[op]! ? [`C_o${op}_t${t}`] : []));
  analysis.operators.forEach((_, op) => {
    for (let t = asap[op]!; t <= alap[op]!; t++) lp.binary(`C_o${op}_t${t}`);
  });

  // Live window of each tensor: from its earliest creation (or first possible
  // read, for inputs) to its latest possible read.
  const live = analysis.tensors.map((tensor, a) => {
    const producer = analysis.producer[a]!;
    const readers = analysis.consumers[a]!;
    const from = producer === null ? Math.min(...readers.map((op) => asap[op]!)) : asap[producer]!;
    const to = Math.max(producer === null ? from : alap[producer]!, ...readers.map((op) => alap[op]!));
    return { from, to, input: startsInDram(tensor.kind) };
  });
  // On chip at t without being created at t: kept (P) or loaded (R).
  const arrived = (a: number, t: number): LinearExpr => {
    const { from, to, input } = live[a]!;
    const expr = new LinearExpr();
    if (t < from || t > to) return expr;
    if (t > from) expr.add(`P_a${a}_t${t}`);
    if (input) expr.add(`R_a${a}_t${t}`);
    return expr;
  };
  const res = (a: number, t: number): LinearExpr => {
    const producer = analysis.producer[a]!;
    const expr = producer === null ? new LinearExpr() : C(producer, t);
    return expr.add(arrived(a, t));
  };
  live.forEach(({ from, to, input }, a) => {
    for (let t = from; t <= to; t++) {
      if (t > from) lp.binary(`P_a${a}_t${t}`);
      if (input) lp.binary(`R_a${a}_t${t}`);
    }
  });

  live.forEach(({ from, to, input }, a) => {
    const loads = new LinearExpr();
    for (let t = from; t <= to; t++) {
      if (t > from) lp.constrain(`e2_a${a}_t${t}`, `P_a${a}_t${t}`, '<=', res(a, t - 1));
      lp.constrain(`e1_a${a}_t${t}`, res(a, t), '<=', 1);
      if (input) loads.add(`R_a${a}_t${t}`);
    }
    // The compulsory load happens exactly once; no reloads (Eq. 13: R = 0).
    if (input) lp.constrain(`load_a${a}`, loads, '=', 1);
  });
  analysis.operators.forEach((_, op) => {
    const once = new LinearExpr();
    for (let t = asap[op]!; t <= alap[op]!; t++) {
      once.add(C(op, t));
      for (const b of analysis.operatorInputs[op]!) {
        lp.constrain(`e5_o${op}_b${b}_t${t}`, C(op, t), '<=', arrived(b, t));
      }
    }
    lp.constrain(`e7_o${op}`, once, '=', 1);
  });
  for (let t = 1; t <= steps; t++) {
    const step = new LinearExpr();
    const bytes = new LinearExpr();
    analysis.operators.forEach((_, op) => step.add(C(op, t)));
    analysis.tensors.forEach((tensor, a) => bytes.add(res(a, t), tensor.bytes));
    lp.constrain(`step_t${t}`, step, '=', 1);
    // Eq. 14: live bytes at every step stay under the peak.
    lp.constrain(`peak_t${t}`, bytes, '<=', peak);
  }

  const timeLimit = options.timeLimitSeconds ?? DEFAULT_TIME_LIMIT_SECONDS;
  const outcome = await solveMip(writeLpText(lp.build(LinearExpr.sum(peak))), timeLimit);
  const peakBytes = outcome.objective === null ? null : Math.round(outcome.objective);
  const bound = outcome.bestBound === null ? null : Math.ceil(outcome.bestBound - 1e-6);
  let order: string[] | null = null;
  if (peakBytes !== null) {
    order = [];
    for (let t = 1; t <= steps; t++) {
      const op = analysis.operators.findIndex((_, o) => outcome.value(`C_o${o}_t${t}`) > 0.5);
      order.push(analysis.operators[op]!.name);
    }
  }
  return {
    status: outcome.status,
    peakBytes,
    bestBound: outcome.status === 'optimal' ? peakBytes : bound,
    gap: relativeGap(peakBytes, outcome.status === 'optimal' ? peakBytes : bound),
    order,
    seconds: outcome.seconds,
  };
}
