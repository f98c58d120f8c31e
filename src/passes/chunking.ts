// The `chunking` pass: AutoChunk (Zhao et al., "AutoChunk: Automated Activation Chunk for
// Memory-Efficient Long Sequence Inference", ICLR 2024) for Ein. Given a budget for the peak of
// activation memory (`--max-memory`), it repeats the paper's two stages until the budget holds:
//   1. chunk search (§4.1): estimate the activation timeline over the kernel sequence
//      (chunk-layout.ts), take the moment of the peak, and enumerate the regions of consecutive
//      Einsums around it and the dimensions that flow through a region without being reduced
//      (chunk-regions.ts, chunk-candidates.ts);
//   2. chunk selection (§4.2): among the regions, dimensions and chunk sizes, the one that brings the
//      region under the budget at the lowest modelled cost (traffic of every chunk, the copies of
//      sliced inputs and outputs, the dispatches, and idle workers when a chunk is too small to
//      share out);
// then it recomputes the timeline: the new peak may lie in another region and need another rank.
// When nothing more can be chunked and the budget still does not hold, the error is a certificate:
// the smallest peak the same search reaches with no budget at all, and the chunkings that reach it.
//
// Realisation. A region chunked by C is its own kernel compiled with its rank bound to C (every
// intermediate sized per chunk, GEMMs stay GEMMs); the WASM runner loops over the chunks, copying
// slices of the tensors that carry the index into the region's chunk-sized buffers. Tensors passed
// between regions are materialized whole. Chunk sizes divide the extent, so one compiled region
// serves every chunk.
//
// Here: the pass entry, the plan it records and the certificate; the search and selection are in
// chunk-search.ts.
import { EinError } from '../frontend/diagnostics.js';
import { einsums } from '../ir/cascade.js';
import { formatBytes } from '../ir/limits.js';
import type { ChunkLayout } from './chunk-layout.js';
import type { CompiledSegment, EvaluateMemory } from './chunk-regions.js';
import { repeat, Search, type ChunkStep } from './chunk-search.js';
import type { Decision } from './decisions.js';
import type { CompileState, PassContext } from './state.js';

export interface PlannedSegment {
  readonly einsums: readonly [number, number];
  readonly region: string;
  readonly chunk?: {
    readonly index: string;
    readonly rank: string;
    readonly extent: number;
    readonly size: number;
    readonly count: number;
    /** Per parameter and output of the region: the axis sliced per chunk, or -1 (read whole). */
    readonly axes: Readonly<Record<string, number>>;
  };
}

export interface ChunkPlan {
  readonly budgetBytes: number;
  readonly unchunkedPeakBytes: number;
  /** Activation bytes of the chunked run: what the WASM runner's arena really uses. */
  readonly predictedPeakBytes: number;
  readonly costBytes: number;
  readonly steps: readonly ChunkStep[];
  readonly segments: readonly PlannedSegment[];
  readonly layout: ChunkLayout;
  /** The compiled regions the backend runs (left out of the JSON report). */
  readonly compiled: readonly CompiledSegment[];
}

export interface ChunkingHooks {
  /** fusion → memplan on a region's kernel. */
  readonly evaluate: EvaluateMemory;
  /** Throws the per-tensor limit's error if the whole kernel breaks it. */
  readonly checkLimits: (state: CompileState) => void;
}

export function autoChunk(state: CompileState, ctx: PassContext, hooks: ChunkingHooks): CompileState {
  const budget = ctx.maxMemoryBytes;
  if (budget === undefined) return state;
  const overLimit = limitError(() => hooks.checkLimits(state));
  const search = new Search(state, ctx, hooks.evaluate);
  const initial = einsums(state.kernel).length === state.kernel.steps.length ? search.unchunked() : null;
  const unchunkedPeak = initial?.layout.peakBytes ?? state.memory!.peakBytes;
  if (unchunkedPeak <= budget && !overLimit)
    return record(state, {
      pass: 'chunking',
      subject: state.kernel.name,
      choice: 'no chunking',
      why: `the peak of activations, ${formatBytes(unchunkedPeak)}, is within the ${formatBytes(budget)} budget`,
    });
  if (ctx.target.name !== 'wasm')
    throw new EinError({
      message: `--max-memory: chunked execution is implemented by the WASM backend only, not ${ctx.target.name}`,
      hint: 'use --target wasm, or raise the budget above the unchunked peak',
    });
  if (ctx.cosma)
    throw new EinError({
      message: '--max-memory and --scratchpad together: a COSMA plan for chunked regions is not implemented',
      hint: 'give one of the two budgets',
    });
  if (!initial) throw overLimit ?? certificate(state, budget, unchunkedPeak, []);
  // A kernel over the tensor-size limit must be chunked even within budget: every region the
  // search compiles is held to the limit, so any step leaves the whole kernel behind.
  const goal = overLimit ? Math.min(budget, unchunkedPeak - 1) : budget;
  let found = repeat(search, initial, goal);
  if (found.plan.layout.peakBytes > goal) {
    // The certificate: the same search with no budget chunks wherever it lowers the peak.
    const least = repeat(search, initial, 0);
    if (least.plan.layout.peakBytes > goal)
      throw overLimit && least.steps.length === 0
        ? overLimit
        : certificate(state, budget, unchunkedPeak, least.steps);
    found = least;
  }
  const { plan: best, steps } = found;
  const plan: ChunkPlan = {
    budgetBytes: budget,
    unchunkedPeakBytes: unchunkedPeak,
    predictedPeakBytes: best.layout.peakBytes,
    costBytes: best.cost,
    steps,
    segments: best.compiled.map((c) => ({
      einsums: [c.segment.start, c.segment.end],
      region: search.regionName(c.segment.start, c.segment.end),
      ...(c.segment.chunk
        ? {
            chunk: {
              index: c.segment.chunk.dimension.index,
              rank: c.segment.chunk.dimension.rank,
              extent: c.segment.chunk.extent,
              size: c.segment.chunk.size,
              count: c.count,
              axes: c.segment.chunk.dimension.axes,
            },
          }
        : {}),
    })),
    layout: best.layout,
    compiled: best.compiled,
  };
  return steps.reduce<CompileState>(
    (s, step) =>
      record(s, {
        pass: 'chunking',
        subject: `${step.index} (${step.rank} = ${step.extent})`,
        choice: `${step.count} chunks of ${step.size} over ${step.region}: peak ${formatBytes(step.peakBeforeBytes)} → ${formatBytes(step.peakAfterBytes)}`,
        why: `the peak (${formatBytes(step.targetPeakBytes)}) lies in ${step.region}, which ${step.index} flows through unreduced; by ${step.size} the region's peak is ${formatBytes(step.regionPeakBytes)} at the least modelled cost (${formatBytes(step.costBytes)})`,
        alternativeCost: `${step.fitting} of ${step.candidates} candidates (region, index, size) fit`,
      }),
    { ...state, chunking: plan },
  );
}

/** The EinError `check` throws, if any. */
function limitError(check: () => void): EinError | null {
  try {
    check();
    return null;
  } catch (e) {
    if (e instanceof EinError) return e;
    throw e;
  }
}

function record(state: CompileState, decision: Decision): CompileState {
  return { ...state, decisions: [...state.decisions, decision] };
}

/** The report's view of a plan: everything but the compiled regions. */
export function chunkPlanReport(plan: ChunkPlan): Omit<ChunkPlan, 'compiled'> {
  const { compiled: _compiled, ...rest } = plan;
  return rest;
}

/** The feasibility certificate: the smallest peak chunking reaches, and the chunkings that reach it. */
function certificate(
  state: CompileState,
  budget: number,
  unchunked: number,
  steps: readonly ChunkStep[],
): EinError {
  const peak = `${formatBytes(unchunked)} (${unchunked} B)`;
  if (steps.length === 0)
    return new EinError({
      message: `--max-memory ${formatBytes(budget)} cannot be met: the peak of activations is ${peak}, and ${state.kernel.name} cannot be chunked: no region around the peak has an index that is a plain left-side index of every Einsum in it, reduced by none`,
      hint: `the smallest budget that fits is ${unchunked} B, the unchunked peak`,
    });
  const least = steps[steps.length - 1]!.peakAfterBytes;
  const how = steps.map((s) => `chunking ${s.index} by ${s.size} over ${s.region}`).join(', then ');
  return new EinError({
    message: `--max-memory ${formatBytes(budget)} cannot be met: the smallest peak any chunking reaches is ${formatBytes(least)} (${least} B), ${how}`,
    hint: `use --max-memory ${least} or more; unchunked the peak is ${peak}`,
  });
}
