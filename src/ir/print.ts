// The Cascade IR printed as Ein source: canonical, with every reduction explicit and hoisted kernel
// calls as bindings, so that check(parse(print(ir))) gives back the same IR.
import { printExpr } from '../frontend/print-expr.js';
import type { CascadeProgram, KernelIR, ScheduleIR, Step, TensorInfo } from './cascade.js';

const list = (xs: readonly { toString(): string }[]) => xs.join(', ');
const shapeText = (t: TensorInfo) =>
  t.shape.length === 0 ? t.dtype : `${t.dtype}[${list(t.shape.map((d) => printExpr(d)))}]`;

export function printStep(step: Step): string {
  if (step.kind === 'call') return `${list(step.outputs)} = ${step.kernel}(${list(step.args)})`;
  // A 0-d tensor keeps its empty brackets: `S = ...` would parse as a binding of a kernel call.
  const lhs = `${step.tensor}[${list(step.subs.map((s) => printExpr(s)))}]`;
  const body = printExpr(step.body);
  const rhs = step.reduced.length > 0 ? `${step.reduce}[${list(step.reduced)}] ${body}` : body;
  return `${lhs} = ${rhs}`;
}

export function printKernel(k: KernelIR): string {
  const params = k.params.map((p) => `${p}: ${shapeText(k.tensors[p]!)}`);
  const outs = k.outputs.map((o) => (k.tensors[o]!.declared ? `${o}: ${shapeText(k.tensors[o]!)}` : o));
  const outText = outs.length === 1 ? outs[0] : `(${list(outs)})`;
  const lines = [`kernel ${k.name}(${list(params)}) -> ${outText} {`];
  for (const r of k.ranks) if (r.value) lines.push(`  rank ${r.name} = ${printExpr(r.value)}`);
  for (const s of k.steps) lines.push(`  ${printStep(s)}`);
  lines.push('}');
  return lines.join('\n');
}

export function printSchedule(s: ScheduleIR): string {
  const items: string[] = [];
  const tiles = Object.entries(s.tiles);
  if (tiles.length) items.push(`tile ${list(tiles.map(([i, n]) => `${i} by ${n}`))}`);
  for (const f of s.fuse) items.push(`fuse ${f.from} .. ${f.to}`);
  for (const [i, n] of Object.entries(s.chunks)) items.push(`chunk ${i} by ${n}`);
  if (s.scratchpadBytes !== undefined) items.push(`scratchpad ${s.scratchpadBytes}`);
  return [`schedule ${s.kernel} {`, ...items.map((i) => `  ${i}`), '}'].join('\n');
}

export function printProgram(p: CascadeProgram): string {
  const parts: string[] = [];
  const rankLines = [
    ...p.ranks.map((r) => `rank ${r.name} = ${printExpr(r.value!)}`),
    ...p.defaults.map((r) => `default rank ${r.name} = ${printExpr(r.value!)}`),
  ];
  if (rankLines.length) parts.push(rankLines.join('\n'));
  for (const k of p.kernels) parts.push(printKernel(k));
  for (const s of p.schedules) parts.push(printSchedule(s));
  return parts.join('\n\n') + '\n';
}
