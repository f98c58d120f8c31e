/**
 * The abstract operator graph the scratchpad planners work on (COSMA §III-A).
 *
 * The compiler converts its fused kernels into this form: each operator runs
 * once, reads and writes whole tensors (operators are not tiled), and all
 * tensors share one scratchpad of M bytes.
 */

/**
 * Where a tensor lives before and after the graph runs.
 * - `input` / `weight`: start in DRAM; the first load is compulsory traffic.
 * - `intermediate`: produced and consumed inside the graph; only spills cost.
 * - `output`: produced inside the graph; the final store is compulsory traffic.
 */
export type TensorKind = 'input' | 'weight' | 'intermediate' | 'output';

export interface GraphTensor {
  readonly name: string;
  /** Size in bytes; a positive integer. */
  readonly bytes: number;
  readonly kind: TensorKind;
}

export interface GraphOperator {
  readonly name: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
}

export interface OperatorGraph {
  readonly tensors: readonly GraphTensor[];
  readonly operators: readonly GraphOperator[];
}

/** A validated graph with index-based adjacency, shared by every planner. */
export interface AnalyzedGraph {
  readonly tensors: readonly GraphTensor[];
  readonly operators: readonly GraphOperator[];
  readonly tensorIndex: ReadonlyMap<string, number>;
  readonly operatorIndex: ReadonlyMap<string, number>;
  /** Producing operator per tensor; null for inputs and weights. */
  readonly producer: readonly (number | null)[];
  /** Consuming operators per tensor, ascending. */
  readonly consumers: readonly (readonly number[])[];
  /** Distinct input tensors per operator (an operator may read a tensor twice). */
  readonly operatorInputs: readonly (readonly number[])[];
  readonly operatorOutputs: readonly (readonly number[])[];
  /** Operators that must run before each operator (direct producers of its inputs). */
  readonly predecessors: readonly (readonly number[])[];
  readonly successors: readonly (readonly number[])[];
}

export class CosmaGraphError extends Error {
  override readonly name = 'CosmaGraphError';
}

/** Tensors that already have a DRAM copy before the graph runs. */
export function startsInDram(kind: TensorKind): boolean {
  return kind === 'input' || kind === 'weight';
}

export function analyzeGraph(graph: OperatorGraph): AnalyzedGraph {
  if (graph.operators.length === 0) {
    throw new CosmaGraphError('the operator graph has no operators');
  }
  const tensorIndex = new Map<string, number>();
  graph.tensors.forEach((tensor, index) => {
    if (tensorIndex.has(tensor.name)) {
      throw new CosmaGraphError(`tensor "${tensor.name}" is declared twice`);
    }
    if (!Number.isSafeInteger(tensor.bytes) || tensor.bytes <= 0) {
      throw new CosmaGraphError(
        `tensor "${tensor.name}" has size ${tensor.bytes}; sizes must be positive integer byte counts`,
      );
    }
    tensorIndex.set(tensor.name, index);
  });
  const lookup = (operator: string, tensor: string): number => {
    const index = tensorIndex.get(tensor);
    if (index === undefined) {
      throw new CosmaGraphError(`operator "${operator}" uses undeclared tensor "${tensor}"`);
    }
    return index;
  };

  const operatorIndex = new Map<string, number>();
  const producer: (number | null)[] = graph.tensors.map(() => null);
  const consumers: number[][] = graph.tensors.map(() => []);
  const operatorInputs: number[][] = [];
  const operatorOutputs: number[][] = [];
  graph.operators.forEach((operator, op) => {
    if (operatorIndex.has(operator.name)) {
      throw new CosmaGraphError(`operator "${operator.name}" is declared twice`);
    }
    operatorIndex.set(operator.name, op);
    if (operator.outputs.length === 0) {
      throw new CosmaGraphError(`operator "${operator.name}" has no outputs`);
    }
    const inputs = [...new Set(operator.inputs.map((name) => lookup(operator.name, name)))];
    const outputs = operator.outputs.map((name) => lookup(operator.name, name));
    if (new Set(outputs).size !== outputs.length) {
      throw new CosmaGraphError(`operator "${operator.name}" lists an output twice`);
    }
    for (const tensor of outputs) {
      const { name, kind } = graph.tensors[tensor]!;
      if (startsInDram(kind)) {
        throw new CosmaGraphError(
          `operator "${operator.name}" writes ${kind} tensor "${name}"; only intermediates and outputs are produced`,
        );
      }
      if (producer[tensor] !== null) {
        const other = graph.operators[producer[tensor]]!.name;
        throw new CosmaGraphError(`tensor "${name}" is produced by both "${other}" and "${operator.name}"`);
      }
      producer[tensor] = op;
    }
    for (const tensor of inputs) consumers[tensor]!.push(op);
    operatorInputs.push(inputs);
    operatorOutputs.push(outputs);
  });

  graph.tensors.forEach((tensor, index) => {
    if (!startsInDram(tensor.kind) && producer[index] === null) {
      throw new CosmaGraphError(`${tensor.kind} tensor "${tensor.name}" is not produced by any operator`);
    }
    if (startsInDram(tensor.kind) && consumers[index]!.length === 0) {
      throw new CosmaGraphError(`${tensor.kind} tensor "${tensor.name}" is not read by any operator`);
    }
  });

  const predecessors = operatorInputs.map((inputs) => [
    ...new Set(inputs.flatMap((tensor) => (producer[tensor] === null ? [] : [producer[tensor]]))),
  ]);
  const successors: number[][] = graph.operators.map(() => []);
  predecessors.forEach((preds, op) => preds.forEach((pred) => successors[pred]!.push(op)));
  assertAcyclic(graph, predecessors);

  return {
    tensors: graph.tensors,
    operators: graph.operators,
    tensorIndex,
    operatorIndex,
    producer,
    consumers,
    operatorInputs,
    operatorOutputs,
    predecessors,
    successors,
  };
}

function assertAcyclic(graph: OperatorGraph, predecessors: readonly (readonly number[])[]): void {
  // 0 = unvisited, 1 = on the DFS stack, 2 = done.
  const state = predecessors.map(() => 0);
  const visit = (op: number, path: number[]): void => {
    if (state[op] === 2) return;
    if (state[op] === 1) {
      const cycle = [...path.slice(path.indexOf(op)), op].map((o) => graph.operators[o]!.name);
      throw new CosmaGraphError(`the operator graph has a cycle: ${cycle.join(' -> ')}`);
    }
    state[op] = 1;
    for (const pred of predecessors[op]!) visit(pred, [...path, op]);
    state[op] = 2;
  };
  predecessors.forEach((_, op) => visit(op, []));
}

/** Bytes an operator needs on chip while it runs: its inputs plus its outputs. */
export function operatorFootprint(analysis: AnalyzedGraph, op: number): number {
  const tensors = [...analysis.operatorInputs[op]!, ...analysis.operatorOutputs[op]!];
  return tensors.reduce((sum, tensor) => sum + analysis.tensors[tensor]!.bytes, 0);
}

/**
 * M_R (COSMA §III-D): no plan exists below the largest single-operator
 * footprint, since operators are not tiled.
 */
export function operatorFootprintBound(analysis: AnalyzedGraph): {
  readonly bytes: number;
  readonly operator: number;
} {
  let best = { bytes: 0, operator: 0 };
  analysis.operators.forEach((_, op) => {
    const bytes = operatorFootprint(analysis, op);
    if (bytes > best.bytes) best = { bytes, operator: op };
  });
  return best;
}

export function totalTensorBytes(analysis: AnalyzedGraph): number {
  return analysis.tensors.reduce((sum, tensor) => sum + tensor.bytes, 0);
}
