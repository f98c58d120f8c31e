/** Hand-made and seeded random operator graphs for the COSMA tests. */
import type { GraphTensor, OperatorGraph, TensorKind } from '../../src/passes/cosma/graph.js';

/** The implementation note's example: a→b→c, (a,c)→d with sizes 4/4/4/2. */
export const noteExample: OperatorGraph = {
  tensors: [
    { name: 'a', bytes: 4, kind: 'intermediate' },
    { name: 'b', bytes: 4, kind: 'intermediate' },
    { name: 'c', bytes: 4, kind: 'intermediate' },
    { name: 'd', bytes: 2, kind: 'output' },
  ],
  operators: [
    { name: 'makeA', inputs: [], outputs: ['a'] },
    { name: 'makeB', inputs: ['a'], outputs: ['b'] },
    { name: 'makeC', inputs: ['b'], outputs: ['c'] },
    { name: 'makeD', inputs: ['a', 'c'], outputs: ['d'] },
  ],
};

/** Two independent chains joined at the end: the order decides the peak. */
export const twoBranches: OperatorGraph = {
  tensors: [
    { name: 'x', bytes: 2, kind: 'input' },
    { name: 'w', bytes: 1, kind: 'weight' },
    { name: 'p', bytes: 3, kind: 'intermediate' },
    { name: 'q', bytes: 3, kind: 'intermediate' },
    { name: 'r', bytes: 2, kind: 'intermediate' },
    { name: 's', bytes: 2, kind: 'intermediate' },
    { name: 'y', bytes: 2, kind: 'output' },
  ],
  operators: [
    { name: 'left1', inputs: ['x'], outputs: ['p'] },
    { name: 'right1', inputs: ['x', 'w'], outputs: ['q'] },
    { name: 'left2', inputs: ['p'], outputs: ['r'] },
    { name: 'right2', inputs: ['q', 'w'], outputs: ['s'] },
    { name: 'join', inputs: ['r', 's'], outputs: ['y'] },
  ],
};

/** An operator with two outputs (siblings, Eq. 6) and an output read later. */
export const siblings: OperatorGraph = {
  tensors: [
    { name: 'x', bytes: 3, kind: 'input' },
    { name: 'lo', bytes: 2, kind: 'intermediate' },
    { name: 'hi', bytes: 2, kind: 'output' },
    { name: 'm', bytes: 3, kind: 'intermediate' },
    { name: 'y', bytes: 1, kind: 'output' },
  ],
  operators: [
    { name: 'split', inputs: ['x'], outputs: ['lo', 'hi'] },
    { name: 'mix', inputs: ['lo', 'x'], outputs: ['m'] },
    { name: 'final', inputs: ['m', 'hi'], outputs: ['y'] },
  ],
};

/** Deterministic PRNG (mulberry32) so random graphs are reproducible. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface RandomGraphOptions {
  readonly operators: number;
  readonly maxBytes: number;
}

/**
 * A random DAG: each operator reads one or two earlier tensors (or a fresh
 * input/weight) and writes one or, sometimes, two tensors. Unread results
 * become outputs; a few read results become outputs too.
 */
export function randomGraph(random: () => number, options: RandomGraphOptions): OperatorGraph {
  const pick = (n: number): number => Math.floor(random() * n);
  const tensors: { name: string; bytes: number; kind: TensorKind }[] = [];
  const operators: { name: string; inputs: string[]; outputs: string[] }[] = [];
  const fresh = (kind: TensorKind): string => {
    const name = `${kind[0]}${tensors.length}`;
    tensors.push({ name, bytes: 1 + pick(options.maxBytes), kind });
    return name;
  };
  const produced: string[] = [];
  for (let o = 0; o < options.operators; o++) {
    const inputs = new Set<string>();
    const arity = 1 + pick(2);
    for (let i = 0; i < arity; i++) {
      if (produced.length === 0 || random() < 0.2) inputs.add(fresh(random() < 0.7 ? 'input' : 'weight'));
      else if (random() < 0.35) inputs.add(produced[pick(produced.length)]!);
      else inputs.add(produced[produced.length - 1 - pick(Math.min(2, produced.length))]!);
    }
    const outputs = [fresh('intermediate')];
    if (random() < 0.2) outputs.push(fresh('intermediate'));
    produced.push(...outputs);
    operators.push({ name: `op${o}`, inputs: [...inputs], outputs });
  }
  const read = new Set(operators.flatMap((op) => op.inputs));
  const finalTensors: GraphTensor[] = tensors.map((tensor) => {
    if (tensor.kind !== 'intermediate') return tensor;
    if (!read.has(tensor.name) || random() < 0.1) return { ...tensor, kind: 'output' };
    return tensor;
  });
  return { tensors: finalTensors, operators };
}

/**
 * A chain with skip connections (and the odd side branch): long-lived skip
 * tensors compete with the chain for space, so small capacities force spills.
 */
export function randomSkipChain(random: () => number, options: RandomGraphOptions): OperatorGraph {
  const pick = (n: number): number => Math.floor(random() * n);
  const tensors: GraphTensor[] = [{ name: 'x', bytes: 1 + pick(options.maxBytes), kind: 'input' }];
  const operators: { name: string; inputs: string[]; outputs: string[] }[] = [];
  for (let o = 0; o < options.operators; o++) {
    const previous = tensors[tensors.length - 1]!.name;
    const main = random() < 0.25 && tensors.length > 2 ? tensors[pick(tensors.length - 1)]!.name : previous;
    const inputs = new Set([main]);
    if (random() < 0.5 && tensors.length > 2) inputs.add(tensors[pick(tensors.length - 2)]!.name);
    const output = `t${o}`;
    tensors.push({ name: output, bytes: 1 + pick(options.maxBytes), kind: 'intermediate' });
    operators.push({ name: `op${o}`, inputs: [...inputs], outputs: [output] });
  }
  const read = new Set(operators.flatMap((op) => op.inputs));
  return {
    tensors: tensors.map((tensor) =>
      tensor.kind === 'intermediate' && !read.has(tensor.name) ? { ...tensor, kind: 'output' } : tensor,
    ),
    operators,
  };
}
