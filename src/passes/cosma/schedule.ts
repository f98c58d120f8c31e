/**
 * Operator orders: candidate topological orders for the greedy planner and the
 * fixed-schedule ILP (COSMA-FS, Eq. 16–17), and ASAP/ALAP step windows for the
 * free-schedule ILP (§III-F model-size reduction).
 */
import { startsInDram, type AnalyzedGraph } from './graph.js';

/** A schedule is a list of operator indices; step t (1-based) runs schedule[t-1]. */
export type Schedule = readonly number[];

/** Throws unless `order` runs every operator once, after all its producers. */
export function assertValidSchedule(analysis: AnalyzedGraph, order: Schedule): void {
  const count = analysis.operators.length;
  if (order.length !== count) {
    throw new Error(`schedule has ${order.length} steps but the graph has ${count} operators`);
  }
  const done = new Set<number>();
  for (const op of order) {
    const name = analysis.operators[op]?.name;
    if (name === undefined) throw new Error(`schedule names unknown operator index ${op}`);
    if (done.has(op)) throw new Error(`schedule runs operator "${name}" twice`);
    const missing = analysis.predecessors[op]!.find((pred) => !done.has(pred));
    if (missing !== undefined) {
      const before = analysis.operators[missing]!.name;
      throw new Error(`schedule runs "${name}" before its producer "${before}"`);
    }
    done.add(op);
  }
}

/** Converts operator names to a schedule, with clear errors for unknown names. */
export function scheduleFromNames(analysis: AnalyzedGraph, names: readonly string[]): Schedule {
  const order = names.map((name) => {
    const op = analysis.operatorIndex.get(name);
    if (op === undefined) throw new Error(`schedule names unknown operator "${name}"`);
    return op;
  });
  assertValidSchedule(analysis, order);
  return order;
}

/**
 * List scheduling: repeatedly run the ready operator picked by `choose`.
 * `choose` gets the ready set (ascending) and returns one of its members.
 */
function listSchedule(
  analysis: AnalyzedGraph,
  choose: (ready: readonly number[], done: ReadonlySet<number>) => number,
): Schedule {
  const remainingPreds = analysis.predecessors.map((preds) => preds.length);
  const ready = analysis.operators.map((_, op) => op).filter((op) => remainingPreds[op] === 0);
  const done = new Set<number>();
  const order: number[] = [];
  while (ready.length > 0) {
    const op = choose(ready, done);
    ready.splice(ready.indexOf(op), 1);
    done.add(op);
    order.push(op);
    for (const succ of analysis.successors[op]!) {
      remainingPreds[succ]! -= 1;
      if (remainingPreds[succ] === 0) ready.push(succ);
    }
    ready.sort((a, b) => a - b);
  }
  return order;
}

/** Kahn's order preferring the operator declared first. */
export function declarationOrder(analysis: AnalyzedGraph): Schedule {
  return listSchedule(analysis, (ready) => ready[0]!);
}

/**
 * A min-peak-ish order: run the ready operator that grows the live set least
 * (new outputs and first loads minus tensors it is the last reader of).
 */
export function minPeakOrder(analysis: AnalyzedGraph): Schedule {
  const remainingReaders = analysis.consumers.map((readers) => readers.length);
  const loaded = new Set<number>();
  const growth = (op: number): number => {
    let bytes = 0;
    for (const tensor of analysis.operatorOutputs[op]!) {
      if (analysis.consumers[tensor]!.length > 0) bytes += analysis.tensors[tensor]!.bytes;
    }
    for (const tensor of analysis.operatorInputs[op]!) {
      const { bytes: size, kind } = analysis.tensors[tensor]!;
      if (startsInDram(kind) && !loaded.has(tensor)) bytes += size;
      if (remainingReaders[tensor] === 1) bytes -= size;
    }
    return bytes;
  };
  return listSchedule(analysis, (ready) => {
    let best = ready[0]!;
    for (const op of ready) if (growth(op) < growth(best)) best = op;
    for (const tensor of analysis.operatorInputs[best]!) {
      remainingReaders[tensor]! -= 1;
      loaded.add(tensor);
    }
    return best;
  });
}

/** Depth-first order: consume fresh results right away to keep them short-lived. */
export function depthFirstOrder(analysis: AnalyzedGraph): Schedule {
  const readyAt = new Map<number, number>();
  let clock = 0;
  return listSchedule(analysis, (ready) => {
    for (const op of ready) if (!readyAt.has(op)) readyAt.set(op, clock);
    clock += 1;
    // Latest-readied first; ties (same batch) go to the lowest index.
    return ready.reduce((best, op) => (readyAt.get(op)! > readyAt.get(best)! ? op : best));
  });
}

/** The distinct candidate orders the greedy planner tries. */
export function candidateOrders(analysis: AnalyzedGraph): Schedule[] {
  const orders = [minPeakOrder(analysis), depthFirstOrder(analysis), declarationOrder(analysis)];
  const seen = new Set<string>();
  return orders.filter((order) => {
    const key = order.join(',');
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * Earliest and latest step (1-based) each operator can take in any schedule
 * with one operator per step: all ancestors must run before it, all
 * descendants after it.
 */
export function operatorStepWindows(analysis: AnalyzedGraph): {
  readonly asap: readonly number[];
  readonly alap: readonly number[];
} {
  const count = analysis.operators.length;
  const closure = (edges: readonly (readonly number[])[], op: number): Set<number> => {
    const seen = new Set<number>();
    const stack = [...edges[op]!];
    while (stack.length > 0) {
      const next = stack.pop()!;
      if (seen.has(next)) continue;
      seen.add(next);
      stack.push(...edges[next]!);
    }
    return seen;
  };
  const asap = analysis.operators.map((_, op) => 1 + closure(analysis.predecessors, op).size);
  const alap = analysis.operators.map((_, op) => count - closure(analysis.successors, op).size);
  return { asap, alap };
}
