// The `chunking` pass: AutoChunk (Zhao et al., "AutoChunk: Automated Activation Chunk for
// Memory-Efficient Long Sequence Inference", ICLR 2024) for Ein. Given a budget for the peak of
// intermediate memory (`--max-memory`), it
//   1. measures the peak with the compiler's own memory model (fusion → memplan on a trial state),
//   2. searches the chunk dimensions (chunk-candidates.ts: an index that flows through every Einsum
//      without being reduced — AutoChunk's "chunk search"),
//   3. picks the chunk size that meets the budget at the lowest modelled cost (AutoChunk's "chunk
//      selection": the traffic model of cost.ts times the number of chunks),
// and records the plan; the WASM runner executes it as a loop over chunks.
//
// Realisation. A chunk of C positions of the index is the same cascade with its rank bound to C, so
// the kernel is compiled once at rank C (every intermediate is sized per chunk, GEMMs stay GEMMs)
// and run ceil(N / C) times on slices of the inputs and outputs that carry the index; inputs that do
// not carry it are copied in once and shared. This is the simplest sound form here: Ein has no
// statement-block loop to put around a sub-region, and forced fusion would turn the contractions
// into scalar loops (AutoChunk's < 10% speed loss would not hold). Chunk sizes divide N, so one
// compiled program serves every chunk.
import { EinError } from '../frontend/diagnostics.js';
import { bindKernel } from '../ir/bind.js';
import { formatBytes } from '../ir/limits.js';
import { chunkDimensions, type ChunkDimension } from './chunk-candidates.js';
import { kernelCost } from './cost.js';
import type { Decision } from './decisions.js';
import type { CompileState, PassContext } from './state.js';

export interface ChunkCandidate {
  readonly index: string;
  readonly size: number;
  /** memplan's peak of intermediates at this chunk size (what the runner's arena holds). */
  readonly peakBytes: number;
  /** Modelled global traffic of all chunks together. */
  readonly costBytes: number;
  readonly fits: boolean;
}

export interface ChunkPlan extends ChunkDimension {
  /** The index's full extent, and the chunk size (a divisor of it). */
  readonly extent: number;
  readonly size: number;
  readonly count: number;
  readonly budgetBytes: number;
  /** The peak before chunking; null when the unchunked program does not even compile. */
  readonly unchunkedPeakBytes: number | null;
  readonly predictedPeakBytes: number;
  readonly candidates: readonly ChunkCandidate[];
}

/** Runs fusion → memplan on a trial state, as the pipeline would. */
export type EvaluateMemory = (state: CompileState) => CompileState;

interface Trial {
  readonly state: CompileState;
  readonly peakBytes: number;
  readonly costBytes: number;
}

function trial(state: CompileState, ctx: PassContext, evaluate: EvaluateMemory): Trial | null {
  try {
    const done = evaluate(state);
    const loops = done.loops!;
    const costBytes = loops.kernels.reduce(
      (sum, k) => sum + kernelCost(k, loops.buffers, ctx.target, ctx.scratchpadBytes).bytesMoved.global,
      0,
    );
    return { state: done, peakBytes: done.memory!.peakBytes, costBytes };
  } catch (e) {
    // A trial over the tensor-size limit is a candidate that does not fit, not a user error.
    if (e instanceof EinError) return null;
    throw e;
  }
}

/** The state with `rank` re-bound to `size`: the cascade of one chunk. */
function rebind(state: CompileState, ctx: PassContext, rank: string, size: number): CompileState {
  const symbolic = state.kernel.ranks.filter((r) => !r.value).map((r) => r.name);
  const ranks = Object.fromEntries(symbolic.map((r) => [r, r === rank ? size : state.ranks.get(r)!]));
  const bound = bindKernel(state.program, state.kernel.name, {
    ranks,
    limits: ctx.limits,
    intermediatesMaterialized: false,
  });
  return { ...state, ranks: bound.ranks, shapes: bound.shapes };
}

const divisors = (n: number) => Array.from({ length: n }, (_, i) => i + 1).filter((d) => n % d === 0);

/**
 * Chunk sizes to try: every divisor up to 64 and the powers-of-two-like divisors above (AutoChunk
 * also searches a coarse grid of sizes); enough to find the knee without compiling N times.
 */
function sizesToTry(extent: number): number[] {
  const all = divisors(extent);
  return all.length <= 48
    ? all
    : all.filter((d, i) => d <= 64 || i % Math.ceil(all.length / 48) === 0 || d === extent);
}

export function autoChunk(state: CompileState, ctx: PassContext, evaluate: EvaluateMemory): CompileState {
  const budget = ctx.maxMemoryBytes;
  if (budget === undefined) return state;
  const before = trial(state, ctx, evaluate);
  if (before && before.peakBytes <= budget)
    return record(state, {
      pass: 'chunking',
      subject: state.kernel.name,
      choice: 'no chunking',
      why: `the peak of intermediates, ${formatBytes(before.peakBytes)}, is within the ${formatBytes(budget)} budget`,
    });
  if (ctx.target.name !== 'wasm')
    throw new EinError({
      message: `--max-memory: chunked execution is implemented by the WASM backend only, not ${ctx.target.name}`,
      hint: 'use --target wasm, or raise the budget above the unchunked peak',
    });
  const dimensions = chunkDimensions(state.kernel);
  const candidates: (ChunkCandidate & { trial: Trial; dimension: ChunkDimension; extent: number })[] = [];
  for (const dimension of dimensions) {
    const extent = state.ranks.get(dimension.rank)!;
    for (const size of sizesToTry(extent)) {
      if (size === extent) continue;
      const t = trial(rebind(state, ctx, dimension.rank, size), ctx, evaluate);
      if (!t) continue;
      const count = extent / size;
      candidates.push({
        index: dimension.index,
        size,
        peakBytes: t.peakBytes,
        costBytes: t.costBytes * count,
        fits: t.peakBytes <= budget,
        trial: t,
        dimension,
        extent,
      });
    }
  }
  const fitting = candidates.filter((c) => c.fits);
  if (fitting.length === 0) throw noChunkingFits(state, budget, before, candidates, dimensions);
  // Lowest modelled traffic; among equals the larger chunk (fewer runs, more parallel work each).
  const best = fitting.reduce((a, b) =>
    b.costBytes < a.costBytes || (b.costBytes === a.costBytes && b.size > a.size) ? b : a,
  );
  const plan: ChunkPlan = {
    ...best.dimension,
    extent: best.extent,
    size: best.size,
    count: best.extent / best.size,
    budgetBytes: budget,
    unchunkedPeakBytes: before?.peakBytes ?? null,
    predictedPeakBytes: best.peakBytes,
    candidates: candidates.map(({ index, size, peakBytes, costBytes, fits }) => ({
      index,
      size,
      peakBytes,
      costBytes,
      fits,
    })),
  };
  const chunked = rebind(state, ctx, best.dimension.rank, best.size);
  return record(
    { ...chunked, chunking: plan },
    {
      pass: 'chunking',
      subject: `${best.index} (${best.dimension.rank} = ${best.extent})`,
      choice: `${plan.count} chunks of ${best.size}: peak ${formatBytes(best.peakBytes)}`,
      why: `the unchunked peak ${before ? formatBytes(before.peakBytes) : '(over the tensor limit)'} exceeds the ${formatBytes(budget)} budget; ${best.index} flows through every Einsum unreduced, and ${best.size} is the size within budget with the least modelled traffic (${formatBytes(best.costBytes)})`,
      alternativeCost: `${fitting.length} of ${candidates.length} candidate sizes fit`,
    },
  );
}

function record(state: CompileState, decision: Decision): CompileState {
  return { ...state, decisions: [...state.decisions, decision] };
}

/** The feasibility certificate: the smallest budget chunking reaches, and how. */
function noChunkingFits(
  state: CompileState,
  budget: number,
  before: Trial | null,
  candidates: readonly ChunkCandidate[],
  dimensions: readonly ChunkDimension[],
): EinError {
  const peak = before
    ? `${formatBytes(before.peakBytes)} (${before.peakBytes} B)`
    : 'over the tensor-size limit';
  if (candidates.length === 0) {
    const why =
      dimensions.length === 0
        ? 'no index is a plain left-side index of every Einsum without being reduced (or its rank is also used as a value)'
        : 'no chunked program compiles';
    return new EinError({
      message: `--max-memory ${formatBytes(budget)} cannot be met: the peak of intermediates is ${peak}, and ${state.kernel.name} cannot be chunked: ${why}`,
      hint: before
        ? `the smallest budget that fits is ${before.peakBytes} B, the unchunked peak`
        : 'use smaller ranks',
    });
  }
  const least = candidates.reduce((a, b) => (b.peakBytes < a.peakBytes ? b : a));
  return new EinError({
    message: `--max-memory ${formatBytes(budget)} cannot be met: the smallest peak any chunking reaches is ${formatBytes(least.peakBytes)} (${least.peakBytes} B), chunking ${least.index} by ${least.size}`,
    hint: `use --max-memory ${least.peakBytes} or more; unchunked the peak is ${peak}`,
  });
}
