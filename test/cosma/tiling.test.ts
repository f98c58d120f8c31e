// COSMA over tile operators, without the compiler: block choice, the tile graph (checked by the
// independent tiling validator), plans over it, the strided slices that move tiles, and the
// fixed-schedule ILP that plans large tile graphs against the full fixed-schedule model.
import { describe, expect, it } from 'vitest';
import { sliceRuns } from '../../src/backends/wasm/tile-slices.js';
import {
  analyzeGraph,
  operatorFootprintBound,
  planGreedy,
  planIlp,
  planScratchpad,
  validatePlan,
} from '../../src/passes/cosma/index.js';
import { fixedSchedulePlan } from '../../src/passes/cosma/fixed-schedule.js';
import { scheduleFromNames } from '../../src/passes/cosma/schedule.js';
import { buildTileGraph, chooseBlocks, type TilingInput } from '../../src/passes/cosma-tiling.js';
import { randomSkipChain, seededRandom } from './graphs.js';
import { validateTiling } from './tiles.js';

/** Y = (X · W) · V as two kernels: T and H split the first, T and E the second (H is reduced there). */
function chain(T: number, D: number, H: number, E: number): TilingInput {
  return {
    buffers: [
      { name: 'X', shape: [T, D], role: 'input' },
      { name: 'W', shape: [D, H], role: 'input' },
      { name: 'V', shape: [H, E], role: 'input' },
      { name: 'G', shape: [T, H], role: 'intermediate' },
      { name: 'Y', shape: [T, E], role: 'output' },
    ],
    kernels: [
      { name: 'k1', reads: ['X', 'W'], writes: ['G'] },
      { name: 'k2', reads: ['G', 'V'], writes: ['Y'] },
    ],
    axes: {
      extents: new Map([
        ['T', T],
        ['H', H],
        ['E', E],
      ]),
      tileable: new Map([
        ['k1', ['T', 'H']],
        ['k2', ['T', 'E']],
      ]),
      axes: new Map<string, (string | null)[]>([
        ['X', ['T', null]],
        ['W', [null, 'H']],
        ['V', ['H', 'E']],
        ['G', ['T', 'H']],
        ['Y', ['T', 'E']],
      ]),
    },
  };
}

const shapesOf = (input: TilingInput) => new Map(input.buffers.map((b) => [b.name, b.shape]));
const wholeBytes = (input: TilingInput, kernel: number) => {
  const { reads, writes } = input.kernels[kernel]!;
  return [...reads, ...writes].reduce((sum, name) => {
    const shape = input.buffers.find((b) => b.name === name)!.shape;
    return sum + 4 * shape.reduce((a, b) => a * b, 1);
  }, 0);
};

describe('tile operators', () => {
  it('keeps kernels whole when they fit and splits them when they do not', () => {
    const input = chain(8, 4, 16, 8);
    const whole = Math.max(wholeBytes(input, 0), wholeBytes(input, 1));
    expect(chooseBlocks(input, whole)!.operators).toBe(2);
    for (const capacity of [Math.floor(whole / 2), Math.floor(whole / 4)]) {
      const choice = chooseBlocks(input, capacity)!;
      expect(choice.operators).toBeGreaterThan(2);
      expect(choice.workingSet).toBeLessThanOrEqual(capacity);
      const { graph, tiling } = buildTileGraph(input, choice.blocks);
      expect(validateTiling(tiling, graph, shapesOf(input))).toEqual([]);
      expect(graph.operators.length).toBe(choice.operators);
      // The working set the tiler counted is what the planners see.
      expect(operatorFootprintBound(analyzeGraph(graph)).bytes).toBe(choice.workingSet);
    }
  });

  it('gives a consumer that reduces a split rank all the tiles of its view, staged', () => {
    const input = chain(8, 4, 16, 8);
    const { graph, tiling } = buildTileGraph(
      input,
      new Map([
        ['T', 4],
        ['H', 8],
        ['E', 8],
      ]),
    );
    expect(validateTiling(tiling, graph, shapesOf(input))).toEqual([]);
    const consumer = tiling.operators.find((o) => o.kernel === 'k2')!;
    const g = consumer.operands.find((o) => o.buffer === 'G')!;
    expect(g.tiles).toEqual(['G[0:4,0:8]', 'G[0:4,8:16]']);
    expect(g.staging).toBe(`G@${consumer.name}`);
    expect(graph.tensors.find((t) => t.name === g.staging)!.bytes).toBe(4 * 4 * 16);
  });

  it('plans tile graphs: valid plans, ILP ≤ greedy, and none below the largest tile operator', async () => {
    const input = chain(8, 4, 16, 8);
    const capacity = Math.floor(Math.max(wholeBytes(input, 0), wholeBytes(input, 1)) / 2);
    const { graph } = buildTileGraph(input, chooseBlocks(input, capacity)!.blocks);
    const outcome = await planScratchpad(graph, capacity, { timeLimitSeconds: 5, certifyOnFailure: false });
    expect(validatePlan(graph, outcome.plan!, capacity).errors).toEqual([]);
    expect(validatePlan(graph, outcome.baseline!, capacity).errors).toEqual([]);
    expect(outcome.plan!.traffic.nonCompulsoryBytes).toBeLessThanOrEqual(
      outcome.baseline!.traffic.nonCompulsoryBytes,
    );
    expect(chooseBlocks(input, 4 * 2)).toBeNull();
  });

  it('slices: the runs of a box copy exactly its elements, in row-major order', () => {
    const shape = [3, 4, 5];
    const ranges = [
      [1, 3],
      [0, 4],
      [2, 4],
    ] as const;
    const runs = sliceRuns(shape, ranges);
    const copied = runs.flatMap((r) => Array.from({ length: r.length }, (_, i) => r.outer + i));
    const expected: number[] = [];
    for (let i = 1; i < 3; i++)
      for (let j = 0; j < 4; j++) for (let k = 2; k < 4; k++) expected.push(i * 20 + j * 5 + k);
    expect(copied).toEqual(expected);
    expect(runs.map((r) => r.inner)).toEqual(runs.map((_, i) => i * runs[0]!.length));
    expect(
      sliceRuns(
        [4, 6],
        [
          [0, 4],
          [0, 6],
        ],
      ),
    ).toEqual([{ outer: 0, inner: 0, length: 24 }]);
  });
});

describe('fixed-schedule ILP without addresses, then placement', () => {
  it('reaches the full fixed-schedule ILP optimum when it says optimal, and bounds it honestly otherwise', async () => {
    let compared = 0;
    let optimal = 0;
    for (let seed = 1; seed <= 12; seed++) {
      const graph = randomSkipChain(seededRandom(seed), { operators: 7, maxBytes: 5 });
      const analysis = analyzeGraph(graph);
      const names = graph.operators.map((o) => o.name);
      const order = scheduleFromNames(analysis, names);
      const bound = operatorFootprintBound(analysis).bytes;
      for (const capacity of [bound, bound + 2]) {
        const greedy = planGreedy(graph, capacity, { schedule: names });
        const fixed = await fixedSchedulePlan(
          graph,
          analysis,
          capacity,
          order,
          10,
          greedy.ok ? greedy.steps : null,
        );
        const full = await planIlp(graph, capacity, { schedule: names, timeLimitSeconds: 10 });
        if (!fixed.plan) continue;
        expect(validatePlan(graph, fixed.plan, capacity).errors).toEqual([]);
        expect(full.status).toBe('optimal');
        const optimum = full.plan!.traffic.nonCompulsoryBytes;
        const solver = fixed.plan.solver!;
        // The bound is a true lower bound; "optimal" means the optimum itself.
        expect(solver.bestBound!).toBeLessThanOrEqual(optimum);
        expect(fixed.plan.traffic.nonCompulsoryBytes).toBeGreaterThanOrEqual(optimum);
        if (solver.status === 'optimal') expect(fixed.plan.traffic.nonCompulsoryBytes).toBe(optimum);
        else expect(solver.gap!).toBeGreaterThan(0);
        if (greedy.ok && solver.status === 'optimal')
          expect(fixed.plan.traffic.nonCompulsoryBytes).toBeLessThanOrEqual(
            greedy.plan.traffic.nonCompulsoryBytes,
          );
        optimal += solver.status === 'optimal' ? 1 : 0;
        compared++;
      }
    }
    expect(optimal).toBeGreaterThan(5);
    expect(compared).toBeGreaterThanOrEqual(optimal);
  });

  it('leaves room for fragmentation when the addresses do not place, with a gap against a true bound', async () => {
    let retried = 0;
    for (let seed = 1; seed <= 7; seed++) {
      const graph = randomSkipChain(seededRandom(seed), { operators: 9, maxBytes: 7 });
      const analysis = analyzeGraph(graph);
      const names = graph.operators.map((o) => o.name);
      const bound = operatorFootprintBound(analysis).bytes;
      for (const capacity of [bound, bound + 1, bound + 3]) {
        const order = scheduleFromNames(analysis, names);
        const fixed = await fixedSchedulePlan(graph, analysis, capacity, order, 10, null);
        if (!fixed.message.includes('planned for')) continue;
        const full = await planIlp(graph, capacity, { schedule: names, timeLimitSeconds: 10 });
        expect(full.status).toBe('optimal');
        expect(validatePlan(graph, fixed.plan!, capacity).errors).toEqual([]);
        const optimum = full.plan!.traffic.nonCompulsoryBytes;
        expect(fixed.plan!.solver!.bestBound!).toBeLessThanOrEqual(optimum);
        expect(fixed.plan!.traffic.nonCompulsoryBytes).toBeGreaterThanOrEqual(optimum);
        retried++;
      }
    }
    expect(retried).toBeGreaterThan(1);
  });
});
