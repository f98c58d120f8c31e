// The `cosma` pass end to end: on every example (split into several kernels by a tiny fusion
// scratchpad, so the planner has a graph to work on) the ILP never moves more than greedy, both
// plans pass the independent validator, both execute on WASM and equal the interpreter, and the
// addresses the generated kernels really use never overlap while both tensors are live. On random
// operator graphs, ILP traffic ≤ greedy traffic.
import { describe, expect, test } from 'vitest';
import { buildWasmProgram } from '../../src/backends/wasm/program.js';
import { WasmRunner } from '../../src/backends/wasm/runner.js';
import { checkFile, checkSource } from '../../src/frontend/index.js';
import {
  analyzeGraph,
  operatorFootprintBound,
  planScratchpad,
  validatePlan,
  type ScratchpadPlan,
} from '../../src/passes/cosma/index.js';
import type { CosmaResult } from '../../src/passes/cosma-pass.js';
import { kernelAccess } from '../../src/passes/kernel-graph.js';
import { compileKernelAsync } from '../../src/passes/pipeline.js';
import type { CompileState } from '../../src/passes/state.js';
import { randomGraph, seededRandom } from '../cosma/graphs.js';
import { execute, reference, worstError } from './support.js';

const SKIP_CHAIN = `kernel chain(X: f32[N, N], W: f32[N, N], V: f32[N, N]) -> Y {
  A[i, j] = X[k, i] * W[k, j]
  B[i, j] = A[k, i] * W[k, j]
  C[i, j] = B[k, i] * V[k, j] + W[i, j]
  D[i, j] = C[k, i] * V[k, j] + W[i, j]
  Y[i, j] = D[k, i] * A[k, j]
}`;

const EXAMPLES: [string, Record<string, number>][] = [
  ['matmul', { M: 5, K: 7, N: 9 }],
  ['softmax', { R: 4, C: 16 }],
  ['layernorm', { T: 3, D: 16 }],
  ['rmsnorm', { T: 4, D: 16 }],
  ['mlp', { T: 4, D: 8, H: 16 }],
  ['conv1d', { I: 2, L: 11, O: 3, R: 3 }],
  ['attention', { P: 4, M: 8, E: 4, F: 4 }],
  ['attention_1pass', { P: 4, M: 8, E: 3, F: 3 }],
  ['causal_attention', { P: 3, M: 8, E: 4, F: 2 }],
];

/** The executed layout, checked without the planner: per step, live tensors at disjoint addresses. */
function executedOverlaps(state: CompileState, plan: ScratchpadPlan): string[] {
  const program = buildWasmProgram({ ...state, cosma: { ...state.cosma!, plan } }, { threads: 1 });
  const cosma = program.layout.cosma!;
  const globals = new Set(program.loops.buffers.map((b) => b.name));
  const bytes = (t: string) => program.loops.buffers.find((b) => b.name === t)!.size * 4;
  const errors: string[] = [];
  plan.steps.forEach((step) => {
    const kernel = program.loops.kernels.find((k) => k.name === step.operator)!;
    const at = cosma.kernelOffsets.get(kernel.name)!;
    const { reads, writes } = kernelAccess(kernel, globals);
    // Every buffer the generated code touches is in the scratchpad region at this step.
    for (const t of [...reads, ...writes]) {
      const a = at.get(t);
      if (a === undefined || a < cosma.regionOffset || a + bytes(t) > cosma.regionOffset + cosma.capacity)
        errors.push(`step ${step.step}: ${t} at ${a} is outside the scratchpad`);
    }
    const live = [...at].filter(([, a]) => a !== undefined).sort((x, y) => x[1] - y[1]);
    for (let i = 1; i < live.length; i++) {
      const [lowName, low] = live[i - 1]!;
      const [highName, high] = live[i]!;
      if (low + bytes(lowName) > high) errors.push(`step ${step.step}: ${lowName} overlaps ${highName}`);
    }
  });
  return errors;
}

function capacitiesFor(cosma: CosmaResult): number[] {
  const bound = operatorFootprintBound(analyzeGraph(cosma.graph)).bytes;
  const total = cosma.graph.tensors.reduce((s, t) => s + t.bytes, 0);
  return [...new Set([bound, Math.round((bound + total) / 2)])];
}

describe('cosma pass on the examples', () => {
  test.each(EXAMPLES)(
    '%s %o: ILP ≤ greedy, both valid, both run equal to the interpreter',
    async (name, ranks) => {
      const program = checkFile(`examples/${name}.ein`);
      const { inputs, want } = reference(program, ranks);
      const compile = (capacity: number) =>
        compileKernelAsync(program, {
          ranks,
          scratchpadBytes: 16,
          online: 'off',
          cosmaScratchpadBytes: capacity,
          cosmaTimeLimitSeconds: 5,
        });
      // A generous first compile tells the graph; then plan at M_R (COSMA §III-D) and halfway up.
      const probe = await compile(1 << 24);
      for (const capacity of capacitiesFor(probe.cosma!)) {
        const state = await compile(capacity);
        const { plan, baseline, graph } = state.cosma!;
        expect(validatePlan(graph, plan, capacity).errors).toEqual([]);
        if (baseline) {
          expect(validatePlan(graph, baseline, capacity).errors).toEqual([]);
          expect(plan.traffic.nonCompulsoryBytes).toBeLessThanOrEqual(baseline.traffic.nonCompulsoryBytes);
        }
        for (const executed of baseline ? [plan, baseline] : [plan]) {
          expect(executedOverlaps(state, executed)).toEqual([]);
          const run = await execute({ ...state, cosma: { ...state.cosma!, plan: executed } }, inputs);
          expect(worstError(run.outputs, want)).toBeLessThan(1e-5);
        }
      }
    },
  );

  test('a plan that spills and reloads equals the interpreter, on 1 and 2 threads', async () => {
    // A is read by the first and the last kernel; at M_R it cannot stay on chip in between.
    const program = checkSource(SKIP_CHAIN, 'skip-chain.ein');
    const ranks = { N: 8 };
    const { inputs, want } = reference(program, ranks);
    const state = await compileKernelAsync(program, {
      ranks,
      scratchpadBytes: 16,
      online: 'off',
      cosmaScratchpadBytes: 1024,
    });
    const { plan, baseline, graph } = state.cosma!;
    expect(state.cosma!.graph.operators.length).toBe(4);
    expect(validatePlan(graph, plan, 1024).errors).toEqual([]);
    expect(plan.steps.flatMap((s) => s.spills)).toEqual(['A']);
    expect(plan.steps.flatMap((s) => s.reloads)).toEqual(['A']);
    expect(plan.solver?.status).toBe('optimal');
    for (const executed of [plan, baseline!]) {
      expect(executedOverlaps(state, executed)).toEqual([]);
      for (const threads of [1, 2]) {
        const run = await execute({ ...state, cosma: { ...state.cosma!, plan: executed } }, inputs, threads);
        expect(worstError(run.outputs, want)).toBeLessThan(1e-5);
      }
    }
    // The copies carry the data: without the reload, the last kernel reads stale bytes.
    const program2 = buildWasmProgram(state, { threads: 1 });
    const stripped = {
      ...program2,
      steps: program2.steps.map((s) => ({
        ...s,
        copiesBefore: (s.copiesBefore ?? []).filter((c) => c.kind !== 'reload'),
      })),
    };
    const runner = await WasmRunner.create(stripped);
    try {
      expect(worstError(runner.run(inputs), want)).toBeGreaterThan(1e-3);
    } finally {
      await runner.close();
    }
  });
});

describe('random operator graphs', () => {
  test('ILP traffic ≤ greedy traffic, both valid', async () => {
    const random = seededRandom(11);
    for (let i = 0; i < 12; i++) {
      const graph = randomGraph(random, { operators: 4 + (i % 4), maxBytes: 6 });
      const analysis = analyzeGraph(graph);
      const bound = operatorFootprintBound(analysis).bytes;
      const total = graph.tensors.reduce((s, t) => s + t.bytes, 0);
      for (const capacity of [bound, Math.ceil((bound + total) / 2)]) {
        const outcome = await planScratchpad(graph, capacity, {
          timeLimitSeconds: 5,
          certifyOnFailure: false,
        });
        if (!outcome.plan) continue;
        expect(validatePlan(graph, outcome.plan, capacity).ok).toBe(true);
        if (outcome.baseline)
          expect(outcome.plan.traffic.nonCompulsoryBytes).toBeLessThanOrEqual(
            outcome.baseline.traffic.nonCompulsoryBytes,
          );
      }
    }
  });
});
