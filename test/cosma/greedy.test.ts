import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { analyzeGraph, operatorFootprintBound } from '../../src/passes/cosma/graph.js';
import { planGreedy } from '../../src/passes/cosma/greedy.js';
import { planIlp } from '../../src/passes/cosma/ilp.js';
import { validatePlan } from '../../src/passes/cosma/plan.js';
import { noteExample, randomGraph, randomSkipChain, seededRandom, twoBranches } from './graphs.js';

describe('greedy planner', () => {
  it('spills the furthest-next-use tensor and reloads it (note example, budget 10)', () => {
    const result = planGreedy(noteExample, 10);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.plan.method).toBe('greedy');
    expect(result.plan.traffic.nonCompulsoryBytes).toBe(8);
    expect(result.plan.steps.flatMap((step) => step.spills)).toEqual(['a']);
    expect(validatePlan(noteExample, result.plan, 10).errors).toEqual([]);
  });

  it('says which tensor does not fit when nothing fits', () => {
    const result = planGreedy(noteExample, 8);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.failures[0]).toMatch(/step \d \(make\w\): no free range of \d bytes for "\w"/);
  });

  it('follows a given schedule', () => {
    const schedule = ['left1', 'left2', 'right1', 'right2', 'join'];
    const result = planGreedy(twoBranches, 8, { schedule });
    expect(result.ok && result.plan.steps.map((step) => step.operator)).toEqual(schedule);
  });

  it('is never better than the ILP on random graphs, and both plans validate', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 1_000_000 }), fc.boolean(), async (seed, skips) => {
        const random = seededRandom(seed);
        const options = { operators: 3 + (seed % 4), maxBytes: 4 };
        const graph = skips ? randomSkipChain(random, options) : randomGraph(random, options);
        const capacity = operatorFootprintBound(analyzeGraph(graph)).bytes + (seed % 3);
        const greedy = planGreedy(graph, capacity);
        const ilp = await planIlp(graph, capacity, { timeLimitSeconds: 5 });
        if (ilp.plan) expect(validatePlan(graph, ilp.plan, capacity).errors).toEqual([]);
        if (!greedy.ok) return;
        expect(validatePlan(graph, greedy.plan, capacity).errors).toEqual([]);
        expect(ilp.plan).not.toBeNull();
        expect(ilp.plan!.traffic.nonCompulsoryBytes).toBeLessThanOrEqual(
          greedy.plan.traffic.nonCompulsoryBytes,
        );
      }),
      { seed: 20240611, numRuns: 25 },
    );
  });
});
