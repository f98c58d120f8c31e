/**
 * Plain-text rendering of a scratchpad plan. Deterministic (no timings), so
 * it can back golden tests and compiler reports.
 */
import type { ScratchpadPlan } from './plan.js';

export interface ExplainOptions {
  /** A plan to compare against, usually the greedy baseline. */
  readonly baseline?: ScratchpadPlan | null;
  /** Print at most this many steps (the first and the last ones); all when absent. */
  readonly maxSteps?: number;
}

/** The steps to print, with `null` where the hidden ones would be. */
function shownSteps<T>(steps: readonly T[], maxSteps = Infinity): (T | null)[] {
  if (steps.length <= maxSteps) return [...steps];
  const head = Math.ceil(maxSteps / 2);
  return [...steps.slice(0, head), null, ...steps.slice(steps.length - (maxSteps - head))];
}

export function explainPlan(plan: ScratchpadPlan, options: ExplainOptions = {}): string {
  const schedule = plan.solver ? `, ${plan.solver.schedule} schedule` : '';
  const lines = [`scratchpad plan (${plan.method}${schedule}), capacity ${plan.capacity} B`];
  const hidden = plan.steps.length - Math.min(plan.steps.length, options.maxSteps ?? Infinity);
  for (const step of shownSteps(plan.steps, options.maxSteps)) {
    if (step === null) {
      lines.push(`… ${hidden} steps not shown (--all-steps prints them; --report PATH.json has them all)`);
      continue;
    }
    lines.push(`step ${step.step}: ${step.operator}`);
    const placed = step.resident.map(
      ({ tensor, offset, bytes }) => `${tensor} [${offset},${offset + bytes})`,
    );
    lines.push(`  on chip: ${placed.join(' ')}`);
    for (const [label, tensors] of [
      ['load', step.loads],
      ['spill', step.spills],
      ['reload', step.reloads],
      ['store', step.stores],
    ] as const) {
      if (tensors.length > 0) lines.push(`  ${label}: ${tensors.join(' ')}`);
    }
  }
  const { traffic } = plan;
  lines.push(
    `non-compulsory traffic: ${traffic.nonCompulsoryBytes} B ` +
      `(spills ${traffic.spillBytes} B, reloads ${traffic.reloadBytes} B)`,
    `compulsory traffic: ${traffic.compulsoryBytes} B ` +
      `(loads ${traffic.compulsoryLoadBytes} B, stores ${traffic.compulsoryStoreBytes} B)`,
    `peak on chip: ${plan.peakResidentBytes} B`,
  );
  if (plan.solver) {
    const { status, objective, bestBound, gap, windows } = plan.solver;
    const parts = [`solver: ${status}`];
    if (objective !== null) parts.push(`objective ${objective} B`);
    if (bestBound !== null) parts.push(`best bound ${bestBound} B`);
    if (gap !== null) parts.push(`gap ${(gap * 100).toFixed(2)}%`);
    if (windows > 1) parts.push(`${windows} windows`);
    lines.push(parts.join(', '));
  }
  const baseline = options.baseline;
  if (baseline) {
    const before = baseline.traffic.nonCompulsoryBytes;
    const saved = before - traffic.nonCompulsoryBytes;
    const share = before === 0 ? '0.0' : ((saved / before) * 100).toFixed(1);
    lines.push(
      `vs ${baseline.method}: ${before} B non-compulsory; ${plan.method} saves ${saved} B (${share}%)`,
    );
  }
  return `${lines.join('\n')}\n`;
}
