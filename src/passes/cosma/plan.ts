/**
 * The scratchpad plan every planner returns (JSON-serializable; the
 * playground draws a time × address chart from it), and an independent
 * checker that re-derives everything from the graph and the plan alone.
 */
import { startsInDram, type GraphTensor, type OperatorGraph } from './graph.js';

export type PlanMethod = 'ilp' | 'greedy' | 'divide';

/**
 * - `optimal`: proven optimal (relative gap 0).
 * - `feasible`: a limit stopped the solver with an incumbent; see the gap.
 * - `infeasible`: proven that no plan fits this capacity.
 * - `no-solution`: a limit stopped the solver before any plan was found.
 */
export type SolverStatus = 'optimal' | 'feasible' | 'infeasible' | 'no-solution';

export interface PlacedTensor {
  readonly tensor: string;
  /** Base address: the tensor occupies [offset, offset + bytes). */
  readonly offset: number;
  readonly bytes: number;
}

export interface PlanStep {
  /** 1-based, as in the paper's T = {1..|O|}. */
  readonly step: number;
  readonly operator: string;
  /** On chip while the operator runs, ascending by offset. */
  readonly resident: readonly PlacedTensor[];
  /** Written to DRAM after the previous step; off chip from this step on. */
  readonly spills: readonly string[];
  /** Non-compulsory loads before this step (after a spill, or a repeated load). */
  readonly reloads: readonly string[];
  /** Compulsory first loads of inputs and weights. */
  readonly loads: readonly string[];
  /** Compulsory stores of outputs created at this step. */
  readonly stores: readonly string[];
}

export interface PlanTraffic {
  readonly spillBytes: number;
  readonly reloadBytes: number;
  /** The COSMA objective (Eq. 12): spills plus reloads. */
  readonly nonCompulsoryBytes: number;
  readonly compulsoryLoadBytes: number;
  readonly compulsoryStoreBytes: number;
  readonly compulsoryBytes: number;
}

export interface SolverReport {
  readonly status: SolverStatus;
  readonly schedule: 'free' | 'fixed';
  /** Non-compulsory bytes of the returned plan, as the solver reported it. */
  readonly objective: number | null;
  /**
   * Proven lower bound on non-compulsory bytes. For `divide` it is the sum of
   * the window bounds, each conditioned on the state the window starts from.
   */
  readonly bestBound: number | null;
  /** (objective − bestBound) / objective; 0 when proven optimal. */
  readonly gap: number | null;
  readonly seconds: number;
  readonly timeLimitSeconds: number;
  readonly variables: number;
  readonly rows: number;
  /** Number of ILP windows (divide-and-conquer), 1 for a single ILP. */
  readonly windows: number;
}

export interface ScratchpadPlan {
  readonly method: PlanMethod;
  readonly capacity: number;
  readonly steps: readonly PlanStep[];
  readonly traffic: PlanTraffic;
  /** Largest sum of resident bytes over all steps. */
  readonly peakResidentBytes: number;
  /** Present for `ilp` and `divide`. */
  readonly solver: SolverReport | null;
}

export interface PlanValidation {
  readonly ok: boolean;
  readonly errors: readonly string[];
}

/**
 * Checks a plan against the graph and a capacity without trusting any
 * planner: each operator runs once with its inputs and outputs on chip,
 * addresses stay inside [0, capacity) and never overlap, a tensor keeps its
 * address while on chip (Eq. 11), loads need a DRAM copy (Eq. 4), spills need
 * the tensor on chip at the previous step (Eq. 3) and happen once (Eq. 8),
 * and the traffic totals match a recount.
 */
export function validatePlan(graph: OperatorGraph, plan: ScratchpadPlan, capacity: number): PlanValidation {
  const errors: string[] = [];
  const tensors = new Map(graph.tensors.map((tensor) => [tensor.name, tensor]));
  const operators = new Map(graph.operators.map((op) => [op.name, op]));
  if (plan.steps.length !== graph.operators.length) {
    errors.push(`plan has ${plan.steps.length} steps for ${graph.operators.length} operators`);
  }
  const ran = new Set<string>();
  const created = new Set<string>();
  const spilled = new Set<string>();
  const loaded = new Set<string>();
  let previous = new Map<string, number>();
  const traffic = { spill: 0, reload: 0, load: 0, store: 0 };
  let peak = 0;
  const size = (name: string): number => tensors.get(name)?.bytes ?? 0;

  plan.steps.forEach((step, index) => {
    const at = `step ${index + 1} (${step.operator})`;
    const fail = (message: string): void => void errors.push(`${at}: ${message}`);
    if (step.step !== index + 1) fail(`is numbered ${step.step}`);
    const op = operators.get(step.operator);
    if (op === undefined) return fail('runs an unknown operator');
    if (ran.has(op.name)) fail('runs the operator a second time');
    ran.add(op.name);
    for (const [label, list] of Object.entries({
      resident: step.resident.map((placed) => placed.tensor),
      spills: step.spills,
      reloads: step.reloads,
      loads: step.loads,
      stores: step.stores,
    })) {
      if (new Set(list).size !== list.length) fail(`lists a tensor twice in ${label}`);
      for (const name of list) if (!tensors.has(name)) fail(`${label} names unknown "${name}"`);
    }

    const resident = new Map(step.resident.map((placed) => [placed.tensor, placed.offset]));
    checkPlacement(step.resident, tensors, capacity, fail);
    peak = Math.max(
      peak,
      step.resident.reduce((sum, placed) => sum + size(placed.tensor), 0),
    );

    const outputs = new Set(op.outputs);
    for (const name of new Set([...op.inputs, ...op.outputs])) {
      if (!resident.has(name)) fail(`needs "${name}" on chip but it is not resident`);
    }
    for (const name of outputs) {
      if (created.has(name) || previous.has(name)) fail(`creates "${name}" a second time`);
    }
    const arriving = new Set([...step.loads, ...step.reloads]);
    for (const [name, offset] of resident) {
      if (outputs.has(name)) continue;
      const before = previous.get(name);
      if (before !== undefined && arriving.has(name)) fail(`loads "${name}" while it is on chip`);
      else if (before !== undefined && before !== offset) {
        fail(`moves "${name}" from ${before} to ${offset} while it stays on chip`);
      } else if (before === undefined && !arriving.has(name)) {
        fail(`has "${name}" on chip without creating or loading it`);
      }
    }
    for (const name of arriving) {
      if (!resident.has(name)) fail(`loads "${name}" but does not place it`);
      if (outputs.has(name)) fail(`loads "${name}", which this step creates`);
    }
    for (const name of step.loads) {
      const kind = tensors.get(name)?.kind;
      if (kind !== undefined && !startsInDram(kind)) fail(`counts "${name}" as a first load`);
      else if (loaded.has(name)) fail(`counts "${name}" as a first load again`);
      loaded.add(name);
      traffic.load += size(name);
    }
    for (const name of step.reloads) {
      const kind = tensors.get(name)?.kind;
      if (kind === 'output' && !created.has(name)) fail(`reloads "${name}" before creating it`);
      if (kind === 'intermediate' && !spilled.has(name)) {
        fail(`reloads "${name}", which was never spilled`);
      }
      if ((kind === 'input' || kind === 'weight') && !loaded.has(name)) {
        fail(`reloads "${name}" before its compulsory first load`);
      }
      traffic.reload += size(name);
    }
    for (const name of step.spills) {
      if (tensors.get(name)?.kind !== 'intermediate') fail(`spills "${name}", which is not an intermediate`);
      if (!previous.has(name)) fail(`spills "${name}", which was not on chip at the previous step`);
      if (resident.has(name)) fail(`spills "${name}" but keeps it on chip`);
      if (spilled.has(name)) fail(`spills "${name}" a second time`);
      spilled.add(name);
      traffic.spill += size(name);
    }
    const expectedStores = op.outputs.filter((name) => tensors.get(name)?.kind === 'output');
    if ([...step.stores].sort().join() !== [...expectedStores].sort().join()) {
      fail(`stores [${step.stores.join(', ')}] but creates outputs [${expectedStores.join(', ')}]`);
    }
    for (const name of step.stores) traffic.store += size(name);
    for (const name of outputs) created.add(name);
    previous = resident;
  });

  for (const op of graph.operators) {
    if (!ran.has(op.name)) errors.push(`operator "${op.name}" never runs`);
  }
  const expected: Record<keyof PlanTraffic, number> = {
    spillBytes: traffic.spill,
    reloadBytes: traffic.reload,
    nonCompulsoryBytes: traffic.spill + traffic.reload,
    compulsoryLoadBytes: traffic.load,
    compulsoryStoreBytes: traffic.store,
    compulsoryBytes: traffic.load + traffic.store,
  };
  for (const [key, value] of Object.entries(expected)) {
    const reported = plan.traffic[key as keyof PlanTraffic];
    if (reported !== value) errors.push(`traffic.${key} is ${reported} but the steps add up to ${value}`);
  }
  if (plan.peakResidentBytes !== peak) {
    errors.push(`peakResidentBytes is ${plan.peakResidentBytes} but the steps peak at ${peak}`);
  }
  return { ok: errors.length === 0, errors };
}

/** Eq. 9 (inside the scratchpad) and Eq. 10 (no two address ranges overlap). */
function checkPlacement(
  placed: readonly PlacedTensor[],
  tensors: ReadonlyMap<string, GraphTensor>,
  capacity: number,
  fail: (message: string) => void,
): void {
  for (const { tensor, offset, bytes } of placed) {
    const declared = tensors.get(tensor)?.bytes;
    if (declared !== undefined && declared !== bytes) {
      fail(`places "${tensor}" with ${bytes} bytes but it has ${declared}`);
    }
    if (!Number.isSafeInteger(offset) || offset < 0 || offset + bytes > capacity) {
      fail(`places "${tensor}" at [${offset}, ${offset + bytes}), outside [0, ${capacity})`);
    }
  }
  const sorted = [...placed].sort((a, b) => a.offset - b.offset);
  for (let i = 1; i < sorted.length; i++) {
    const low = sorted[i - 1]!;
    const high = sorted[i]!;
    if (low.offset + low.bytes > high.offset) {
      fail(
        `"${low.tensor}" [${low.offset}, ${low.offset + low.bytes}) overlaps ` +
          `"${high.tensor}" [${high.offset}, ${high.offset + high.bytes})`,
      );
    }
  }
}

/** Throws with every violation listed; for planners verifying their own output. */
export function assertValidPlan(graph: OperatorGraph, plan: ScratchpadPlan, capacity: number): void {
  const { ok, errors } = validatePlan(graph, plan, capacity);
  if (!ok) {
    throw new Error(`internal error: the ${plan.method} plan is invalid:\n  ${errors.join('\n  ')}`);
  }
}
