/**
 * Turns a planner's index-based steps into the named, JSON-serializable plan:
 * splits loads into compulsory first loads and reloads, lists output stores,
 * and totals the traffic.
 */
import { startsInDram, type AnalyzedGraph } from './graph.js';
import type {
  PlacedTensor,
  PlanMethod,
  PlanStep,
  PlanTraffic,
  ScratchpadPlan,
  SolverReport,
} from './plan.js';
import type { RawStep } from './state.js';

export function assemblePlan(
  analysis: AnalyzedGraph,
  steps: readonly RawStep[],
  capacity: number,
  method: PlanMethod,
  solver: SolverReport | null,
): ScratchpadPlan {
  const name = (tensor: number): string => analysis.tensors[tensor]!.name;
  const bytes = (tensor: number): number => analysis.tensors[tensor]!.bytes;
  const sum = (tensors: readonly number[]): number =>
    tensors.reduce((total, tensor) => total + bytes(tensor), 0);
  const loaded = new Set<number>();
  const totals = { spill: 0, reload: 0, load: 0, store: 0 };
  let peak = 0;

  const planSteps = steps.map((step, index): PlanStep => {
    const firstLoads = step.loads.filter(
      (tensor) => startsInDram(analysis.tensors[tensor]!.kind) && !loaded.has(tensor),
    );
    const reloads = step.loads.filter((tensor) => !firstLoads.includes(tensor));
    firstLoads.forEach((tensor) => loaded.add(tensor));
    const stores = analysis.operatorOutputs[step.operator]!.filter(
      (tensor) => analysis.tensors[tensor]!.kind === 'output',
    );
    const resident: PlacedTensor[] = [...step.resident]
      .map(([tensor, offset]) => ({ tensor: name(tensor), offset, bytes: bytes(tensor) }))
      .sort((a, b) => a.offset - b.offset || a.tensor.localeCompare(b.tensor));
    totals.spill += sum(step.spills);
    totals.reload += sum(reloads);
    totals.load += sum(firstLoads);
    totals.store += sum(stores);
    peak = Math.max(peak, sum([...step.resident.keys()]));
    return {
      step: index + 1,
      operator: analysis.operators[step.operator]!.name,
      resident,
      spills: step.spills.map(name),
      reloads: reloads.map(name),
      loads: firstLoads.map(name),
      stores: stores.map(name),
    };
  });

  const traffic: PlanTraffic = {
    spillBytes: totals.spill,
    reloadBytes: totals.reload,
    nonCompulsoryBytes: totals.spill + totals.reload,
    compulsoryLoadBytes: totals.load,
    compulsoryStoreBytes: totals.store,
    compulsoryBytes: totals.load + totals.store,
  };
  return { method, capacity, steps: planSteps, traffic, peakResidentBytes: peak, solver };
}
