import { describe, expect, it } from 'vitest';
import { cutWindows, planDivide } from '../../src/passes/cosma/divide.js';
import { analyzeGraph, operatorFootprintBound } from '../../src/passes/cosma/graph.js';
import { planGreedy } from '../../src/passes/cosma/greedy.js';
import { planIlp } from '../../src/passes/cosma/ilp.js';
import { validatePlan } from '../../src/passes/cosma/plan.js';
import { planScratchpad } from '../../src/passes/cosma/planner.js';
import { declarationOrder } from '../../src/passes/cosma/schedule.js';
import { noteExample, randomSkipChain, seededRandom } from './graphs.js';

describe('divide and conquer', () => {
  it('cuts windows of at most the window size, covering every step once', () => {
    const graph = randomSkipChain(seededRandom(9), { operators: 17, maxBytes: 5 });
    const analysis = analyzeGraph(graph);
    const windows = cutWindows(analysis, declarationOrder(analysis), 5);
    expect(windows[0]![0]).toBe(1);
    expect(windows.at(-1)![1]).toBe(17);
    windows.forEach(([first, last], i) => {
      expect(last - first + 1).toBeLessThanOrEqual(5);
      if (i > 0) expect(first).toBe(windows[i - 1]![1] + 1);
    });
  });

  it('equals the fixed-schedule ILP when one window covers the graph', async () => {
    const schedule = ['makeA', 'makeB', 'makeC', 'makeD'];
    const divided = await planDivide(noteExample, 10, { schedule, windowSize: 4 });
    const ilp = await planIlp(noteExample, 10, { schedule });
    expect(divided.ok && divided.plan.traffic).toEqual(ilp.plan!.traffic);
  });

  it('plans larger graphs window by window with valid, carried state', async () => {
    for (const seed of [1, 2, 3]) {
      const graph = randomSkipChain(seededRandom(seed), { operators: 16, maxBytes: 5 });
      const capacity = operatorFootprintBound(analyzeGraph(graph)).bytes + 2;
      const divided = await planDivide(graph, capacity, { windowSize: 5, timeLimitSeconds: 2 });
      const greedy = planGreedy(graph, capacity);
      if (!divided.ok) {
        expect(greedy.ok).toBe(false);
        continue;
      }
      expect(validatePlan(graph, divided.plan, capacity).errors).toEqual([]);
      expect(divided.plan.method).toBe('divide');
      expect(divided.plan.solver!.windows).toBeGreaterThan(1);
    }
  });

  it('picks ILP for small graphs and the fixed-schedule ILP (else divide) for large ones, never worse than greedy', async () => {
    const small = await planScratchpad(noteExample, 10);
    expect(small.plan?.method).toBe('ilp');
    const graph = randomSkipChain(seededRandom(4), { operators: 14, maxBytes: 5 });
    const capacity = operatorFootprintBound(analyzeGraph(graph)).bytes + 1;
    const large = await planScratchpad(graph, capacity, { timeLimitSeconds: 2 });
    expect(large.notes[0]).toBe('method: fixed-schedule ILP, else divide (14 operators)');
    expect(large.notes.some((n) => n.startsWith('fixed-schedule ilp: '))).toBe(true);
    if (large.plan && large.baseline) {
      expect(large.plan.traffic.nonCompulsoryBytes).toBeLessThanOrEqual(
        large.baseline.traffic.nonCompulsoryBytes,
      );
      expect(validatePlan(graph, large.plan, capacity).ok).toBe(true);
    }
  });
});
