// The `cosma` pass end to end: on every example (split into several kernels by a tiny fusion
// scratchpad, so the planner has a graph to work on) the ILP never moves more than greedy, both
// plans pass the independent validator, both execute on WASM and equal the interpreter, and the
// addresses the generated kernels really use never overlap while both tensors are live. On random
// operator graphs, ILP traffic ≤ greedy traffic.
import { describe, expect, test } from 'vitest';
import { buildWasmProgram } from '../../src/backends/wasm/program.js';
import { WasmRunner } from '../../src/backends/wasm/runner.js';
import { checkFile, checkSource } from '../../src/frontend/index.js';
import type { CascadeProgram } from '../../src/ir/cascade.js';
import {
  analyzeGraph,
  operatorFootprintBound,
  planScratchpad,
  validatePlan,
  type ScratchpadPlan,
} from '../../src/passes/cosma/index.js';
import type { CosmaResult } from '../../src/passes/cosma-pass.js';
import { kernelAccess } from '../../src/passes/kernel-graph.js';
import { cosmaKernelProgram } from '../../src/backends/wasm/cosma-layout.js';
import { compileKernel, compileKernelAsync } from '../../src/passes/pipeline.js';
import type { CompileState } from '../../src/passes/state.js';
import { randomGraph, seededRandom } from '../cosma/graphs.js';
import { execute, reference, worstError, type Reference } from './support.js';
import { validateTiling } from '../cosma/tiles.js';
import { EinError } from '../../src/frontend/diagnostics.js';

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

/**
 * The executed layout, checked without the planner: per step, every buffer the step's generated
 * kernel touches (its tile, or its staging view) lies in the scratchpad region, and no two overlap.
 */
function executedOverlaps(state: CompileState, plan: ScratchpadPlan): string[] {
  const cosma = { ...state.cosma!, plan };
  const program = buildWasmProgram({ ...state, cosma }, { threads: 1 });
  const layout = program.layout.cosma!;
  const kernels = cosmaKernelProgram(state.loops!, cosma).kernels;
  const globals = new Set(program.loops.buffers.map((b) => b.name));
  const errors: string[] = [];
  plan.steps.forEach((step, index) => {
    const kernel = kernels.find((k) => k.name === layout.order[index])!;
    const operator = cosma.tiling.operators.find((o) => o.name === step.operator)!;
    const bytes = (t: string) =>
      4 * operator.operands.find((o) => o.buffer === t)!.view.reduce((n, [a, b]) => n * (b - a), 1);
    const at = layout.kernelOffsets.get(kernel.name)!;
    const { reads, writes } = kernelAccess(kernel, globals);
    for (const t of [...reads, ...writes]) {
      const a = at.get(t);
      if (a === undefined || a < layout.regionOffset || a + bytes(t) > layout.regionOffset + layout.capacity)
        errors.push(`step ${step.step}: ${t} at ${a} is outside the scratchpad`);
    }
    const live = [...at].sort((x, y) => x[1] - y[1]);
    for (let i = 1; i < live.length; i++) {
      const [lowName, low] = live[i - 1]!;
      const [highName, high] = live[i]!;
      if (low + bytes(lowName) > high) errors.push(`step ${step.step}: ${lowName} overlaps ${highName}`);
    }
  });
  return errors;
}

/** The example with its kernels split (a 16 B fusion scratchpad), planned at `capacity`. */
function compileSplit(program: CascadeProgram, ranks: Record<string, number>, capacity: number) {
  return compileKernelAsync(program, {
    ranks,
    scratchpadBytes: 16,
    online: 'off',
    cosmaScratchpadBytes: capacity,
    cosmaTimeLimitSeconds: 5,
  });
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
      const compile = (capacity: number) => compileSplit(program, ranks, capacity);
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

// Capacities below the largest whole kernel: kernels become tile operators (or fuse less first).
const TILED: [string, Record<string, number>][] = [
  ['matmul', { M: 8, K: 6, N: 16 }],
  ['mlp', { T: 8, D: 8, H: 16 }],
  ['softmax', { R: 8, C: 16 }],
  ['layernorm', { T: 8, D: 16 }],
  ['conv1d', { I: 2, L: 11, O: 4, R: 3 }],
  ['attention', { P: 8, M: 8, E: 4, F: 4 }],
];

/** Plans valid, tiling valid, ILP ≤ greedy, and both plans execute equal to the interpreter. */
async function expectTiledPlanRuns(
  state: CompileState,
  capacity: number,
  inputs: Reference['inputs'],
  want: Reference['want'],
  tolerance: number,
) {
  const { plan, baseline, graph, tiling } = state.cosma!;
  const shapes = new Map(state.loops!.buffers.map((b) => [b.name, b.shape]));
  expect(validateTiling(tiling, graph, shapes)).toEqual([]);
  expect(validatePlan(graph, plan, capacity).errors).toEqual([]);
  if (baseline) {
    expect(validatePlan(graph, baseline, capacity).errors).toEqual([]);
    expect(plan.traffic.nonCompulsoryBytes).toBeLessThanOrEqual(baseline.traffic.nonCompulsoryBytes);
  }
  for (const executed of baseline && baseline !== plan ? [plan, baseline] : [plan]) {
    expect(executedOverlaps(state, executed)).toEqual([]);
    const run = await execute({ ...state, cosma: { ...state.cosma!, plan: executed } }, inputs);
    expect(worstError(run.outputs, want)).toBeLessThan(tolerance);
  }
}

describe('cosma over tile operators', () => {
  const tiledExamples = new Set<string>();
  test.each(TILED)(
    '%s %o below its largest kernel: tiled, valid, equal to the interpreter',
    async (name, ranks) => {
      const program = checkFile(`examples/${name}.ein`);
      const { inputs, want } = reference(program, ranks);
      const compile = (capacity: number) => compileSplit(program, ranks, capacity);
      const whole = (await compile(1 << 24)).cosma!;
      const bound = operatorFootprintBound(analyzeGraph(whole.graph)).bytes;
      for (const capacity of [Math.floor(bound / 2), Math.floor(bound / 4)]) {
        let state: CompileState;
        try {
          state = await compile(capacity);
        } catch (e) {
          // Only the ranks a kernel reduces are left: a certificate, never a bare failure.
          expect(e).toBeInstanceOf(EinError);
          expect((e as EinError).message).toMatch(/the smallest scratchpad that fits is .* \(\d+ B\)/);
          continue;
        }
        expect(state.cosma!.graph.operators.length).toBeGreaterThan(whole.graph.operators.length);
        tiledExamples.add(name);
        await expectTiledPlanRuns(state, capacity, inputs, want, 1e-5);
      }
    },
  );

  test('the synchronous compile plans the tile graph greedily, and it runs', async () => {
    const program = checkFile('examples/mlp.ein');
    const ranks = { T: 8, D: 8, H: 16 };
    const compile = (capacity: number) =>
      compileKernel(program, { ranks, scratchpadBytes: 16, cosmaScratchpadBytes: capacity });
    const capacity = Math.floor(
      operatorFootprintBound(analyzeGraph(compile(1 << 24).cosma!.graph)).bytes / 2,
    );
    const state = compile(capacity);
    expect(state.cosma!.plan.method).toBe('greedy');
    expect(Object.keys(state.cosma!.tiling.blocks).length).toBeGreaterThan(0);
    const { inputs, want } = reference(program, ranks);
    await expectTiledPlanRuns(state, capacity, inputs, want, 1e-5);
    // The staging copies carry the data: without the gathers, the consumers read stale views.
    const built = buildWasmProgram(state, { threads: 1 });
    const gathers = built.steps.flatMap((s) => s.copiesBefore ?? []).filter((c) => c.kind === 'gather');
    expect(gathers.length).toBeGreaterThan(0);
    const stripped = {
      ...built,
      steps: built.steps.map((s) => ({
        ...s,
        copiesBefore: (s.copiesBefore ?? []).filter((c) => c.kind !== 'gather'),
      })),
    };
    const runner = await WasmRunner.create(stripped);
    try {
      expect(worstError(runner.run(inputs), want)).toBeGreaterThan(1e-3);
    } finally {
      await runner.close();
    }
  });

  test('the GEMM-shaped examples do get tiled', () => {
    expect([...tiledExamples]).toEqual(expect.arrayContaining(['matmul', 'mlp']));
  });

  test('the MLP at T=64 D=128 H=512 in 64 KiB: an optimal plan (gap 0) over tiles, executed', async () => {
    const program = checkFile('examples/mlp.ein');
    const ranks = { T: 64, D: 128, H: 512 };
    const capacity = 64 * 1024;
    const state = await compileKernelAsync(program, { ranks, cosmaScratchpadBytes: capacity });
    const cosma = state.cosma!;
    expect(Object.keys(cosma.tiling.blocks).length).toBeGreaterThan(0);
    expect(cosma.plan.method).toBe('ilp');
    expect(cosma.solver!.status).toBe('optimal');
    expect(cosma.solver!.gap).toBe(0);
    expect(cosma.savedBytes).toBeGreaterThanOrEqual(0);
    expect(cosma.savedBytes).toBe(
      cosma.baseline!.traffic.nonCompulsoryBytes - cosma.plan.traffic.nonCompulsoryBytes,
    );
    const { inputs, want } = reference(program, ranks);
    // Sums of 128 and 512 products in another order than the interpreter's: f32 rounding.
    await expectTiledPlanRuns(state, capacity, inputs, want, 1e-4);
    // Each tile operator's grid loop split over two workers, at the same planned addresses.
    const twoThreads = await execute(state, inputs, 2);
    expect(worstError(twoThreads.outputs, want)).toBeLessThan(1e-4);
  }, 300_000);
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
