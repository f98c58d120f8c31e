// What flows through the pipeline: each pass takes the state and returns a new one with its part
// filled in. Nothing is mutated, so a dump after any pass shows exactly what that pass produced.
import type { TargetDescription } from '../backends/targets.js';
import { bindKernel } from '../ir/bind.js';
import type { CascadeProgram, KernelIR, ScheduleIR } from '../ir/cascade.js';
import type { Limits } from '../ir/limits.js';
import type { LoopProgram } from '../ir/loops.js';
import type { ChunkPlan } from './chunking.js';
import type { CosmaOptions, CosmaResult } from './cosma-pass.js';
import type { Decision } from './decisions.js';
import type { GroupPlan } from './group.js';
import type { MemoryPlan } from './memplan.js';
import type { RankPasses } from './passcount.js';

export interface CompileState {
  readonly program: CascadeProgram;
  /** The kernel being compiled, as the cascade passes have left it. */
  readonly kernel: KernelIR;
  readonly ranks: ReadonlyMap<string, number>;
  readonly shapes: ReadonlyMap<string, readonly number[]>;
  /** FuseMax pass counts per reduced rank, before and after the online rewrite. */
  readonly passcount?: { readonly before: readonly RankPasses[]; readonly after?: readonly RankPasses[] };
  readonly groups?: readonly GroupPlan[];
  readonly tiles?: readonly (readonly number[])[];
  readonly loops?: LoopProgram;
  readonly memory?: MemoryPlan;
  /** AutoChunk's plan when --max-memory made the kernel run in chunks (the ranks are then per chunk). */
  readonly chunking?: ChunkPlan;
  /** The COSMA scratchpad plan when a scratchpad budget was given. */
  readonly cosma?: CosmaResult;
  readonly decisions: readonly Decision[];
}

export interface PassContext {
  readonly target: TargetDescription;
  readonly scratchpadBytes: number;
  readonly schedule?: ScheduleIR;
  /** Worker threads (WASM) that each hold a copy of a kernel's on-chip slices. */
  readonly threads: number;
  /** Whether the online (1-pass) rewrite may run: 'auto' lets passcount decide. */
  readonly online: 'auto' | 'off';
  readonly userRanks: Readonly<Record<string, number>>;
  readonly limits?: Limits;
  /** COSMA: the scratchpad the global buffers share, when the `cosma` pass should run. */
  readonly cosma?: CosmaOptions;
  /** AutoChunk: the budget for the peak of intermediate memory. */
  readonly maxMemoryBytes?: number;
}

/** Re-bind after a pass changed the kernel: new tensors and ranks get their concrete sizes. */
export function withKernel(state: CompileState, kernel: KernelIR, ctx: PassContext): CompileState {
  const program = {
    ...state.program,
    kernels: state.program.kernels.map((k) => (k.name === kernel.name ? kernel : k)),
  };
  const given = Object.fromEntries(
    [...state.ranks].filter(([name]) => kernel.ranks.some((r) => r.name === name && !r.value)),
  );
  const bound = bindKernel(program, kernel.name, {
    ranks: { ...given, ...filterRanks(ctx.userRanks, kernel) },
    limits: ctx.limits,
    intermediatesMaterialized: false,
  });
  return { ...state, program, kernel, ranks: bound.ranks, shapes: bound.shapes };
}

function filterRanks(ranks: Readonly<Record<string, number>>, kernel: KernelIR): Record<string, number> {
  return Object.fromEntries(
    Object.entries(ranks).filter(([n]) => kernel.ranks.some((r) => r.name === n && !r.value)),
  );
}
