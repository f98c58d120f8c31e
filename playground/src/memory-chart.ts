// The memory report as pictures: the arena plan as a time × address chart (one box per buffer, from
// the kernel that first uses it to the last, at its planned offset), the COSMA scratchpad plan with
// its spills and reloads when the report has one, and bytes moved against the lower bound per kernel.
import type { KernelReport, MemoryPlan } from '../../src/index.js';
import type { ScratchpadPlan } from '../../src/passes/cosma/plan.js';
import { escapeXml, formatBytes, rect, svg, text } from './svg.js';

const ROLE_COLORS: Record<string, string> = {
  input: '#9ecae1',
  output: '#a1d99b',
  intermediate: '#fdae6b',
  scratch: '#d9d9d9',
};

const WIDTH = 640;
const LEFT = 70;
const TOP = 24;

/** Time (kernels) across, addresses down. */
export function arenaChartSvg(memory: MemoryPlan, kernelNames: readonly string[]): string {
  const kernels = Math.max(1, kernelNames.length);
  const total = Math.max(1, memory.arenaBytes);
  const height = 300;
  const column = (WIDTH - LEFT - 10) / kernels;
  const y = (bytes: number) => TOP + (bytes / total) * height;
  const parts: string[] = [];
  for (const e of memory.entries)
    parts.push(
      rect({
        x: LEFT + e.live[0] * column,
        y: y(e.offset),
        width: (e.live[1] - e.live[0] + 1) * column,
        height: (e.bytes / total) * height,
        fill: ROLE_COLORS[e.role] ?? '#ccc',
        title: `${e.buffer} (${e.role}): ${formatBytes(e.bytes)} at ${e.offset}, live in kernels ${e.live[0] + 1}..${e.live[1] + 1}`,
        label: e.buffer,
        className: `buffer ${e.role}`,
      }),
    );
  for (let w = 0; w < memory.workers && memory.scratchBytesPerWorker > 0; w++)
    parts.push(
      rect({
        x: LEFT,
        y: y(memory.scratchOffset + w * memory.scratchBytesPerWorker),
        width: kernels * column,
        height: (memory.scratchBytesPerWorker / total) * height,
        fill: ROLE_COLORS.scratch!,
        title: `worker ${w + 1} on-chip slices: ${formatBytes(memory.scratchBytesPerWorker)}`,
        label: `scratch ${w + 1}`,
        className: 'buffer scratch',
      }),
    );
  kernelNames.forEach((name, i) =>
    parts.push(text(LEFT + i * column + 2, TOP + height + 14, `${i + 1}`, 'fill="#333"', name)),
  );
  parts.push(
    text(
      LEFT,
      14,
      `time → (kernel) · peak intermediates ${formatBytes(memory.peakBytes)} during kernel ${memory.peakKernel + 1}`,
    ),
  );
  parts.push(
    text(4, TOP + 10, '0'),
    text(4, TOP + height, formatBytes(total)),
    text(4, TOP + height / 2, 'address ↓'),
  );
  return svg(WIDTH, TOP + height + 24, parts.join(''), 'arena: buffers over time and address');
}

/** COSMA's plan: steps across, scratchpad addresses down; spills red, reloads blue. */
export function cosmaChartSvg(plan: ScratchpadPlan): string {
  const steps = Math.max(1, plan.steps.length);
  const height = 240;
  const column = (WIDTH - LEFT - 10) / steps;
  const total = Math.max(1, plan.capacity);
  const y = (bytes: number) => TOP + (bytes / total) * height;
  const parts: string[] = [];
  plan.steps.forEach((s, i) => {
    const x = LEFT + i * column;
    for (const t of s.resident) {
      const reloaded = s.reloads.includes(t.tensor);
      parts.push(
        rect({
          x,
          y: y(t.offset),
          width: column,
          height: (t.bytes / total) * height,
          fill: reloaded ? '#6baed6' : '#fdd0a2',
          title: `step ${s.step} (${s.operator}): ${t.tensor}, ${formatBytes(t.bytes)} at ${t.offset}${reloaded ? ', reloaded' : ''}`,
          label: t.tensor,
          className: reloaded ? 'reload' : 'resident',
        }),
      );
    }
    s.spills.forEach((name, j) =>
      parts.push(
        `<g class="spill"><path d="M${x + 2 + j * 9} ${TOP - 10} l4 8 l4 -8 z" fill="#de2d26"><title>spill ${escapeXml(name)} before step ${s.step}</title></path></g>`,
      ),
    );
  });
  parts.push(
    text(
      LEFT,
      12,
      `COSMA (${plan.method}): ${formatBytes(plan.traffic.spillBytes)} spilled, ${formatBytes(plan.traffic.reloadBytes)} reloaded, capacity ${formatBytes(plan.capacity)}`,
    ),
  );
  return svg(WIDTH, TOP + height + 10, parts.join(''), 'scratchpad plan with spills and reloads');
}

/** Per kernel: global bytes moved beside the lower bound. */
export function trafficChartSvg(kernels: readonly KernelReport[]): string {
  const row = 34;
  const max = Math.max(1, ...kernels.flatMap((k) => [k.bytesMoved.global, k.lowerBoundBytes]));
  const span = WIDTH - 200;
  const parts: string[] = [];
  kernels.forEach((k, i) => {
    const y0 = TOP + i * row;
    const ratio =
      k.lowerBoundBytes > 0 ? `${(k.bytesMoved.global / k.lowerBoundBytes).toFixed(2)}× bound` : '';
    parts.push(
      text(4, y0 + 12, k.name.length > 16 ? `${k.name.slice(0, 15)}…` : k.name, 'fill="#333"', k.name),
    );
    parts.push(
      rect({
        x: 120,
        y: y0,
        width: (k.bytesMoved.global / max) * span,
        height: 12,
        fill: '#fd8d3c',
        title: `${k.name} moves ${formatBytes(k.bytesMoved.global)}`,
        className: 'moved',
      }),
      rect({
        x: 120,
        y: y0 + 14,
        width: (k.lowerBoundBytes / max) * span,
        height: 12,
        fill: '#74c476',
        title: `lower bound ${formatBytes(k.lowerBoundBytes)}: ${k.lowerBoundFormula}`,
        className: 'bound',
      }),
      text(126 + span, y0 + 11, `${formatBytes(k.bytesMoved.global)} ${ratio}`),
      text(126 + span, y0 + 25, formatBytes(k.lowerBoundBytes), 'fill="#31a354"'),
    );
  });
  parts.push(text(120, 14, 'bytes moved (orange) against the lower bound (green), per kernel'));
  return svg(
    WIDTH + 60,
    TOP + kernels.length * row + 6,
    parts.join(''),
    'bytes moved against the lower bound',
  );
}
