// `compile(source, options)`: check, run the pass pipeline for one target, build the target's code.
// Kernels are cached by source and options, so a hot loop that compiles the same program repeatedly
// pays once. Every user error is an EinError carrying the same diagnostics as `ein check`/`ein compile`.
import { TARGETS } from '../backends/targets.js';
import { check } from '../frontend/check.js';
import { EinError } from '../frontend/diagnostics.js';
import { parse } from '../frontend/parser.js';
import { bindKernel } from '../ir/bind.js';
import type { CascadeProgram } from '../ir/cascade.js';
import { compileKernelAsync, type Pass } from '../passes/pipeline.js';
import type { CompileState } from '../passes/state.js';
import { KernelCache } from './cache.js';
import { Kernel, TARGET_NAMES, type Target } from './kernel.js';

export interface CompileOptions {
  /** Where the kernel runs and what `kernel.source` holds; default 'wasm'. */
  readonly target?: Target;
  /** Values of the symbolic ranks (`{ M: 64, N: 64 }`); the kernel is specialised to them. */
  readonly ranks?: Readonly<Record<string, number>>;
  /** On-chip bytes per workgroup (default: the target's, or the program's `schedule`). */
  readonly scratchpad?: number;
  /** WASM threads, the caller included; default: the host's hardware concurrency. */
  readonly threads?: number;
  /** Which kernel of the source; default: the last one. */
  readonly kernel?: string;
  /** 'off' keeps multi-pass softmax chains as written (`ein compile --no-online`). */
  readonly online?: 'auto' | 'off';
  /**
   * Run the COSMA planner: the scratchpad (bytes) all global buffers share; the report then holds
   * its plan with spills and reloads (`report.cosma`). The ILP stops after `cosmaTimeLimit` seconds.
   */
  readonly cosmaScratchpad?: number;
  readonly cosmaTimeLimit?: number;
  /** The file name diagnostics show; default '<input>'. */
  readonly file?: string;
}

/** Checks `source` and returns its Cascade IR, or throws an EinError with the source attached. */
export function checkProgram(source: string, file = '<input>'): CascadeProgram {
  try {
    return check(parse(source, file), file, source);
  } catch (e) {
    throw e instanceof EinError ? e.withSource(file, source) : e;
  }
}

function defaultThreads(): number {
  const cores = typeof navigator !== 'undefined' ? navigator.hardwareConcurrency : undefined;
  return Math.max(1, Math.min(8, cores ?? 1));
}

function checkOptions(opts: CompileOptions): void {
  const target = opts.target ?? 'wasm';
  if (!TARGET_NAMES.includes(target))
    throw new EinError({
      message: `unknown target '${target}'`,
      hint: `targets: ${TARGET_NAMES.join(', ')}`,
    });
  const positive = (what: string, v: number | undefined) => {
    if (v !== undefined && !(Number.isInteger(v) && v >= 1))
      throw new EinError({ message: `${what} must be a positive integer, got ${v}` });
  };
  positive('threads', opts.threads);
  positive('scratchpad', opts.scratchpad);
  positive('cosmaScratchpad', opts.cosmaScratchpad);
  for (const [name, value] of Object.entries(opts.ranks ?? {})) positive(`rank ${name}`, value);
}

/** Compiles without the cache. */
export async function compileUncached(source: string, opts: CompileOptions = {}): Promise<Kernel> {
  checkOptions(opts);
  const file = opts.file ?? '<input>';
  const program = checkProgram(source, file);
  const target = opts.target ?? 'wasm';
  const pipelineTarget = target === 'interp' ? 'wasm' : target;
  const threads = target === 'wasm' ? (opts.threads ?? defaultThreads()) : 1;
  try {
    const passes: { pass: Pass; state: CompileState }[] = [];
    const state = await compileKernelAsync(program, {
      kernel: opts.kernel,
      target: pipelineTarget,
      ranks: opts.ranks,
      scratchpadBytes: opts.scratchpad,
      threads,
      online: opts.online,
      cosmaScratchpadBytes: opts.cosmaScratchpad,
      cosmaTimeLimitSeconds: opts.cosmaTimeLimit,
      onPass: (pass, s) => passes.push({ pass, state: s }),
    });
    const kernelName = state.kernel.name;
    const bound = bindKernel(program, kernelName, { ranks: opts.ranks, intermediatesMaterialized: false });
    const scratchpadBytes =
      opts.scratchpad ??
      program.schedules.find((s) => s.kernel === kernelName)?.scratchpadBytes ??
      TARGETS[pipelineTarget].scratchpadBytes;
    return new Kernel({ target, bound, state, scratchpadBytes, threads, passes, file, source });
  } catch (e) {
    throw e instanceof EinError ? e.withSource(file, source) : e;
  }
}

// Promises are cached, so concurrent compiles of the same program share one; failures are dropped.
const cache = new KernelCache<Promise<Kernel>>(
  64,
  (k) =>
    void k.then(
      (kernel) => kernel.close(),
      () => undefined,
    ),
);

/** The cache key: the source and every option that changes the compiled code. */
export function cacheKey(source: string, opts: CompileOptions): string {
  const ranks = Object.entries(opts.ranks ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify([
    source,
    opts.target ?? 'wasm',
    ranks,
    opts.scratchpad ?? null,
    opts.threads ?? null,
    opts.kernel ?? null,
    opts.online ?? 'auto',
    opts.cosmaScratchpad ?? null,
    opts.cosmaTimeLimit ?? null,
    opts.file ?? '<input>',
  ]);
}

/**
 * Compiles the last kernel of `source` (or `opts.kernel`) for `opts.target`. The result is cached:
 * the same source and options return the same Kernel.
 */
export function compile(source: string, opts: CompileOptions = {}): Promise<Kernel> {
  const key = cacheKey(source, opts);
  const kernel = cache.get(key, () => compileUncached(source, opts));
  kernel.catch(() => cache.delete(key));
  return kernel;
}

/** Closes and forgets every cached kernel (their WASM thread pools end). */
export async function clearCache(): Promise<void> {
  await cache.clear(async (k) => (await k.catch(() => undefined))?.close());
}
