import { describe, expect, it } from 'vitest';
import { planGreedy } from '../../src/passes/cosma/greedy.js';
import { planIlp } from '../../src/passes/cosma/ilp.js';
import { validatePlan, type PlanStep, type ScratchpadPlan } from '../../src/passes/cosma/plan.js';
import { noteExample } from './graphs.js';

/** The ILP plan for the note example at budget 10 (spills a, reloads it). */
let cached: Promise<ScratchpadPlan> | null = null;
async function notePlan(): Promise<ScratchpadPlan> {
  cached ??= planIlp(noteExample, 10).then(({ plan }) => plan!);
  return cached;
}

function editStep(plan: ScratchpadPlan, step: number, edit: (step: PlanStep) => PlanStep): ScratchpadPlan {
  return { ...plan, steps: plan.steps.map((s) => (s.step === step ? edit(s) : s)) };
}

function errorsOf(plan: ScratchpadPlan, capacity = 10): string {
  return validatePlan(noteExample, plan, capacity).errors.join('\n');
}

describe('validatePlan', () => {
  it('accepts the ILP and greedy plans', async () => {
    expect(validatePlan(noteExample, await notePlan(), 10)).toEqual({ ok: true, errors: [] });
    const greedy = planGreedy(noteExample, 10);
    expect(greedy.ok && validatePlan(noteExample, greedy.plan, 10).ok).toBe(true);
  });

  it('survives a JSON round trip', async () => {
    const plan = await notePlan();
    expect(validatePlan(noteExample, JSON.parse(JSON.stringify(plan)) as ScratchpadPlan, 10).ok).toBe(true);
  });

  it('rejects overlapping address ranges', async () => {
    const plan = editStep(await notePlan(), 4, (step) => {
      const a = step.resident.find((placed) => placed.tensor === 'a')!;
      return {
        ...step,
        resident: step.resident.map((placed) =>
          placed.tensor === 'd' ? { ...placed, offset: a.offset } : placed,
        ),
      };
    });
    expect(errorsOf(plan)).toMatch(/"[ad]" \[\d+, \d+\) overlaps "[ad]" \[\d+, \d+\)/);
  });

  it('rejects a missing input', async () => {
    const plan = editStep(await notePlan(), 2, (step) => ({
      ...step,
      resident: step.resident.filter((placed) => placed.tensor !== 'a'),
    }));
    expect(errorsOf(plan)).toMatch(/step 2 \(makeB\): needs "a" on chip/);
  });

  it('rejects a capacity overrun', async () => {
    expect(errorsOf(await notePlan(), 9)).toMatch(/outside \[0, 9\)/);
  });

  it('rejects a reload without an earlier spill', async () => {
    const plan = editStep(await notePlan(), 3, (step) => ({ ...step, spills: [] }));
    expect(errorsOf(plan)).toMatch(/reloads "a", which was never spilled/);
  });

  it('rejects moving a tensor that stays on chip', async () => {
    const plan = editStep(await notePlan(), 2, (step) => ({
      ...step,
      resident: step.resident.map((placed) => (placed.tensor === 'a' ? { ...placed, offset: 6 } : placed)),
    }));
    expect(errorsOf(plan)).toMatch(/moves "a" from \d+ to 6 while it stays on chip/);
  });

  it('rejects wrong traffic totals and a missing operator', async () => {
    const plan = await notePlan();
    const wrongTraffic = { ...plan, traffic: { ...plan.traffic, spillBytes: 0 } };
    expect(errorsOf(wrongTraffic)).toMatch(/traffic.spillBytes is 0 but the steps add up to 4/);
    const truncated = { ...plan, steps: plan.steps.slice(0, 3) };
    expect(errorsOf(truncated)).toMatch(/operator "makeD" never runs/);
  });

  it('rejects a spill of a tensor that was not on chip', async () => {
    const plan = editStep(await notePlan(), 2, (step) => ({ ...step, spills: ['c'] }));
    expect(errorsOf(plan)).toMatch(/spills "c", which was not on chip at the previous step/);
  });
});
