import { describe, expect, it } from 'vitest';
import { analyzeGraph, operatorFootprintBound, type OperatorGraph } from '../../src/passes/cosma/graph.js';
import { planIlp } from '../../src/passes/cosma/ilp.js';
import { writeLpText } from '../../src/passes/cosma/lp-text.js';
import { validatePlan } from '../../src/passes/cosma/plan.js';
import { bruteForceOptimum } from './brute-force.js';
import { noteExample, randomSkipChain, seededRandom, siblings, twoBranches } from './graphs.js';

const noteOrder = ['makeA', 'makeB', 'makeC', 'makeD'];

async function ilpTraffic(
  graph: OperatorGraph,
  capacity: number,
  schedule?: string[],
): Promise<number | null> {
  const result = await planIlp(graph, capacity, { timeLimitSeconds: 10, ...(schedule ? { schedule } : {}) });
  expect(result.status).not.toBe('no-solution');
  expect(result.status).not.toBe('feasible');
  if (result.plan) expect(validatePlan(graph, result.plan, capacity).errors).toEqual([]);
  return result.plan?.traffic.nonCompulsoryBytes ?? null;
}

describe('COSMA ILP', () => {
  it('reproduces the note example: 7 and 8 infeasible, 10 gives 8, 12 gives 0', async () => {
    for (const schedule of [undefined, noteOrder]) {
      expect(await ilpTraffic(noteExample, 7, schedule)).toBeNull();
      expect(await ilpTraffic(noteExample, 8, schedule)).toBeNull();
      expect(await ilpTraffic(noteExample, 10, schedule)).toBe(8);
      expect(await ilpTraffic(noteExample, 12, schedule)).toBe(0);
    }
  });

  it('spills a after step 2 and reloads it for step 4 at budget 10', async () => {
    const { plan, solver } = await planIlp(noteExample, 10);
    expect(solver).toMatchObject({ status: 'optimal', objective: 8, bestBound: 8, gap: 0 });
    expect(plan!.steps.map((step) => step.spills)).toEqual([[], [], ['a'], []]);
    expect(plan!.steps.map((step) => step.reloads)).toEqual([[], [], [], ['a']]);
  });

  it('explains why a capacity below the largest operator footprint is infeasible', async () => {
    const result = await planIlp(noteExample, 9);
    expect(result.status).toBe('infeasible');
    expect(result.message).toContain('"makeD" alone needs 10 bytes');
  });

  it('matches the brute-force optimum on hand-made graphs', async () => {
    for (const graph of [noteExample, twoBranches, siblings]) {
      const low = operatorFootprintBound(analyzeGraph(graph)).bytes;
      for (let capacity = low - 1; capacity <= low + 3; capacity++) {
        expect(await ilpTraffic(graph, capacity), `capacity ${capacity}`).toBe(
          bruteForceOptimum(graph, capacity),
        );
      }
    }
  });

  it('matches the brute-force optimum on seeded random DAGs (free schedule)', async () => {
    const random = seededRandom(5);
    for (let i = 0; i < 12; i++) {
      const graph = randomSkipChain(random, { operators: 4 + (i % 3), maxBytes: 4 });
      const low = operatorFootprintBound(analyzeGraph(graph)).bytes;
      for (const capacity of [low, low + 1, low + 2]) {
        expect(await ilpTraffic(graph, capacity), `graph ${i}, capacity ${capacity}`).toBe(
          bruteForceOptimum(graph, capacity),
        );
      }
    }
  });

  it('matches the brute-force optimum for a fixed schedule (COSMA-FS)', async () => {
    const schedules: [OperatorGraph, string[]][] = [
      [twoBranches, ['left1', 'right1', 'left2', 'right2', 'join']],
      [twoBranches, ['left1', 'left2', 'right1', 'right2', 'join']],
      [siblings, ['split', 'mix', 'final']],
    ];
    for (const [graph, schedule] of schedules) {
      const low = operatorFootprintBound(analyzeGraph(graph)).bytes;
      for (let capacity = low; capacity <= low + 2; capacity++) {
        expect(await ilpTraffic(graph, capacity, schedule)).toBe(
          bruteForceOptimum(graph, capacity, schedule),
        );
      }
    }
  });

  it('returns the incumbent, bound and gap when the time limit stops it', async () => {
    const graph = randomSkipChain(seededRandom(3), { operators: 14, maxBytes: 6 });
    const low = operatorFootprintBound(analyzeGraph(graph)).bytes;
    const result = await planIlp(graph, low + 2, { timeLimitSeconds: 0.05 });
    expect(['optimal', 'feasible', 'no-solution']).toContain(result.status);
    if (result.status === 'feasible') {
      expect(result.plan).not.toBeNull();
      expect(result.solver.gap).not.toBeNull();
      expect(result.solver.bestBound!).toBeLessThanOrEqual(result.solver.objective!);
    }
  });

  it('rejects bad capacities and schedules with clear messages', async () => {
    await expect(planIlp(noteExample, 0)).rejects.toThrow(/positive integer/);
    await expect(
      planIlp(noteExample, 10, { schedule: ['makeB', 'makeA', 'makeC', 'makeD'] }),
    ).rejects.toThrow(/runs "makeB" before its producer "makeA"/);
    await expect(planIlp(noteExample, 10, { schedule: ['nope'] })).rejects.toThrow(/unknown operator "nope"/);
  });

  it('writes LP text in the format the note verified', () => {
    const text = writeLpText({
      objective: [
        { variable: 'S_a_2', coefficient: 4 },
        { variable: 'R_a_3', coefficient: 4 },
      ],
      objectiveConstant: 0,
      rows: [
        {
          name: 'e10u_a_b_3',
          terms: [
            { variable: 'L_a_3', coefficient: 1 },
            { variable: 'L_b_3', coefficient: -1 },
            { variable: 'u_a_b_3', coefficient: -10 },
          ],
          sense: '>=',
          rhs: -6,
        },
      ],
      variables: [
        { name: 'L_a_3', type: 'integer', lower: 0, upper: 6 },
        { name: 'L_b_3', type: 'integer', lower: 0, upper: 6 },
        { name: 'S_a_2', type: 'binary', lower: 0, upper: 1 },
        { name: 'R_a_3', type: 'binary', lower: 0, upper: 1 },
        { name: 'u_a_b_3', type: 'binary', lower: 0, upper: 1 },
      ],
    });
    expect(text).toBe(
      [
        'Minimize',
        ' obj: 4 S_a_2 + 4 R_a_3',
        'Subject To',
        ' e10u_a_b_3: L_a_3 - L_b_3 - 10 u_a_b_3 >= -6',
        'Bounds',
        ' 0 <= L_a_3 <= 6',
        ' 0 <= L_b_3 <= 6',
        'General',
        ' L_a_3 L_b_3',
        'Binary',
        ' S_a_2 R_a_3 u_a_b_3',
        'End',
        '',
      ].join('\n'),
    );
  });
});
