// Text dumps of the memory passes (`chunking`, `cosma`) for --dump-after, `ein explain` and the
// playground: AutoChunk's candidates and choice, and the COSMA plan beside its greedy baseline.
import { formatBytes } from '../ir/limits.js';
import { explainPlan } from './cosma/index.js';
import type { CompileState } from './state.js';

export function dumpChunking(state: CompileState): string {
  const c = state.chunking;
  if (!c) return 'no chunking';
  const lines = [
    `chunk ${c.index} (rank ${c.rank} = ${c.extent}) into ${c.count} chunks of ${c.size}; the kernel is compiled at ${c.rank} = ${c.size}`,
    `peak of intermediates: ${c.unchunkedPeakBytes === null ? 'over the tensor limit' : formatBytes(c.unchunkedPeakBytes)} → ${formatBytes(c.predictedPeakBytes)} (budget ${formatBytes(c.budgetBytes)})`,
    `sliced per chunk: ${Object.entries(c.axes)
      .map(([t, a]) => (a < 0 ? `${t} (shared)` : `${t} axis ${a}`))
      .join(', ')}`,
    'candidates (index, size: peak, modelled traffic):',
  ];
  for (const k of c.candidates)
    lines.push(
      `  ${k.index} by ${k.size}: ${formatBytes(k.peakBytes)}, ${formatBytes(k.costBytes)}${k.fits ? '' : ' (over budget)'}${k.index === c.index && k.size === c.size ? '  ← chosen' : ''}`,
    );
  return lines.join('\n');
}

export function dumpCosma(state: CompileState): string {
  const c = state.cosma;
  if (!c) return 'no scratchpad plan (give a scratchpad budget)';
  const parts = [explainPlan(c.plan, { baseline: c.baseline })];
  if (c.baseline && c.baseline !== c.plan) parts.push(`baseline:\n${explainPlan(c.baseline)}`);
  parts.push(`notes: ${c.notes.join('; ')}`);
  return parts.join('\n');
}
