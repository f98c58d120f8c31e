import { describe, expect, it } from 'vitest';
import { explainPlan } from '../../src/passes/cosma/explain.js';
import { planGreedy } from '../../src/passes/cosma/greedy.js';
import { planIlp } from '../../src/passes/cosma/ilp.js';
import { twoBranches } from './graphs.js';

describe('explainPlan', () => {
  it('renders steps, traffic, solver status and the saving over greedy', async () => {
    const { plan } = await planIlp(twoBranches, 7);
    const greedy = planGreedy(twoBranches, 7);
    const text = explainPlan(plan!, { baseline: greedy.ok ? greedy.plan : null });
    expect(text).toMatchInlineSnapshot(`
      "scratchpad plan (ilp, free schedule), capacity 7 B
      step 1: right1
        on chip: w [0,1) x [1,3) q [4,7)
        load: x w
      step 2: right2
        on chip: w [0,1) s [2,4) q [4,7)
      step 3: left1
        on chip: x [0,2) s [2,4) p [4,7)
        reload: x
      step 4: left2
        on chip: r [0,2) s [2,4) p [4,7)
      step 5: join
        on chip: r [0,2) s [2,4) y [5,7)
        store: y
      non-compulsory traffic: 2 B (spills 0 B, reloads 2 B)
      compulsory traffic: 5 B (loads 3 B, stores 2 B)
      peak on chip: 7 B
      solver: optimal, objective 2 B, best bound 2 B, gap 0.00%
      vs greedy: 4 B non-compulsory; ilp saves 2 B (50.0%)
      "
    `);
  });

  it('shows the first and last steps of a long plan and says how many it left out', () => {
    const greedy = planGreedy(twoBranches, 7);
    if (!greedy.ok) throw new Error('greedy found no plan');
    const lines = explainPlan(greedy.plan, { maxSteps: 3 }).split('\n');
    const steps = lines.filter((l) => l.startsWith('step ')).map((l) => l.split(':')[0]);
    expect(steps).toEqual(['step 1', 'step 2', 'step 5']);
    expect(lines).toContain('… 2 steps not shown (--all-steps prints them; --report PATH.json has them all)');
    expect(explainPlan(greedy.plan, { maxSteps: 5 })).toBe(explainPlan(greedy.plan));
  });
});
