// The `cosma` pass: place the global buffers of the lowered kernels in a scratchpad of a given size
// and decide which to spill to DRAM and reload (COSMA: Li, Gupta, Malik, arXiv 2311.18246). Kernels
// whose operands do not fit are split into tile operators over tensor tiles first (cosma-tiling.ts);
// a fused kernel that cannot be split small enough (its too-large operands are indexed by reduced
// ranks) is fused less: fusion runs again with a smaller on-chip budget until the kernels tile. The
// ILP (HiGHS, a time limit) plans small graphs, divide-and-conquer large ones, and the greedy
// first-fit + Belady plan is always computed beside it as the baseline. The WASM backend executes
// the plan (backends/wasm/cosma-layout.ts).
//
// HiGHS loads asynchronously, so the solver runs in `runAsync` (compileKernelAsync); the synchronous
// pipeline falls back to the greedy plan so `compileKernel` keeps working with a budget.
import { EinError } from '../frontend/diagnostics.js';
import { formatBytes } from '../ir/limits.js';
import type { LoopKernel } from '../ir/loops.js';
import {
  planGreedy,
  planScratchpad,
  type OperatorGraph,
  type ScratchpadPlan,
  type SolverReport,
} from './cosma/index.js';
import { analyzeTileAxes, compileTileKernel } from './cosma-tile-axes.js';
import {
  buildTileGraph,
  chooseBlocks,
  MAX_TILE_OPERATORS,
  type CosmaTiling,
  type TilingInput,
} from './cosma-tiling.js';
import type { Decision } from './decisions.js';
import { kernelOperands } from './kernel-graph.js';
import type { CompileState, PassContext } from './state.js';

export interface CosmaOptions {
  /** Scratchpad bytes the global buffers share. */
  readonly capacity: number;
  /** Per ILP solve (per window for divide-and-conquer). */
  readonly timeLimitSeconds?: number;
}

/** What the pass keeps in the state and the report: enough for a time × address chart. */
export interface CosmaResult {
  readonly capacity: number;
  /** The tile graph: one operator per tile operator, one tensor per tile (whole kernels when they fit). */
  readonly graph: OperatorGraph;
  /** How the kernels were split: blocks per rank, the tiles, and each tile operator's operands. */
  readonly tiling: CosmaTiling;
  /** The kernel every tile operator runs, bound at the tile ranks (named as the kernel). */
  readonly tileKernels: readonly LoopKernel[];
  /** The plan the backend executes: the solver's, or greedy's when the solver did not beat it. */
  readonly plan: ScratchpadPlan;
  /** Greedy first-fit with Belady eviction at the same capacity. */
  readonly baseline: ScratchpadPlan | null;
  readonly solver: SolverReport | null;
  /** Non-compulsory bytes the plan saves against the baseline. */
  readonly savedBytes: number;
  readonly notes: readonly string[];
}

/** Runs fusion through memplan again with another on-chip budget per kernel (pipeline.ts supplies it). */
export type FuseAgain = (state: CompileState, kernelScratchpadBytes: number) => CompileState;

export const DEFAULT_COSMA_TIME_LIMIT_SECONDS = 10;
/** The smallest on-chip budget per kernel fusion is retried with (one f32 per thread). */
const MIN_KERNEL_SCRATCHPAD = 4;

interface TiledProgram {
  readonly state: CompileState;
  readonly input: TilingInput;
  readonly graph: OperatorGraph;
  readonly tiling: CosmaTiling;
  readonly tileKernels: readonly LoopKernel[];
  readonly decisions: readonly Decision[];
}

function tilingInput(state: CompileState): TilingInput {
  return {
    buffers: state.loops!.buffers,
    kernels: kernelOperands(state.loops!),
    axes: analyzeTileAxes(state),
  };
}

/** The program as compiled, then fused less and less: each distinct set of kernels once. */
function* fusionCandidates(state: CompileState, ctx: PassContext, fuseAgain: FuseAgain) {
  yield { state, kernelScratchpad: ctx.scratchpadBytes };
  const key = (s: CompileState) => s.loops!.kernels.map((k) => k.name).join();
  const seen = new Set([key(state)]);
  const base = {
    ...state,
    decisions: state.decisions.filter((d) => d.pass !== 'fusion' && d.pass !== 'tiling'),
  };
  for (let bytes = Math.floor(ctx.scratchpadBytes / 4); ; bytes = Math.floor(bytes / 4)) {
    const budget = Math.max(bytes, MIN_KERNEL_SCRATCHPAD);
    const next = fuseAgain(base, budget);
    if (!seen.has(key(next))) {
      seen.add(key(next));
      yield { state: next, kernelScratchpad: budget };
    }
    if (budget === MIN_KERNEL_SCRATCHPAD) return;
  }
}

const blockText = (blocks: Readonly<Record<string, number>>) =>
  Object.entries(blocks)
    .map(([rank, block]) => `${rank} by ${block}`)
    .join(', ');

/** The most fused program whose kernels, split into tiles, all fit; null when none does. */
function tileProgram(
  state: CompileState,
  ctx: PassContext,
  fuseAgain: FuseAgain,
  capacity: number,
): TiledProgram | null {
  const original = state.loops!.kernels.map((k) => k.name);
  for (const candidate of fusionCandidates(state, ctx, fuseAgain)) {
    const input = tilingInput(candidate.state);
    const choice = chooseBlocks(input, capacity);
    if (!choice) continue;
    const { graph, tiling } = buildTileGraph(input, choice.blocks);
    const kernelCtx = { ...ctx, scratchpadBytes: candidate.kernelScratchpad };
    const tileKernels = input.kernels.map((k, index) => {
      const split = (input.axes.tileable.get(k.name) ?? []).filter(
        (rank) => tiling.blocks[rank] !== undefined,
      );
      const blocks = new Map(split.map((rank) => [rank, tiling.blocks[rank]!]));
      return compileTileKernel(candidate.state, kernelCtx, index, blocks);
    });
    const decisions: Decision[] = [];
    if (candidate.state !== state)
      decisions.push({
        pass: 'cosma',
        subject: original.join(', '),
        choice: `fused less (an on-chip budget of ${formatBytes(candidate.kernelScratchpad)} per kernel): ${input.kernels.map((k) => k.name).join(', ')}`,
        why: `split along their parallel ranks, the kernels as fused still need more than the ${formatBytes(capacity)} scratchpad: their large operands are indexed by ranks they reduce`,
      });
    for (const k of input.kernels) {
      const count = tiling.operators.filter((o) => o.kernel === k.name).length;
      const split = (input.axes.tileable.get(k.name) ?? []).filter(
        (rank) => tiling.blocks[rank] !== undefined,
      );
      if (count > 1)
        decisions.push({
          pass: 'cosma',
          subject: k.name,
          choice: `${count} tile operators (${split.map((rank) => `${rank} by ${tiling.blocks[rank]}`).join(', ')})`,
          why: `its operands (${[...new Set([...k.reads, ...k.writes])].join(', ')}) do not fit the ${formatBytes(capacity)} scratchpad whole; these are the largest tiles whose every operator fits (${choice.operators} operators in all, the largest needs ${formatBytes(choice.workingSet)})`,
        });
    }
    return { state: candidate.state, input, graph, tiling, tileKernels, decisions };
  }
  return null;
}

/**
 * Never a bare "out of memory": the smallest capacity at which some split of the least fused
 * program fits and greedy places it, by bisection (feasibility grows with capacity, and the sum of
 * all buffers always fits untiled).
 */
function certificate(
  state: CompileState,
  ctx: PassContext,
  fuseAgain: FuseAgain,
  requested: number,
): EinError {
  const last = [...fusionCandidates(state, ctx, fuseAgain)].pop()!;
  const input = tilingInput(last.state);
  const attempt = (capacity: number) => {
    const choice = chooseBlocks(input, capacity);
    if (!choice) return null;
    const { graph, tiling } = buildTileGraph(input, choice.blocks);
    const greedy = planGreedy(graph, capacity);
    return greedy.ok ? { graph, tiling, plan: greedy.plan } : null;
  };
  let low = 0;
  let high = input.buffers.reduce((sum, b) => sum + Math.max(1, b.shape.reduce((x, y) => x * y, 1) * 4), 0);
  while (high - low > 1) {
    const middle = Math.floor((low + high) / 2);
    if (attempt(middle)) high = middle;
    else low = middle;
  }
  const fit = attempt(high)!;
  const spills = fit.plan.steps.flatMap((s) => s.spills);
  const how =
    Object.keys(fit.tiling.blocks).length > 0
      ? `kernels ${input.kernels.map((k) => k.name).join(', ')} split into ${fit.graph.operators.length} tile operators (${blockText(fit.tiling.blocks)})`
      : `kernels ${input.kernels.map((k) => k.name).join(', ')} run whole`;
  return new EinError({
    message: `no scratchpad plan fits ${formatBytes(requested)} (${requested} B): the smallest scratchpad that fits is ${formatBytes(high)} (${high} B)`,
    hint:
      `At ${high} B the ${how}, and greedy places them ${spills.length ? `by spilling ${spills.length} tiles (${fit.plan.traffic.nonCompulsoryBytes} B of spills and reloads)` : 'without spills'}. ` +
      `Below it, no split of the parallel ranks into at most ${MAX_TILE_OPERATORS} tile operators fits every operator's operands, or greedy finds no placement. ` +
      `Use --scratchpad ${high} or more.`,
  });
}

function result(
  tiled: TiledProgram,
  capacity: number,
  plan: ScratchpadPlan,
  baseline: ScratchpadPlan | null,
  notes: readonly string[],
): CosmaResult {
  const tiles = Object.keys(tiled.tiling.blocks).length
    ? [
        `tiles: ${blockText(tiled.tiling.blocks)} → ${tiled.graph.operators.length} tile operators from ${tiled.input.kernels.length} kernels`,
      ]
    : [];
  return {
    capacity,
    graph: tiled.graph,
    tiling: tiled.tiling,
    tileKernels: tiled.tileKernels,
    plan,
    baseline,
    solver: plan.solver,
    savedBytes: baseline ? baseline.traffic.nonCompulsoryBytes - plan.traffic.nonCompulsoryBytes : 0,
    notes: [...tiles, ...notes],
  };
}

function withCosma(tiled: TiledProgram, cosma: CosmaResult): CompileState {
  return {
    ...tiled.state,
    cosma,
    decisions: [...tiled.state.decisions, ...tiled.decisions, ...cosmaDecisions(cosma)],
  };
}

/** The synchronous fallback: greedy only, with a certificate when nothing fits. */
export function cosmaPass(state: CompileState, ctx: PassContext, fuseAgain: FuseAgain): CompileState {
  const { capacity } = ctx.cosma!;
  const tiled = tileProgram(state, ctx, fuseAgain, capacity);
  const greedy = tiled && planGreedy(tiled.graph, capacity);
  if (!tiled || !greedy?.ok) throw certificate(state, ctx, fuseAgain, capacity);
  return withCosma(
    tiled,
    result(tiled, capacity, greedy.plan, greedy.plan, [
      'method: greedy (synchronous compile; the ILP runs in compileKernelAsync)',
    ]),
  );
}

/** The ILP (or divide-and-conquer) beside the greedy baseline; a certificate when nothing fits. */
export async function cosmaPassAsync(
  state: CompileState,
  ctx: PassContext,
  fuseAgain: FuseAgain,
): Promise<CompileState> {
  const { capacity } = ctx.cosma!;
  const timeLimitSeconds = ctx.cosma!.timeLimitSeconds ?? DEFAULT_COSMA_TIME_LIMIT_SECONDS;
  const tiled = tileProgram(state, ctx, fuseAgain, capacity);
  if (!tiled) throw certificate(state, ctx, fuseAgain, capacity);
  const outcome = await planScratchpad(tiled.graph, capacity, { timeLimitSeconds, certifyOnFailure: false });
  if (outcome.plan === null) throw certificate(state, ctx, fuseAgain, capacity);
  return withCosma(tiled, result(tiled, capacity, outcome.plan, outcome.baseline, outcome.notes));
}

/** "N kernels as operators", or how many tile operators the kernels became. */
export function describeOperators(cosma: CosmaResult): string {
  const kernels = new Set(cosma.tiling.operators.map((o) => o.kernel)).size;
  return Object.keys(cosma.tiling.blocks).length === 0
    ? `${kernels} kernels as operators`
    : `${cosma.graph.operators.length} tile operators from ${kernels} kernels (${blockText(cosma.tiling.blocks)})`;
}

export function cosmaDecisions(cosma: CosmaResult): Decision[] {
  const { plan, baseline, solver } = cosma;
  const traffic = plan.traffic.nonCompulsoryBytes;
  const decisions: Decision[] = [
    {
      pass: 'cosma',
      subject: `scratchpad ${formatBytes(cosma.capacity)}`,
      choice: `${plan.method} plan: ${formatBytes(traffic)} of spills and reloads, peak on chip ${formatBytes(plan.peakResidentBytes)}`,
      why: solver
        ? `the solver says ${solver.status} for a ${solver.schedule} schedule${solver.gap !== null ? `, gap ${(solver.gap * 100).toFixed(2)}%` : ''} (${solver.variables} variables, ${solver.rows} rows${solver.windows > 1 ? `, ${solver.windows} windows` : ''})`
        : 'greedy first-fit with furthest-next-use eviction',
      ...(baseline && baseline !== plan
        ? {
            alternativeCost: `greedy: ${formatBytes(baseline.traffic.nonCompulsoryBytes)} (saves ${formatBytes(cosma.savedBytes)})`,
          }
        : {}),
    },
  ];
  // One line per spilled tensor: a tiled plan spills hundreds of tiles of a few tensors.
  const spills = new Map<string, { tiles: number; first: string; last: string }>();
  for (const step of plan.steps)
    for (const t of step.spills) {
      const tensor = t.split('[')[0]!;
      const where = `step ${step.step} (${step.operator})`;
      const seen = spills.get(tensor);
      spills.set(tensor, { tiles: (seen?.tiles ?? 0) + 1, first: seen?.first ?? where, last: where });
    }
  for (const [tensor, { tiles, first, last }] of spills)
    decisions.push({
      pass: 'cosma',
      subject: tensor,
      choice:
        tiles === 1
          ? `spilled before ${first}`
          : `${tiles} tiles spilled, the first before ${first}, the last before ${last}`,
      why: 'the scratchpad is full and it is read again later',
    });
  return decisions;
}
