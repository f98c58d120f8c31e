/**
 * Exhaustive reference for the COSMA objective on tiny graphs: tries every
 * topological order, every keep / drop / spill choice per tensor per step,
 * and every address for every tensor that arrives on chip. Rules (shared with
 * the planners): a tensor on chip keeps its address; a spilled tensor is off
 * chip at that step, so it cannot be used or reloaded in the same step;
 * dropping needs a DRAM copy unless nobody reads the tensor again; inputs and
 * weights always have a copy, outputs once created, intermediates once spilled.
 *
 * Two dominance rules keep it small, both obviously safe: tensors nobody reads
 * again are dropped, and loads happen only in the step that reads the tensor
 * (loading earlier costs the same and only occupies space longer).
 */
import type { OperatorGraph } from '../../src/passes/cosma/graph.js';

export function bruteForceOptimum(
  graph: OperatorGraph,
  capacity: number,
  fixedOrder?: readonly string[],
): number | null {
  const tensorId = new Map(graph.tensors.map((t, i) => [t.name, i]));
  const size = graph.tensors.map((t) => t.bytes);
  const kind = graph.tensors.map((t) => t.kind);
  const ops = graph.operators.map((op) => ({
    inputs: [...new Set(op.inputs.map((n) => tensorId.get(n)!))],
    outputs: op.outputs.map((n) => tensorId.get(n)!),
  }));
  const producer = graph.tensors.map((_, t) => ops.findIndex((op) => op.outputs.includes(t)));
  const order = fixedOrder?.map((name) => graph.operators.findIndex((op) => op.name === name));
  const memo = new Map<string, number>();

  // Minimum future spill + load bytes from a state; Infinity if stuck.
  const solve = (done: number, resident: Map<number, number>, spilled: Set<number>): number => {
    const doneCount = ops.filter((_, o) => done & (1 << o)).length;
    if (doneCount === ops.length) return 0;
    const readLater = (t: number): boolean =>
      ops.some((op, o) => !(done & (1 << o)) && op.inputs.includes(t));
    const key = `${done}|${[...resident].sort((a, b) => a[0] - b[0]).join(';')}|${[...spilled].filter(readLater).sort()}`;
    const cached = memo.get(key);
    if (cached !== undefined) return cached;

    let best = Infinity;
    const created = (t: number): boolean => producer[t]! >= 0 && (done & (1 << producer[t]!)) !== 0;
    const hasCopy = (t: number): boolean =>
      kind[t] === 'input' || kind[t] === 'weight' || (kind[t] === 'output' && created(t)) || spilled.has(t);
    const candidates = order ? [order[doneCount]!] : ops.map((_, o) => o);
    for (const o of candidates) {
      if (done & (1 << o)) continue;
      const { inputs, outputs } = ops[o]!;
      if (!inputs.every((t) => producer[t]! < 0 || created(t))) continue;
      const live = [...resident.keys()].filter(readLater);
      // Each live resident tensor: 0 keep, 1 drop (needs a copy), 2 spill (intermediates).
      const choices = live.map(() => 0);
      for (;;) {
        const kept = new Map<number, number>();
        const newSpills = new Set<number>();
        let cost = 0;
        let legal = true;
        live.forEach((t, i) => {
          if (choices[i] === 0) kept.set(t, resident.get(t)!);
          else if (choices[i] === 1) legal &&= hasCopy(t);
          else {
            legal &&= kind[t] === 'intermediate' && !spilled.has(t) && !inputs.includes(t);
            newSpills.add(t);
            cost += size[t]!;
          }
        });
        const loads = inputs.filter((t) => !kept.has(t));
        if (legal && loads.every(hasCopy)) {
          cost += loads.reduce((sum, t) => sum + size[t]!, 0);
          const nextSpilled = new Set([...spilled, ...newSpills]);
          placeAll([...loads, ...outputs], kept, capacity, size, (placed) => {
            best = Math.min(best, cost + solve(done | (1 << o), placed, nextSpilled));
          });
        }
        let i = 0;
        while (i < choices.length && choices[i] === 2) choices[i++] = 0;
        if (i === choices.length) break;
        choices[i]! += 1;
      }
    }
    memo.set(key, best);
    return best;
  };

  const traffic = solve(0, new Map(), new Set());
  if (traffic === Infinity) return null;
  const compulsory = graph.tensors
    .filter((t) => t.kind === 'input' || t.kind === 'weight')
    .reduce((sum, t) => sum + t.bytes, 0);
  return traffic - compulsory;
}

/** Calls `visit` with every non-overlapping placement of `tensors` around `fixed`. */
function placeAll(
  tensors: readonly number[],
  fixed: ReadonlyMap<number, number>,
  capacity: number,
  size: readonly number[],
  visit: (placed: Map<number, number>) => void,
): void {
  if (tensors.length === 0) return visit(new Map(fixed));
  const [tensor, ...rest] = tensors as [number, ...number[]];
  for (let offset = 0; offset + size[tensor]! <= capacity; offset++) {
    const overlaps = [...fixed].some(
      ([other, at]) => offset < at + size[other]! && at < offset + size[tensor]!,
    );
    if (!overlaps) placeAll(rest, new Map([...fixed, [tensor, offset]]), capacity, size, visit);
  }
}
