// Text dumps of the memory passes (`chunking`, `cosma`) for --dump-after, `ein explain` and the
// playground: AutoChunk's candidates and choice, and the COSMA plan beside its greedy baseline.
import { formatBytes } from '../ir/limits.js';
import { explainPlan } from './cosma/index.js';
import type { CompileState } from './state.js';

export function dumpChunking(state: CompileState): string {
  const c = state.chunking;
  if (!c) return 'no chunking';
  const lines = [
    `peak of activations: ${formatBytes(c.unchunkedPeakBytes)} → ${formatBytes(c.predictedPeakBytes)} (budget ${formatBytes(c.budgetBytes)}), modelled cost ${formatBytes(c.costBytes)}`,
    'steps (region around the peak, index, chunk size: peak before → after, cost):',
  ];
  c.steps.forEach((s, i) =>
    lines.push(
      `  ${i + 1}. ${s.region} (Einsums ${s.einsums[0]}..${s.einsums[1] - 1}): chunk ${s.index} (rank ${s.rank} = ${s.extent}) into ${s.count} chunks of ${s.size}: ${formatBytes(s.peakBeforeBytes)} → ${formatBytes(s.peakAfterBytes)} (region ${formatBytes(s.regionPeakBytes)}), cost ${formatBytes(s.costBytes)}; ${s.fitting} of ${s.candidates} candidates fit`,
    ),
  );
  lines.push('segments, in order:');
  c.segments.forEach((s, i) => {
    const k = s.chunk;
    const peak = Math.max(...c.layout.timeline.filter((p) => p.segment === i).map((p) => p.liveBytes));
    lines.push(
      k
        ? `  ${s.region}: ${k.count} chunks of ${k.index} by ${k.size}, sliced ${Object.entries(k.axes)
            .map(([t, a]) => (a < 0 ? `${t} (whole)` : `${t} axis ${a}`))
            .join(', ')}; live ${formatBytes(peak)}`
        : `  ${s.region}: whole; live ${formatBytes(peak)}`,
    );
  });
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
