/**
 * The COSMA ILP (Eq. 1–12, with the fixed-schedule variant Eq. 16–17) over a
 * range of steps, starting from a carried scratchpad state so the
 * divide-and-conquer heuristic can solve one window at a time.
 *
 * Per tensor a and step t: C (its producer runs at t; one C per operator,
 * which makes Eq. 6 implicit), P (kept from t−1), S (spilled, off chip at t),
 * R (loaded at t), L (base address), and u/d ordering pairs. Variables exist
 * only inside each tensor's ASAP/ALAP window (§III-F).
 */
import { startsInDram, type AnalyzedGraph } from './graph.js';
import { LinearExpr, LpBuilder } from './lp-builder.js';
import type { LpModel } from './lp-text.js';
import { operatorStepWindows, type Schedule } from './schedule.js';
import type { RawStep, ScratchpadState } from './state.js';

export interface CosmaModelSpec {
  readonly analysis: AnalyzedGraph;
  readonly capacity: number;
  /** A fixed order (COSMA-FS), or null to let the ILP choose (free schedule). */
  readonly order: Schedule | null;
  /** Steps [firstStep, lastStep] to model; windows need a fixed order. */
  readonly firstStep: number;
  readonly lastStep: number;
  /** State after step firstStep − 1. */
  readonly start: ScratchpadState;
}

export interface CosmaModel {
  readonly lp: LpModel;
  /** A row violated by constants alone: the model is infeasible as built. */
  readonly infeasibleRow: string | null;
  /** Solver values by variable name (absent = 0) to steps firstStep..lastStep. */
  decode(value: (variable: string) => number): RawStep[];
  /** Variable values reproducing given steps: a MIP start (e.g. the greedy plan). */
  encode(steps: readonly RawStep[]): Map<string, number>;
}

interface TensorWindow {
  readonly tensor: number;
  readonly start: number;
  readonly end: number;
  /** The producer runs inside the modelled steps. */
  readonly producedHere: boolean;
  /** On chip at step firstStep − 1, at start.resident's address. */
  readonly carried: boolean;
  /** Read after lastStep (fixed schedule windows only). */
  readonly readAfter: boolean;
}

export function buildCosmaModel(spec: CosmaModelSpec): CosmaModel {
  const { analysis, capacity: M, order, firstStep: first, lastStep: last, start } = spec;
  if (order === null && (first !== 1 || last !== analysis.operators.length)) {
    throw new Error('internal error: a free-schedule ILP must cover every step');
  }
  const lp = new LpBuilder();
  const size = (tensor: number): number => analysis.tensors[tensor]!.bytes;

  // Steps each operator may take: its fixed step, or its ASAP..ALAP range.
  const stepRange = new Map<number, readonly [number, number]>();
  if (order === null) {
    const { asap, alap } = operatorStepWindows(analysis);
    analysis.operators.forEach((_, op) => stepRange.set(op, [asap[op]!, alap[op]!]));
  } else {
    for (let t = first; t <= last; t++) stepRange.set(order[t - 1]!, [t, t]);
  }
  const fixedStep = order === null ? null : new Map(order.map((op, index) => [op, index + 1]));
  const runs = (op: number | null, t: number): LinearExpr => {
    const range = op === null ? undefined : stepRange.get(op);
    if (range === undefined || t < range[0] || t > range[1]) return new LinearExpr();
    return LinearExpr.sum(order === null ? `C_o${op}_t${t}` : 1);
  };
  if (order === null) {
    for (const [op, [from, to]] of stepRange) for (let t = from; t <= to; t++) lp.binary(`C_o${op}_t${t}`);
  }

  const windows = tensorWindows(spec, stepRange, fixedStep);
  const v = (kind: string, a: number, t: number): string => `${kind}_a${a}_t${t}`;
  const opt = (name: string): LinearExpr => LinearExpr.sum(...(lp.has(name) ? [name] : []));
  const residency = new Map<string, LinearExpr>();
  const res = (a: number, t: number): LinearExpr => residency.get(`${a},${t}`) ?? new LinearExpr();

  // Variables, Eq. 9 as bounds, and the residency expression res = C + P + R.
  for (const w of windows.values()) {
    const { tensor: a } = w;
    const kind = analysis.tensors[a]!.kind;
    const producer = analysis.producer[a]!;
    const firstCreation = w.producedHere ? stepRange.get(producer)![0] : first;
    const keepsFrom = w.carried ? first : firstCreation + 1;
    const spillable = kind === 'intermediate' && !start.spilled.has(a);
    const hasCopy = startsInDram(kind) || start.spilled.has(a) || (kind === 'output' && !w.producedHere);
    // Earliest load: outputs have a copy once created, intermediates once spilled.
    const loadsFrom = hasCopy
      ? w.start
      : kind === 'output'
        ? firstCreation + 1
        : spillable
          ? keepsFrom + 1
          : Infinity;
    const lastRead = lastReadStep(analysis, a, stepRange);
    if (size(a) > M) throw new Error(`internal error: tensor ${a} exceeds the capacity`);
    for (let t = w.start; t <= w.end; t++) {
      const expr = w.producedHere ? runs(producer, t) : new LinearExpr();
      if (t >= keepsFrom) expr.add(lp.binary(v('P', a, t)));
      if (spillable && t >= keepsFrom) lp.binary(v('S', a, t));
      // A load brings a tensor that is off chip: not one carried on chip into the window.
      if (t >= loadsFrom && t <= lastRead && !(w.carried && t === first)) expr.add(lp.binary(v('R', a, t)));
      lp.integer(v('L', a, t), 0, M - size(a));
      residency.set(`${a},${t}`, expr);
    }
  }

  const objective = new LinearExpr();
  for (const w of windows.values()) {
    const { tensor: a } = w;
    const producer = analysis.producer[a]!;
    const kind = analysis.tensors[a]!.kind;
    const spills = new LinearExpr();
    const creations = new LinearExpr();
    for (let t = w.start; t <= w.end; t++) {
      const [P, S, R] = [opt(v('P', a, t)), opt(v('S', a, t)), opt(v('R', a, t))];
      const C = w.producedHere ? runs(producer, t) : new LinearExpr();
      spills.add(S);
      // Objective (12): every spill and load costs Size(a).
      objective.add(S, size(a)).add(R, size(a));
      lp.constrain(`e1_a${a}_t${t}`, LinearExpr.sum(C, P, S, R), '<=', 1);
      if (t > w.start) {
        lp.constrain(`e2_a${a}_t${t}`, P, '<=', res(a, t - 1));
        // Nor one on chip at t − 1 (Eq. 1 allows drop-and-reload; the plan rules do not).
        if (!R.isConstant) lp.constrain(`e1r_a${a}_t${t}`, LinearExpr.sum(R, res(a, t - 1)), '<=', 1);
        const previousC = w.producedHere ? runs(producer, t - 1) : new LinearExpr();
        lp.constrain(`e3_a${a}_t${t}`, S, '<=', LinearExpr.sum(previousC, opt(v('P', a, t - 1))));
      }
      // Eq. 4: a load needs a DRAM copy; outputs get theirs when created.
      if (kind === 'intermediate' && !start.spilled.has(a)) {
        lp.constrain(`e4_a${a}_t${t}`, R, '<=', spills);
      } else if (kind === 'output' && w.producedHere) {
        lp.constrain(`e4_a${a}_t${t}`, R, '<=', creations);
      }
      creations.add(C);
      addContinuity(lp, spec, w, t, M - size(a));
    }
    if (spills.terms.length > 1) lp.constrain(`e8_a${a}`, spills, '<=', 1);
    // A window may not lose a tensor that later steps still read.
    if (w.readAfter && kind === 'intermediate' && !start.spilled.has(a)) {
      lp.constrain(`keep_a${a}`, LinearExpr.sum(res(a, last), spills), '>=', 1);
    }
  }

  // Eq. 5: the operator's inputs are on chip (kept or loaded) when it runs.
  for (const [op, [from, to]] of stepRange) {
    for (let t = from; t <= to; t++) {
      for (const b of analysis.operatorInputs[op]!) {
        const onChip = LinearExpr.sum(opt(v('P', b, t)), opt(v('R', b, t)));
        lp.constrain(`e5_o${op}_b${b}_t${t}`, runs(op, t), '<=', onChip);
      }
    }
    // Eq. 7: every operator runs exactly once.
    if (order === null) {
      const once = new LinearExpr();
      for (let t = from; t <= to; t++) once.add(runs(op, t));
      lp.constrain(`e7_o${op}`, once, '=', 1);
    }
  }

  for (let t = first; t <= last; t++) {
    // One operator per step: Eq. 1–7 alone would allow two in one step.
    if (order === null) {
      const step = new LinearExpr();
      for (const op of stepRange.keys()) step.add(runs(op, t));
      lp.constrain(`step_t${t}`, step, '=', 1);
    }
    const live = [...windows.values()].filter((w) => w.start <= t && t <= w.end);
    // The capacity cut: implied by Eq. 9–10 but tightens the LP relaxation.
    const total = new LinearExpr();
    for (const w of live) total.add(res(w.tensor, t), size(w.tensor));
    lp.constrain(`cap_t${t}`, total, '<=', M);
    addNonOverlap(lp, live, t, M, size, res);
  }

  // Compulsory first loads of inputs and weights are not part of Eq. 12.
  for (const w of windows.values()) {
    const { kind } = analysis.tensors[w.tensor]!;
    const readHere = lastReadStep(analysis, w.tensor, stepRange) !== -Infinity;
    if (startsInDram(kind) && readHere && !start.loaded.has(w.tensor)) {
      objective.add(-size(w.tensor));
    }
  }

  return {
    lp: lp.build(objective),
    infeasibleRow: lp.infeasibleRow,
    decode: (value) => {
      const steps: RawStep[] = [];
      const on = (name: string): boolean => lp.has(name) && value(name) > 0.5;
      for (let t = first; t <= last; t++) {
        const operator =
          order === null ? [...stepRange.keys()].find((op) => on(`C_o${op}_t${t}`)) : order[t - 1];
        if (operator === undefined) throw new Error(`internal error: no operator runs at step ${t}`);
        const resident = new Map<number, number>();
        const spills: number[] = [];
        const loads: number[] = [];
        for (const w of windows.values()) {
          if (t < w.start || t > w.end) continue;
          if (res(w.tensor, t).evaluate(value) > 0.5) {
            resident.set(w.tensor, Math.round(value(v('L', w.tensor, t))));
          }
          if (on(v('S', w.tensor, t))) spills.push(w.tensor);
          if (on(v('R', w.tensor, t))) loads.push(w.tensor);
        }
        steps.push({ operator, resident, spills, loads });
      }
      return steps;
    },
    encode: (steps) => {
      const values = new Map<string, number>();
      const set = (name: string, value: number): void => {
        if (lp.has(name)) values.set(name, value);
      };
      let previous = start.resident;
      steps.forEach((step, index) => {
        const t = first + index;
        set(`C_o${step.operator}_t${t}`, 1);
        const created = analysis.operatorOutputs[step.operator]!;
        for (const [a, offset] of step.resident) {
          set(v('L', a, t), offset);
          if (step.loads.includes(a)) set(v('R', a, t), 1);
          else if (!created.includes(a) && previous.get(a) === offset) set(v('P', a, t), 1);
        }
        for (const a of step.spills) set(v('S', a, t), 1);
        const placed = [...step.resident];
        for (const [a, offsetA] of placed) {
          for (const [b, offsetB] of placed) {
            if (a < b) set(`${offsetA >= offsetB + size(b) ? 'u' : 'd'}_a${a}_b${b}_t${t}`, 1);
          }
        }
        previous = step.resident;
      });
      return values;
    },
  };
}

/** Eq. 11: a tensor kept on chip (P = 1) keeps its address. */
function addContinuity(lp: LpBuilder, spec: CosmaModelSpec, w: TensorWindow, t: number, slack: number): void {
  const a = w.tensor;
  const keep = `P_a${a}_t${t}`;
  if (!lp.has(keep) || slack === 0) return;
  const previous =
    t > w.start ? LinearExpr.sum(`L_a${a}_t${t - 1}`) : LinearExpr.sum(spec.start.resident.get(a)!);
  const moved = LinearExpr.sum(`L_a${a}_t${t}`).add(previous, -1);
  lp.constrain(`e11up_a${a}_t${t}`, LinearExpr.sum(moved).add(keep, slack), '<=', slack);
  lp.constrain(`e11dn_a${a}_t${t}`, new LinearExpr().add(keep, slack).add(moved, -1), '<=', slack);
}

/** Eq. 10: two tensors on chip at step t occupy disjoint address ranges. */
function addNonOverlap(
  lp: LpBuilder,
  live: readonly TensorWindow[],
  t: number,
  M: number,
  size: (tensor: number) => number,
  res: (a: number, t: number) => LinearExpr,
): void {
  for (let i = 0; i < live.length; i++) {
    for (let j = i + 1; j < live.length; j++) {
      const [a, b] = [live[i]!.tensor, live[j]!.tensor];
      const [resA, resB] = [res(a, t), res(b, t)];
      if ((resA.isConstant && resA.constant === 0) || (resB.isConstant && resB.constant === 0)) {
        continue;
      }
      const both = LinearExpr.sum(resA, resB);
      if (size(a) + size(b) > M) {
        lp.constrain(`e10n_a${a}_b${b}_t${t}`, both, '<=', 1);
        continue;
      }
      const [La, Lb] = [`L_a${a}_t${t}`, `L_a${b}_t${t}`];
      const u = lp.binary(`u_a${a}_b${b}_t${t}`);
      const d = lp.binary(`d_a${a}_b${b}_t${t}`);
      // a above b: L_a ≥ L_b + Size_b − M(1 − u); b above a likewise with d.
      lp.constrain(`e10u_a${a}_b${b}_t${t}`, LinearExpr.sum(La).add(Lb, -1).add(u, -M), '>=', size(b) - M);
      lp.constrain(`e10d_a${a}_b${b}_t${t}`, LinearExpr.sum(Lb).add(La, -1).add(d, -M), '>=', size(a) - M);
      lp.constrain(`e10s_a${a}_b${b}_t${t}`, LinearExpr.sum(u, d), '>=', both.add(-1));
      lp.constrain(`e10x_a${a}_b${b}_t${t}`, LinearExpr.sum(u, d), '<=', 1);
    }
  }
}

/** Latest step any modelled reader of `tensor` may run; -Infinity if none. */
function lastReadStep(
  analysis: AnalyzedGraph,
  tensor: number,
  stepRange: ReadonlyMap<number, readonly [number, number]>,
): number {
  let latest = -Infinity;
  for (const op of analysis.consumers[tensor]!) {
    const range = stepRange.get(op);
    if (range !== undefined) latest = Math.max(latest, range[1]);
  }
  return latest;
}

/** Liveness windows inside [firstStep, lastStep]; dead or future tensors get none. */
function tensorWindows(
  spec: CosmaModelSpec,
  stepRange: ReadonlyMap<number, readonly [number, number]>,
  fixedStep: ReadonlyMap<number, number> | null,
): Map<number, TensorWindow> {
  const { analysis, firstStep: first, lastStep: last, start } = spec;
  const windows = new Map<number, TensorWindow>();
  analysis.tensors.forEach((tensor, a) => {
    const producer = analysis.producer[a]!;
    const producedHere = producer !== null && stepRange.has(producer);
    const readAfter = fixedStep !== null && analysis.consumers[a]!.some((op) => fixedStep.get(op)! > last);
    const lastRead = lastReadStep(analysis, a, stepRange);
    let from: number;
    let to: number;
    if (producedHere) {
      from = stepRange.get(producer)![0];
      to = readAfter ? last : Math.max(stepRange.get(producer)![1], lastRead);
    } else {
      const available = startsInDram(tensor.kind) || start.created.has(a);
      if (!available || (lastRead === -Infinity && !readAfter)) return;
      // Not read in the window and off chip at its start: it stays in DRAM throughout (§III-F: no
      // variables for tensors that cannot be on chip; tile graphs have many such tiles per window).
      if (lastRead === -Infinity && !start.resident.has(a)) return;
      from = first;
      to = readAfter ? last : lastRead;
    }
    const carried = !producedHere && start.resident.has(a);
    windows.set(a, { tensor: a, start: from, end: to, producedHere, carried, readAfter });
  });
  return windows;
}
