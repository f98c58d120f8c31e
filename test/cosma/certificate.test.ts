import { describe, expect, it } from 'vitest';
import { certifyCapacity } from '../../src/passes/cosma/certificate.js';
import { analyzeGraph, operatorFootprintBound, type OperatorGraph } from '../../src/passes/cosma/graph.js';
import { planGreedy } from '../../src/passes/cosma/greedy.js';
import { planIlp } from '../../src/passes/cosma/ilp.js';
import { minimumPeakSchedule } from '../../src/passes/cosma/min-peak.js';
import { validatePlan } from '../../src/passes/cosma/plan.js';
import { planScratchpad } from '../../src/passes/cosma/planner.js';
import { noteExample, randomSkipChain, seededRandom, siblings, twoBranches } from './graphs.js';

/** Smallest peak of live bytes over all topological orders, by enumeration. */
function bruteForceMinimumPeak(graph: OperatorGraph): number {
  const analysis = analyzeGraph(graph);
  let best = Infinity;
  const visit = (order: number[]): void => {
    if (order.length === graph.operators.length) {
      let peak = 0;
      order.forEach((op, index) => {
        const live = analysis.tensors.reduce((sum, tensor, a) => {
          const producer = analysis.producer[a];
          const readers = analysis.consumers[a]!.map((reader) => order.indexOf(reader));
          const born = producer === null ? Math.min(...readers) : order.indexOf(producer);
          const dies = Math.max(born, ...readers);
          return born <= index && index <= dies ? sum + tensor.bytes : sum;
        }, 0);
        peak = Math.max(peak, live);
      });
      best = Math.min(best, peak);
      return;
    }
    analysis.operators.forEach((_, op) => {
      if (order.includes(op)) return;
      if (analysis.predecessors[op]!.every((pred) => order.includes(pred))) visit([...order, op]);
    });
  };
  visit([]);
  return best;
}

describe('capacity certificates', () => {
  it('names the operator footprint, the smallest capacity and the spill (note example)', async () => {
    const certificate = await certifyCapacity(noteExample, 8);
    expect(certificate).toMatchObject({
      fits: false,
      operatorFootprint: { bytes: 10, operator: 'makeD' },
      minimumCapacity: 10,
      provenMinimal: true,
      planner: 'ilp',
    });
    expect(certificate.spills).toEqual([{ tensor: 'a', bytes: 4, step: 3, reloadedAt: [4] }]);
    expect(certificate.message).toBe(
      'A 8-byte scratchpad is too small for this graph. Operator "makeD" alone needs 10 bytes on chip ' +
        '(a, c, d), so no scratchpad below that can work. The smallest scratchpad that fits is 10 bytes ' +
        '(and nothing smaller can). It gets there by spilling "a" (4 B) before step 3, reloading it ' +
        'before step 4: 8 B of non-compulsory traffic.',
    );
  });

  it('is attached by planScratchpad when nothing fits', async () => {
    const outcome = await planScratchpad(noteExample, 9);
    expect(outcome.plan).toBeNull();
    expect(outcome.certificate?.minimumCapacity).toBe(10);
  });

  it('gives a capacity that fits while one byte less does not, for each planner', async () => {
    const random = seededRandom(21);
    for (let i = 0; i < 6; i++) {
      const graph = randomSkipChain(random, { operators: 4 + (i % 3), maxBytes: 4 });
      const low = operatorFootprintBound(analyzeGraph(graph)).bytes;
      const greedy = await certifyCapacity(graph, low, { planner: 'greedy' });
      expect(validatePlan(graph, greedy.plan, greedy.minimumCapacity).errors).toEqual([]);
      if (greedy.minimumCapacity > low) expect(planGreedy(graph, greedy.minimumCapacity - 1).ok).toBe(false);

      const ilp = await certifyCapacity(graph, low, { planner: 'ilp', timeLimitSeconds: 5 });
      expect(validatePlan(graph, ilp.plan, ilp.minimumCapacity).errors).toEqual([]);
      expect(ilp.minimumCapacity).toBeLessThanOrEqual(greedy.minimumCapacity);
      expect(ilp.provenMinimal).toBe(true);
      if (ilp.minimumCapacity > low) {
        expect((await planIlp(graph, ilp.minimumCapacity - 1)).status).toBe('infeasible');
      }
    }
  });

  it('finds the minimum peak (Eq. 13–15) that enumeration finds', async () => {
    for (const graph of [noteExample, twoBranches, siblings]) {
      const result = await minimumPeakSchedule(graph);
      expect(result.status).toBe('optimal');
      expect(result.peakBytes).toBe(bruteForceMinimumPeak(graph));
      expect(result.order).toHaveLength(graph.operators.length);
    }
  });
});
