// The compile report: per kernel what it computes, its work, the bytes it moves against the lower
// bound, and its on-chip use; for the program the predicted peak and arena, and every decision.
// `--report PATH.json` writes it; `--explain` prints it as text.
import type { TargetDescription } from '../backends/targets.js';
import { formatBytes } from '../ir/limits.js';
import { chunkPlanReport, type ChunkPlan } from './chunking.js';
import { kernelCost, type KernelCost } from './cost.js';
import type { Decision } from './decisions.js';
import type { CompileState } from './state.js';

export interface KernelReport extends KernelCost {
  readonly name: string;
  readonly statements: readonly string[];
  readonly tiles: Readonly<Record<string, number>>;
  /** FuseMax passes this kernel's Einsums make over each reduced rank (after the online rewrite). */
  readonly passes: Readonly<Record<string, number>>;
}

export interface CompileReport {
  readonly kernel: string;
  readonly target: string;
  readonly ranks: Readonly<Record<string, number>>;
  readonly scratchpadBytes: number;
  readonly kernels: readonly KernelReport[];
  readonly passcount: CompileState['passcount'];
  readonly peakBytes: number;
  readonly arenaBytes: number;
  readonly memory: CompileState['memory'];
  /** AutoChunk's plan (--max-memory) and the COSMA scratchpad plan with its greedy baseline. */
  readonly chunking?: Omit<ChunkPlan, 'compiled'>;
  readonly cosma?: CompileState['cosma'];
  readonly decisions: readonly Decision[];
}

export function buildReport(
  state: CompileState,
  target: TargetDescription,
  scratchpadBytes: number,
): CompileReport {
  const loops = state.loops!;
  return {
    kernel: state.kernel.name,
    target: target.name,
    ranks: Object.fromEntries(state.ranks),
    scratchpadBytes,
    kernels: loops.kernels.map((k, i) => ({
      name: k.name,
      statements: k.info.statements,
      tiles: k.info.tiles,
      passes: kernelPasses(state, i),
      ...kernelCost(k, loops.buffers, target, scratchpadBytes),
    })),
    passcount: state.passcount,
    peakBytes: state.chunking?.predictedPeakBytes ?? state.memory!.peakBytes,
    arenaBytes: state.memory!.arenaBytes,
    memory: state.memory,
    ...(state.chunking ? { chunking: chunkPlanReport(state.chunking) } : {}),
    ...(state.cosma ? { cosma: state.cosma } : {}),
    decisions: state.decisions,
  };
}

/** The highest pass in which any Einsum of kernel `i` runs, per reduced rank. */
function kernelPasses(state: CompileState, i: number): Record<string, number> {
  const ranks = state.passcount?.after ?? state.passcount?.before ?? [];
  const tensors = new Set(state.groups?.[i]?.einsums.map((e) => e.tensor) ?? []);
  const out: Record<string, number> = {};
  for (const r of ranks) {
    const mine = r.perEinsum.filter((p) => tensors.has(p.tensor));
    if (mine.length > 0) out[r.rank] = Math.max(...mine.map((p) => p.pass));
  }
  return out;
}

const count = (n: number) =>
  n >= 1e9
    ? `${(n / 1e9).toFixed(2)} G`
    : n >= 1e6
      ? `${(n / 1e6).toFixed(2)} M`
      : n >= 1e3
        ? `${(n / 1e3).toFixed(1)} k`
        : String(n);

export function explainReport(r: CompileReport): string {
  const ranks = Object.entries(r.ranks)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
  const lines = [`${r.kernel} (${ranks}) → ${r.target}, scratchpad ${formatBytes(r.scratchpadBytes)}`, ''];
  if (r.passcount) {
    lines.push('passes (FuseMax):');
    for (const before of r.passcount.before) {
      const after = r.passcount.after?.find((a) => a.key === before.key || a.rank === before.rank);
      const change =
        after && after.passes !== before.passes ? ` → ${after.passes} after the online rewrite` : '';
      lines.push(
        `  ${before.rank}: ${before.passes}${change}${!change && before.consequence ? ` — ${before.consequence.text}` : ''}`,
      );
    }
    lines.push('');
  }
  lines.push('kernels:');
  for (const k of r.kernels) {
    const ratio =
      k.lowerBoundBytes > 0 ? ` = ${(k.bytesMoved.global / k.lowerBoundBytes).toFixed(2)}× the bound` : '';
    lines.push(`  ${k.name}`);
    for (const s of k.statements) lines.push(`    ${s}`);
    lines.push(
      `    ${count(k.flops)}flop, moves ${formatBytes(k.bytesMoved.global)} global${ratio}, ${formatBytes(k.bytesMoved.scratchpad)} on chip; on chip ${formatBytes(k.scratchpadBytes)}`,
    );
    lines.push(`    lower bound ${formatBytes(k.lowerBoundBytes)}: ${k.lowerBoundFormula}`);
    const passes = Object.entries(k.passes).map(([rank, n]) => `${n} over ${rank}`);
    if (passes.length) lines.push(`    passes: ${passes.join(', ')}`);
  }
  lines.push('', 'decisions:');
  for (const d of r.decisions)
    lines.push(
      `  ${d.pass.padEnd(8)} ${d.subject}: ${d.choice} — ${d.why}${d.alternativeCost ? ` (instead: ${d.alternativeCost})` : ''}`,
    );
  lines.push(
    '',
    `memory: peak intermediates ${formatBytes(r.peakBytes)}, arena ${formatBytes(r.arenaBytes)}`,
  );
  return lines.join('\n');
}
