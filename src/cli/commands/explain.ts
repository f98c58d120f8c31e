// `ein explain FILE`: the memory plans and the compile explanation. With --scratchpad, the COSMA
// plan (ILP, optimal or with its gap) beside the greedy baseline, step by step with the [start, end)
// address of every resident tensor, its spills and reloads; with --max-memory, AutoChunk's choice;
// then what `ein compile --explain` prints. No plan fits → an error with the smallest budget that
// does (exit 1).
//
// Try: ein explain examples/attention.ein --rank P=16 --rank M=32 --rank E=8 --rank F=8 \
//        --no-online --kernel-scratchpad 16 --scratchpad 4224
// (three kernels; the ILP fits 4224 B, the smallest possible, where greedy first-fit fragments).
import { writeFileSync } from 'node:fs';
import { TARGETS, type TargetName } from '../../backends/targets.js';
import { EinError } from '../../frontend/diagnostics.js';
import { checkSource, readSource } from '../../frontend/index.js';
import { DEFAULT_LIMITS, formatBytes } from '../../ir/limits.js';
import { explainPlan } from '../../passes/cosma/index.js';
import { describeOperators, type CosmaResult } from '../../passes/cosma-pass.js';
import { dumpChunking } from '../../passes/memory-dump.js';
import { compileKernelAsync } from '../../passes/pipeline.js';
import { buildReport, explainReport } from '../../passes/report.js';
import type { CliIO } from '../io.js';
import { parseRankValues } from '../options.js';

export interface ExplainOptions {
  readonly kernel?: string;
  readonly rank?: Record<string, string>;
  readonly scratchpad?: number;
  readonly maxMemory?: number;
  readonly target: TargetName;
  readonly kernelScratchpad?: number;
  readonly threads?: number;
  readonly timeLimit?: number;
  readonly online?: boolean;
  readonly report?: string;
  readonly maxTensorBytes?: number;
  readonly allSteps?: boolean;
}

/** Plans of tiled graphs run to hundreds of steps: the first and last ones tell the story. */
const DEFAULT_SHOWN_STEPS = 12;

export async function explainCommand(file: string, opts: ExplainOptions, io: CliIO): Promise<number> {
  const source = readSource(file);
  const program = checkSource(source, file);
  let state;
  try {
    state = await compileKernelAsync(program, {
      kernel: opts.kernel,
      target: opts.target,
      ranks: parseRankValues(opts.rank),
      scratchpadBytes: opts.kernelScratchpad,
      threads: opts.threads,
      online: opts.online === false ? 'off' : 'auto',
      limits: { ...DEFAULT_LIMITS, ...(opts.maxTensorBytes ? { maxTensorBytes: opts.maxTensorBytes } : {}) },
      ...(opts.scratchpad !== undefined ? { cosmaScratchpadBytes: opts.scratchpad } : {}),
      ...(opts.timeLimit !== undefined ? { cosmaTimeLimitSeconds: opts.timeLimit } : {}),
      ...(opts.maxMemory !== undefined ? { maxMemoryBytes: opts.maxMemory } : {}),
    });
  } catch (e) {
    if (e instanceof EinError && e.diagnostics[0]?.span) throw e.withSource(file, source);
    throw e;
  }
  const target = TARGETS[opts.target];
  const kernelScratchpad =
    opts.kernelScratchpad ??
    program.schedules.find((s) => s.kernel === state.kernel.name)?.scratchpadBytes ??
    target.scratchpadBytes;
  if (state.chunking)
    io.out(`AutoChunk (--max-memory ${formatBytes(state.chunking.budgetBytes)}):\n${dumpChunking(state)}\n`);
  if (state.cosma) io.out(cosmaSection(state.cosma, opts.allSteps ? Infinity : DEFAULT_SHOWN_STEPS));
  if (!state.chunking && !state.cosma)
    io.out('no memory budget given: add --scratchpad BYTES (COSMA) or --max-memory BYTES (AutoChunk)\n');
  const report = buildReport(state, target, kernelScratchpad);
  io.out(explainReport(report) + '\n');
  if (opts.report) writeFileSync(opts.report, JSON.stringify(report, null, 2) + '\n');
  return 0;
}

/** The solver's plan beside greedy's, then the comparison in one line. */
function cosmaSection(cosma: CosmaResult, maxSteps: number): string {
  const { plan, baseline, solver } = cosma;
  const lines = [
    `COSMA scratchpad ${formatBytes(cosma.capacity)} (${cosma.capacity} B), ${describeOperators(cosma)}`,
    '',
  ];
  lines.push(
    `== ${plan.method === 'greedy' ? 'plan (greedy)' : `${plan.method.toUpperCase()} plan`} ==`,
    explainPlan(plan, { baseline, maxSteps }),
  );
  if (baseline && baseline !== plan)
    lines.push('== greedy plan (baseline) ==', explainPlan(baseline, { maxSteps }));
  else if (!baseline)
    lines.push(
      '== greedy plan (baseline) ==',
      'greedy first-fit found no plan at this capacity (fragmentation)\n',
    );
  const status = solver
    ? `solver ${solver.status}, gap ${solver.gap === null ? 'unknown' : `${(solver.gap * 100).toFixed(2)}%`}, ${solver.seconds.toFixed(2)} s`
    : 'no solver run';
  const greedy = baseline ? `${baseline.traffic.nonCompulsoryBytes} B` : 'no plan';
  lines.push(
    `summary: ${plan.method} ${plan.traffic.nonCompulsoryBytes} B of spills + reloads vs greedy ${greedy}; saves ${cosma.savedBytes} B (${status})`,
    `notes: ${cosma.notes.join('; ')}`,
    '',
  );
  return lines.join('\n');
}
