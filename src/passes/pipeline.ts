// The pass pipeline, in order (Halide's Lower.cpp style: one straight list). Every pass is a pure
// function of the state; `compileKernel` can dump the state after any of them.
import { TARGETS, type TargetName } from '../backends/targets.js';
import { EinError } from '../frontend/diagnostics.js';
import { bindKernel } from '../ir/bind.js';
import type { CascadeProgram, Einsum } from '../ir/cascade.js';
import { DEFAULT_LIMITS, formatBytes, type Limits } from '../ir/limits.js';
import type { LoopProgram } from '../ir/loops.js';
import { printLoopProgram } from '../ir/loop-print.js';
import { printKernel } from '../ir/print.js';
import { buildLoopProgram, kernelName } from './build-loops.js';
import { dumpGroups, dumpMemory } from './dump.js';
import { fuse } from './fusion.js';
import { readersOf } from './group.js';
import { inlineCalls } from './inline.js';
import { hoistContractions } from './hoist.js';
import { online } from './online.js';
import { passcount } from './passcount.js';
import { dumpPasscount } from './dump.js';
import { planMemory } from './memplan.js';
import { dynamicBounds } from './dynamic-bounds.js';
import { autoChunk } from './chunking.js';
import { cosmaPass, cosmaPassAsync, type FuseAgain } from './cosma-pass.js';
import { dumpChunking, dumpCosma } from './memory-dump.js';
import { withKernel, type CompileState, type PassContext } from './state.js';
import { chooseTiles, defaultTiles } from './tiling.js';

export interface Pass {
  readonly name: string;
  readonly description: string;
  run(state: CompileState, ctx: PassContext): CompileState;
  /** For passes that wait on something (the HiGHS solver); compileKernelAsync prefers it to `run`. */
  runAsync?(state: CompileState, ctx: PassContext): Promise<CompileState>;
  dump(state: CompileState): string;
}

/** The cache tier fusion may count on: the target's last, or its scratchpad on targets without one. */
const cacheBytesOf = (ctx: PassContext) =>
  ctx.target.cacheTiers[ctx.target.cacheTiers.length - 1]?.bytes ?? ctx.scratchpadBytes;

const einsumsOf = (state: CompileState) => state.kernel.steps.filter((s): s is Einsum => s.kind === 'einsum');
const cascadeDump = (state: CompileState) => printKernel(state.kernel);

export const PIPELINE: readonly Pass[] = [
  {
    name: 'inline',
    description: 'replace kernel calls by the callee Einsums',
    run: (state, ctx) => withKernel(state, inlineCalls(state.program, state.kernel), ctx),
    dump: cascadeDump,
  },
  {
    name: 'passcount',
    description: "FuseMax's pass analysis: passes over every reduced rank, and what re-reading costs",
    run: (state) => ({
      ...state,
      passcount: {
        before: passcount(state.kernel, { ranks: state.ranks, globalRanks: state.program.ranks }),
      },
    }),
    dump: dumpPasscount,
  },
  {
    name: 'online',
    description: 'rewrite multi-pass softmax chains into the 1-pass iterative form when it saves passes',
    run: (state, ctx) => {
      if (ctx.online === 'off') return state;
      const result = online(state.kernel, {
        ranks: state.ranks,
        globalRanks: state.program.ranks,
        blockSize: ctx.schedule?.tiles ? blockFromSchedule(ctx.schedule.tiles) : undefined,
      });
      if (result.kernel === state.kernel)
        return { ...state, decisions: [...state.decisions, ...result.decisions] };
      const next = withKernel(state, result.kernel, ctx);
      const after = passcount(next.kernel, { ranks: next.ranks, globalRanks: next.program.ranks });
      return {
        ...next,
        passcount: { before: state.passcount!.before, after },
        decisions: [...state.decisions, ...result.decisions],
      };
    },
    dump: (state) => `${cascadeDump(state)}

${dumpPasscount(state)}`,
  },
  {
    name: 'hoist',
    description:
      'give contractions nested in elementwise expressions their own Einsum (for the contract intrinsic)',
    run: (state, ctx) => {
      const result = hoistContractions(state.kernel, state.ranks);
      if (result.kernel === state.kernel) return state;
      return {
        ...withKernel(state, result.kernel, ctx),
        decisions: [...state.decisions, ...result.decisions],
      };
    },
    dump: cascadeDump,
  },
  {
    name: 'fusion',
    description: 'group Einsums into kernels by bytes saved and scratchpad fit',
    run: (state, ctx) => {
      const einsums = einsumsOf(state);
      const { groups, decisions } = fuse(
        einsums,
        { kernel: state.kernel, ranks: state.ranks, shapes: state.shapes, readers: readersOf(einsums) },
        {
          scratchpadBytes: ctx.scratchpadBytes,
          cacheBytes: cacheBytesOf(ctx),
          tilesOf: (plan) => defaultTiles(plan, ctx.target, ctx.scratchpadBytes),
          forced: ctx.schedule?.fuse ?? [],
        },
      );
      return { ...state, groups, decisions: [...state.decisions, ...decisions] };
    },
    dump: dumpGroups,
  },
  {
    name: 'tiling',
    description: 'choose tile sizes for the parallel dimensions of each kernel',
    run: (state, ctx) => {
      const results = state.groups!.map((g, i) =>
        chooseTiles(
          g,
          kernelName(
            i,
            g.einsums.map((e) => e.tensor),
          ),
          ctx.target,
          ctx.scratchpadBytes,
          ctx.schedule?.tiles ?? {},
          state.ranks,
        ),
      );
      return {
        ...state,
        tiles: results.map((r) => r.tiles),
        decisions: [...state.decisions, ...results.map((r) => r.decision)],
      };
    },
    dump: dumpGroups,
  },
  {
    name: 'lower',
    description: 'lower every kernel to the Loop IR',
    // With --max-memory the limit applies to the chunked regions, not the whole kernel: a long
    // sequence may need chunking to fit it (the `chunking` pass checks).
    run: (state, ctx) => {
      const loops = buildLoopProgram(state);
      return {
        ...state,
        loops: ctx.maxMemoryBytes === undefined ? checkBufferLimits(loops, state, ctx) : loops,
      };
    },
    dump: (state) => printLoopProgram(state.loops!),
  },
  {
    name: 'bounds',
    description:
      'trip counts of masked loops: `t <= pos` stops at pos + 1, causal `m <= p + M - P` at p + M - P + 1 (dynamic-bounds.ts, mask-bounds.ts)',
    run: (state) => ({ ...state, loops: dynamicBounds(state.loops!) }),
    dump: (state) => printLoopProgram(state.loops!),
  },
  {
    name: 'memplan',
    description: 'liveness, arena offsets and the predicted peak',
    run: (state, ctx) => ({
      ...state,
      memory: planMemory(state.loops!, ctx.target.name === 'wasm' ? ctx.threads : 0),
    }),
    dump: dumpMemory,
  },
  {
    name: 'chunking',
    description:
      'AutoChunk: with --max-memory, run regions around the activation peak in chunks of an unreduced index until the budget holds',
    run: (state, ctx) => {
      const regions = { ...ctx, maxMemoryBytes: undefined };
      return autoChunk(state, ctx, {
        evaluate: (trial) => runPasses(trial, regions, 'fusion', 'memplan'),
        checkLimits: (whole) => void checkBufferLimits(whole.loops!, whole, ctx),
      });
    },
    dump: dumpChunking,
  },
  {
    name: 'cosma',
    description: 'COSMA: with a scratchpad budget, place global buffers in it and plan spills and reloads',
    run: (state, ctx) => (ctx.cosma ? cosmaPass(state, ctx, fuseAgain(ctx)) : state),
    runAsync: async (state, ctx) => (ctx.cosma ? cosmaPassAsync(state, ctx, fuseAgain(ctx)) : state),
    dump: dumpCosma,
  },
];

/** Runs the passes from `first` to `last` (inclusive) on a state: AutoChunk's trial compiles. */
function runPasses(state: CompileState, ctx: PassContext, first: string, last: string): CompileState {
  const from = PIPELINE.findIndex((p) => p.name === first);
  const to = PIPELINE.findIndex((p) => p.name === last);
  return PIPELINE.slice(from, to + 1).reduce((s, pass) => pass.run(s, ctx), state);
}

/** COSMA's retry with less fusion: fusion through memplan with another on-chip budget per kernel. */
const fuseAgain =
  (ctx: PassContext): FuseAgain =>
  (state, kernelScratchpadBytes) =>
    runPasses(state, { ...ctx, scratchpadBytes: kernelScratchpadBytes }, 'fusion', 'memplan');

/** The per-tensor limit, applied to the buffers the plan really allocates. */
function checkBufferLimits(loops: LoopProgram, state: CompileState, ctx: PassContext): LoopProgram {
  const limit = (ctx.limits ?? DEFAULT_LIMITS).maxTensorBytes;
  for (const b of [...loops.buffers, ...loops.kernels.flatMap((k) => k.locals)])
    if (b.size * 4 > limit)
      throw new EinError({
        message: `${b.name} needs ${formatBytes(b.size * 4)} (${b.level} buffer of ${b.size} elements), beyond the limit of ${formatBytes(limit)} per tensor`,
        span: state.kernel.tensors[b.name]?.span,
        hint: 'raise the limit with --max-tensor-bytes BYTES, or use smaller ranks',
      });
  return loops;
}

/** `tile m by 64` in a schedule also picks the online block size when it divides the rank. */
function blockFromSchedule(
  tiles: Readonly<Record<string, number>>,
): ((extent: number) => number) | undefined {
  const sizes = Object.values(tiles);
  if (sizes.length === 0) return undefined;
  return (extent) => {
    const fits = sizes.filter((t) => extent % t === 0);
    return fits.length ? Math.max(...fits) : 1;
  };
}

export interface CompileOptions {
  readonly kernel?: string;
  readonly target?: TargetName;
  readonly ranks?: Readonly<Record<string, number>>;
  readonly scratchpadBytes?: number;
  readonly threads?: number;
  readonly online?: 'auto' | 'off';
  readonly limits?: Limits;
  /** Run the `cosma` pass: the scratchpad (bytes) all global buffers share, and the ILP time limit. */
  readonly cosmaScratchpadBytes?: number;
  readonly cosmaTimeLimitSeconds?: number;
  /** Run AutoChunk (`chunking`) with this budget for the peak of intermediate memory. */
  readonly maxMemoryBytes?: number;
  /** Called after every pass with its name and the state it produced. */
  readonly onPass?: (pass: Pass, state: CompileState) => void;
}

export function compileKernel(program: CascadeProgram, opts: CompileOptions = {}): CompileState {
  let { state, ctx } = startCompile(program, opts);
  for (const pass of PIPELINE) {
    state = pass.run(state, ctx);
    opts.onPass?.(pass, state);
  }
  return state;
}

/** As compileKernel, but passes with `runAsync` (the COSMA ILP) run their asynchronous form. */
export async function compileKernelAsync(
  program: CascadeProgram,
  opts: CompileOptions = {},
): Promise<CompileState> {
  let { state, ctx } = startCompile(program, opts);
  for (const pass of PIPELINE) {
    state = pass.runAsync ? await pass.runAsync(state, ctx) : pass.run(state, ctx);
    opts.onPass?.(pass, state);
  }
  return state;
}

function startCompile(
  program: CascadeProgram,
  opts: CompileOptions,
): { state: CompileState; ctx: PassContext } {
  const kernelName = opts.kernel ?? program.kernels[program.kernels.length - 1]?.name;
  const kernel = program.kernels.find((k) => k.name === kernelName);
  if (!kernel)
    throw new EinError({
      message: `no kernel named '${kernelName}'`,
      hint: `kernels: ${program.kernels.map((k) => k.name).join(', ')}`,
    });
  const target = TARGETS[opts.target ?? 'wasm'];
  const schedule = program.schedules.find((s) => s.kernel === kernel.name);
  const scratchpadBytes = opts.scratchpadBytes ?? schedule?.scratchpadBytes ?? target.scratchpadBytes;
  if (scratchpadBytes > target.maxScratchpadBytes)
    throw new EinError({
      message: `a scratchpad of ${scratchpadBytes} bytes is more than ${target.name} allows (${target.maxScratchpadBytes})`,
      span: schedule?.span,
      hint: `use at most ${target.maxScratchpadBytes} bytes`,
    });
  const ctx: PassContext = {
    target,
    scratchpadBytes,
    schedule,
    threads: opts.threads ?? 1,
    online: opts.online ?? 'auto',
    userRanks: opts.ranks ?? {},
    limits: opts.limits,
    ...(opts.cosmaScratchpadBytes !== undefined
      ? { cosma: { capacity: opts.cosmaScratchpadBytes, timeLimitSeconds: opts.cosmaTimeLimitSeconds } }
      : {}),
    ...(opts.maxMemoryBytes !== undefined ? { maxMemoryBytes: opts.maxMemoryBytes } : {}),
  };
  const bound = bindKernel(program, kernel.name, {
    ranks: opts.ranks,
    limits: opts.limits,
    intermediatesMaterialized: false,
  });
  const state: CompileState = { program, kernel, ranks: bound.ranks, shapes: bound.shapes, decisions: [] };
  return { state, ctx };
}
