/**
 * Capacity certificates: when a scratchpad is too small, find the smallest
 * capacity a planner can fit, show the plan (which spills) that gets there,
 * and explain it in words — never a bare "out of memory".
 */
import {
  analyzeGraph,
  operatorFootprintBound,
  totalTensorBytes,
  type AnalyzedGraph,
  type OperatorGraph,
} from './graph.js';
import { greedyPlanForAnalysis } from './greedy.js';
import { assertCapacity, DEFAULT_TIME_LIMIT_SECONDS, ilpPlanForAnalysis, type IlpResult } from './ilp.js';
import type { ScratchpadPlan } from './plan.js';

export interface CertificateSpill {
  readonly tensor: string;
  readonly bytes: number;
  /** Step before which it is written to DRAM. */
  readonly step: number;
  /** Steps before which it is loaded back. */
  readonly reloadedAt: readonly number[];
}

export interface CapacityCertificate {
  readonly requestedCapacity: number;
  /** Whether the planner fits the requested capacity. */
  readonly fits: boolean;
  /** M_R: no plan exists below the largest single-operator footprint (§III-D). */
  readonly operatorFootprint: { readonly bytes: number; readonly operator: string };
  /** Smallest capacity the planner fits. */
  readonly minimumCapacity: number;
  readonly planner: 'ilp' | 'greedy';
  /**
   * True when minimumCapacity − 1 is proven infeasible (below M_R, or the ILP
   * proved it); false when only the planner failed there (greedy, or an ILP
   * that ran out of time).
   */
  readonly provenMinimal: boolean;
  /** The plan at minimumCapacity. */
  readonly plan: ScratchpadPlan;
  readonly spills: readonly CertificateSpill[];
  readonly message: string;
}

export interface CertificateOptions {
  readonly planner?: 'ilp' | 'greedy';
  /** Per ILP probe. */
  readonly timeLimitSeconds?: number;
}

/** Above this many candidate capacities, greedy bisects instead of scanning. */
const LINEAR_SCAN_LIMIT = 512;

export async function certifyCapacity(
  graph: OperatorGraph,
  capacity: number,
  options: CertificateOptions = {},
): Promise<CapacityCertificate> {
  return certifyForAnalysis(graph, analyzeGraph(graph), capacity, options);
}

export async function certifyForAnalysis(
  graph: OperatorGraph,
  analysis: AnalyzedGraph,
  capacity: number,
  options: CertificateOptions = {},
): Promise<CapacityCertificate> {
  assertCapacity(capacity);
  const planner = options.planner ?? 'ilp';
  const footprint = operatorFootprintBound(analysis);
  const lowest = footprint.bytes;
  const greedyAt = (bytes: number): ScratchpadPlan | null => {
    const result = greedyPlanForAnalysis(analysis, bytes);
    return result.ok ? result.plan : null;
  };

  // Greedy always fits the total of all tensor sizes (first-fit never ends a
  // placement past the bytes allocated so far), so the search is bounded.
  const greedyMinimum = smallestFitting(lowest, totalTensorBytes(analysis), greedyAt);
  let minimumCapacity = greedyMinimum.capacity;
  let plan = greedyMinimum.plan;
  let provenMinimal = minimumCapacity === lowest;

  if (planner === 'ilp') {
    const timeLimit = options.timeLimitSeconds ?? DEFAULT_TIME_LIMIT_SECONDS;
    const probes = new Map<number, IlpResult>();
    const probe = async (bytes: number): Promise<IlpResult> => {
      const result = probes.get(bytes) ?? (await ilpPlanForAnalysis(graph, analysis, bytes, null, timeLimit));
      probes.set(bytes, result);
      return result;
    };
    // ILP feasibility is monotone in capacity, so bisect below greedy's answer.
    let [low, high] = [lowest, minimumCapacity];
    while (low < high) {
      const middle = Math.floor((low + high) / 2);
      if ((await probe(middle)).plan !== null) high = middle;
      else low = middle + 1;
    }
    const atMinimum = await probe(high);
    minimumCapacity = high;
    plan = atMinimum.plan ?? plan;
    provenMinimal = high === lowest || (await probe(high - 1)).status === 'infeasible';
  }

  const operator = analysis.operators[footprint.operator]!.name;
  const certificate = {
    requestedCapacity: capacity,
    fits: minimumCapacity <= capacity,
    operatorFootprint: { bytes: footprint.bytes, operator },
    minimumCapacity,
    planner,
    provenMinimal,
    plan,
    spills: spillsOf(analysis, plan),
  };
  return { ...certificate, message: describe(certificate, analysis) };
}

/**
 * Smallest capacity in [low, high] where `fits` returns a plan; `high` must
 * fit. Scans upward when the range is small (exact for non-monotone greedy),
 * otherwise bisects to a capacity that fits while the one below does not.
 */
function smallestFitting(
  low: number,
  high: number,
  fits: (bytes: number) => ScratchpadPlan | null,
): { capacity: number; plan: ScratchpadPlan } {
  if (high - low <= LINEAR_SCAN_LIMIT) {
    for (let bytes = low; bytes <= high; bytes++) {
      const plan = fits(bytes);
      if (plan !== null) return { capacity: bytes, plan };
    }
  }
  let best = { capacity: high, plan: fits(high)! };
  let below = low - 1;
  while (best.capacity - below > 1) {
    const middle = Math.floor((below + best.capacity) / 2);
    const plan = fits(middle);
    if (plan === null) below = middle;
    else best = { capacity: middle, plan };
  }
  return best;
}

function spillsOf(analysis: AnalyzedGraph, plan: ScratchpadPlan): CertificateSpill[] {
  const spills: { tensor: string; bytes: number; step: number; reloadedAt: number[] }[] = [];
  for (const step of plan.steps) {
    for (const tensor of step.spills) {
      const { bytes } = analysis.tensors[analysis.tensorIndex.get(tensor)!]!;
      spills.push({ tensor, bytes, step: step.step, reloadedAt: [] });
    }
    for (const tensor of step.reloads) {
      spills.find((entry) => entry.tensor === tensor)?.reloadedAt.push(step.step);
    }
  }
  return spills;
}

function describe(certificate: Omit<CapacityCertificate, 'message'>, analysis: AnalyzedGraph): string {
  const { requestedCapacity, minimumCapacity, operatorFootprint, plan, spills } = certificate;
  const op = analysis.operators[analysis.operatorIndex.get(operatorFootprint.operator)!]!;
  const tensors = [...new Set([...op.inputs, ...op.outputs])].join(', ');
  const parts: string[] = [];
  parts.push(
    certificate.fits
      ? `A ${requestedCapacity}-byte scratchpad fits.`
      : `A ${requestedCapacity}-byte scratchpad is too small for this graph.`,
  );
  parts.push(
    `Operator "${operatorFootprint.operator}" alone needs ${operatorFootprint.bytes} bytes on chip (${tensors}), so no scratchpad below that can work.`,
  );
  const proof = certificate.provenMinimal
    ? 'and nothing smaller can'
    : `the ${certificate.planner} planner found nothing smaller`;
  parts.push(`The smallest scratchpad that fits is ${minimumCapacity} bytes (${proof}).`);
  const moves = spills.map((spill) => {
    const back =
      spill.reloadedAt.length > 0 ? `, reloading it before step ${spill.reloadedAt.join(', ')}` : '';
    return `spilling "${spill.tensor}" (${spill.bytes} B) before step ${spill.step}${back}`;
  });
  const reloadsOnly =
    plan.traffic.reloadBytes - spills.reduce((sum, s) => sum + s.bytes * s.reloadedAt.length, 0);
  const how = moves.length > 0 ? `It gets there by ${moves.join('; ')}` : 'It gets there without spills';
  const extra = reloadsOnly > 0 ? ` and re-reading ${reloadsOnly} B of inputs or outputs` : '';
  parts.push(`${how}${extra}: ${plan.traffic.nonCompulsoryBytes} B of non-compulsory traffic.`);
  return parts.join(' ');
}
