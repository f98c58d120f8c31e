// Text dumps of the pipeline's intermediate stages, for --dump-after and the playground.
import { formatBytes } from '../ir/limits.js';
import { printStep } from '../ir/print.js';
import type { CompileState } from './state.js';

export function dumpGroups(state: CompileState): string {
  return (state.groups ?? [])
    .map((g, i) => {
      const tiles = state.tiles?.[i];
      const outer = g.outer.map((d, j) => `${d.name}:${d.extent}${tiles ? `/${tiles[j]}` : ''}`).join(', ');
      const lines = [
        `kernel ${i + 1}  parallel over [${outer}]${g.stream ? `, streaming a rank of ${g.stream.extent}` : ''}, on chip ${formatBytes(g.localBytesPerSlot)} per thread`,
      ];
      g.einsums.forEach((e, j) =>
        lines.push(`  ${g.stream?.index[j] !== undefined ? '~ ' : ''}${printStep(e)}`),
      );
      for (const p of g.placements.values())
        if (p.local)
          lines.push(
            `  on chip: ${p.tensor} (${p.size} per thread${p.modTwoAxis !== undefined ? ', 2 generations' : ''})`,
          );
      return lines.join('\n');
    })
    .join('\n\n');
}

export function dumpMemory(state: CompileState): string {
  const m = state.memory;
  if (!m) return '';
  const lines = m.entries.map(
    (e) =>
      `${e.role.padEnd(12)} ${e.buffer.padEnd(16)} @${String(e.offset).padStart(10)}  ${formatBytes(e.bytes).padStart(10)}  kernels ${e.live[0] + 1}..${e.live[1] + 1}`,
  );
  lines.push(`scratch      ${m.workers} × ${formatBytes(m.scratchBytesPerWorker)} @${m.scratchOffset}`);
  lines.push(
    `arena ${formatBytes(m.arenaBytes)}, peak intermediates ${formatBytes(m.peakBytes)} (during kernel ${m.peakKernel + 1})`,
  );
  return lines.join('\n');
}

export function dumpPasscount(state: CompileState): string {
  const pc = state.passcount;
  if (!pc) return '';
  const line = (label: string, list: NonNullable<CompileState['passcount']>['before']) =>
    list.map(
      (r) =>
        `${label} ${r.rank}${r.parts.length > 1 ? ` [${r.parts.join(' × ')}]` : ''}: ${r.passes} pass${r.passes === 1 ? '' : 'es'}${r.consequence ? ` — ${r.consequence.text}` : ''}`,
    );
  return [
    ...line('passes over', pc.before),
    ...(pc.after ? line('after online, passes over', pc.after) : []),
  ].join('\n');
}
