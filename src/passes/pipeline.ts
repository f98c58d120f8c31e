// The pass pipeline, in order (Halide's Lower.cpp style: one straight list). Every pass is a pure
// function of the state; `compileKernel` can dump the state after any of them.
import { TARGETS, type TargetName } from '../backends/targets.js';
import { EinError } from '../frontend/diagnostics.js';
import { bindKernel } from '../ir/bind.js';
import type { CascadeProgram, Einsum } from '../ir/cascade.js';
import { walkExpr } from '../ir/expr.js';
import { DEFAULT_LIMITS, formatBytes, type Limits } from '../ir/limits.js';
import type { LoopProgram } from '../ir/loops.js';
import { printLoopProgram } from '../ir/loop-print.js';
import { printKernel } from '../ir/print.js';
import { buildLoopProgram, kernelName } from './build-loops.js';
import { dumpGroups, dumpMemory } from './dump.js';
import { fuse } from './fusion.js';
import { inlineCalls } from './inline.js';
import { planMemory } from './memplan.js';
import { withKernel, type CompileState, type PassContext } from './state.js';
import { chooseTiles } from './tiling.js';

export interface Pass {
  readonly name: string;
  readonly description: string;
  run(state: CompileState, ctx: PassContext): CompileState;
  dump(state: CompileState): string;
}

export function readersOf(einsums: readonly Einsum[]): Map<string, Einsum[]> {
  const readers = new Map<string, Einsum[]>();
  for (const e of einsums)
    walkExpr(e.body, (x) => {
      if (x.k !== 'access') return;
      const list = readers.get(x.tensor) ?? [];
      if (!list.includes(e)) readers.set(x.tensor, [...list, e]);
    });
  return readers;
}

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
    name: 'fusion',
    description: 'group Einsums into kernels by bytes saved and scratchpad fit',
    run: (state, ctx) => {
      const einsums = einsumsOf(state);
      const { groups, decisions } = fuse(
        einsums,
        { kernel: state.kernel, ranks: state.ranks, shapes: state.shapes, readers: readersOf(einsums) },
        { scratchpadBytes: ctx.scratchpadBytes, forced: ctx.schedule?.fuse ?? [] },
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
    run: (state, ctx) => ({ ...state, loops: checkBufferLimits(buildLoopProgram(state), state, ctx) }),
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
];

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

export interface CompileOptions {
  readonly kernel?: string;
  readonly target?: TargetName;
  readonly ranks?: Readonly<Record<string, number>>;
  readonly scratchpadBytes?: number;
  readonly threads?: number;
  readonly online?: 'auto' | 'off';
  readonly limits?: Limits;
  /** Called after every pass with its name and the state it produced. */
  readonly onPass?: (pass: Pass, state: CompileState) => void;
}

export function compileKernel(program: CascadeProgram, opts: CompileOptions = {}): CompileState {
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
  };
  const bound = bindKernel(program, kernel.name, {
    ranks: opts.ranks,
    limits: opts.limits,
    intermediatesMaterialized: false,
  });
  let state: CompileState = { program, kernel, ranks: bound.ranks, shapes: bound.shapes, decisions: [] };
  for (const pass of PIPELINE) {
    state = pass.run(state, ctx);
    opts.onPass?.(pass, state);
  }
  return state;
}
