import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { emitters } from '../../backends/emitters.js';
import { TARGETS, type TargetName } from '../../backends/targets.js';
import { EinError } from '../../frontend/diagnostics.js';
import { checkSource, readSource } from '../../frontend/index.js';
import { printLoopProgram } from '../../ir/loop-print.js';
import { DEFAULT_LIMITS, formatBytes } from '../../ir/limits.js';
import { compileKernel, PIPELINE } from '../../passes/pipeline.js';
import { buildReport, explainReport, type CompileReport } from '../../passes/report.js';
import type { CliIO } from '../io.js';
import { parseRankValues } from '../options.js';

export interface CompileCommandOptions {
  readonly kernel?: string;
  readonly target: TargetName | 'all';
  readonly out?: string;
  readonly rank?: Record<string, string>;
  readonly scratchpad?: number;
  readonly threads?: number;
  readonly report?: string;
  readonly explain?: boolean;
  readonly dumpAfter?: string;
  readonly dumpAll?: boolean;
  readonly emit?: 'loops' | 'all';
  readonly online?: boolean;
  readonly maxTensorBytes?: number;
}

/** `ein compile FILE`: run the pipeline for each target; dump, explain, report and write what was asked. */
export async function compileCommand(file: string, opts: CompileCommandOptions, io: CliIO): Promise<number> {
  const source = readSource(file);
  const program = checkSource(source, file);
  if (opts.dumpAfter && !PIPELINE.some((p) => p.name === opts.dumpAfter))
    throw new EinError({
      message: `--dump-after ${opts.dumpAfter}: no such pass`,
      hint: `passes: ${PIPELINE.map((p) => p.name).join(', ')}`,
    });
  const targets: TargetName[] = opts.target === 'all' ? ['wasm', 'wgsl', 'cuda'] : [opts.target];
  const reports: CompileReport[] = [];
  for (const target of targets) {
    const description = TARGETS[target];
    let state;
    try {
      state = compileKernel(program, {
        kernel: opts.kernel,
        target,
        ranks: parseRankValues(opts.rank),
        scratchpadBytes: opts.scratchpad,
        threads: opts.threads,
        online: opts.online === false ? 'off' : 'auto',
        limits: {
          ...DEFAULT_LIMITS,
          ...(opts.maxTensorBytes ? { maxTensorBytes: opts.maxTensorBytes } : {}),
        },
        onPass: (pass, s) => {
          if (opts.dumpAll || opts.dumpAfter === pass.name)
            io.out(`=== ${target}: after ${pass.name} (${pass.description}) ===\n${pass.dump(s)}\n`);
        },
      });
    } catch (e) {
      if (e instanceof EinError && e.diagnostics[0]?.span) throw e.withSource(file, source);
      throw e;
    }
    const scratchpad =
      opts.scratchpad ??
      program.schedules.find((s) => s.kernel === state.kernel.name)?.scratchpadBytes ??
      description.scratchpadBytes;
    const report = buildReport(state, description, scratchpad);
    reports.push(report);
    if (opts.explain) io.out(explainReport(report) + '\n');
    if (opts.out) {
      mkdirSync(opts.out, { recursive: true });
      const loopsPath = join(opts.out, `${state.kernel.name}.${target}.loops.txt`);
      writeFileSync(loopsPath, printLoopProgram(state.loops!));
      const written = [loopsPath];
      const emit = emitters[target];
      if (emit && opts.emit !== 'loops') written.push(...(await emit(state, opts.out)));
      else if (!emit && opts.emit !== 'loops')
        io.err(`note: the ${target} backend is not available yet; wrote the Loop IR only`);
      for (const w of written) io.out(`wrote ${w}`);
    }
    if (!opts.explain && !opts.dumpAll && !opts.dumpAfter && !opts.out && !opts.report)
      io.out(
        `${state.kernel.name} → ${target}: ${report.kernels.length} kernel${report.kernels.length === 1 ? '' : 's'}, moves ${formatBytes(report.kernels.reduce((s, k) => s + k.bytesMoved.global, 0))}, peak ${formatBytes(report.peakBytes)} (use --explain for why)`,
      );
  }
  if (opts.report)
    writeFileSync(opts.report, JSON.stringify(reports.length === 1 ? reports[0] : reports, null, 2) + '\n');
  return 0;
}
