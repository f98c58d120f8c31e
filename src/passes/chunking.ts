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
import { EinError } from '../frontend/diagnostics.js';
import { einsums } from '../ir/cascade.js';
import { formatBytes } from '../ir/limits.js';
import { layoutSegments, type ChunkLayout } from './chunk-layout.js';
import {
  compileSegment,
  regionDimensions,
  type CompiledSegment,
  type EvaluateMemory,
  type Segment,
} from './chunk-regions.js';
import type { ChunkDimension } from './chunk-candidates.js';
import { kernelCost } from './cost.js';
import type { Decision } from './decisions.js';
import type { CompileState, PassContext } from './state.js';

/** One repetition of search and selection. */
export interface ChunkStep {
  /** The region's Einsums [start, end) in kernel order, and the tensors they write. */
  readonly einsums: readonly [number, number];
  readonly region: string;
  readonly index: string;
  readonly rank: string;
  readonly extent: number;
  readonly size: number;
  readonly count: number;
  /** The predicted activation peak of the whole kernel before and after this step. */
  readonly peakBeforeBytes: number;
  readonly peakAfterBytes: number;
  /** The timeline's value at the peak this step attacked, and the region's own peak after it. */
  readonly targetPeakBytes: number;
  readonly regionPeakBytes: number;
  /** Modelled cost of the whole kernel after this step (bytes of traffic, see costOf). */
  readonly costBytes: number;
  readonly candidates: number;
  readonly fitting: number;
}

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

/**
 * What one pool dispatch costs, as bytes of traffic: waking the workers and the barrier take a few
 * microseconds, the time ~64 KiB takes to stream at the ~10 GB/s of one core.
 */
const DISPATCH_BYTES = 64 * 1024;

interface Evaluated {
  readonly compiled: readonly CompiledSegment[];
  readonly layout: ChunkLayout;
  readonly cost: number;
}

const divisors = (n: number) => Array.from({ length: n }, (_, i) => i + 1).filter((d) => n % d === 0);

/** Chunk sizes to try: every divisor up to 64 and a coarse grid above (AutoChunk's size grid). */
function sizesToTry(extent: number): number[] {
  const all = divisors(extent).filter((d) => d < extent);
  return all.length <= 48 ? all : all.filter((d, i) => d <= 64 || i % Math.ceil(all.length / 48) === 0);
}

/** Compiles and lays out segmentations, each region once. */
class Search {
  private readonly cache = new Map<string, CompiledSegment | null>();

  constructor(
    readonly state: CompileState,
    private readonly ctx: PassContext,
    private readonly evaluateMemory: EvaluateMemory,
  ) {}

  evaluate(segments: readonly Segment[]): Evaluated | null {
    const compiled: CompiledSegment[] = [];
    for (const s of segments) {
      const key = `${s.start}:${s.end}:${s.chunk ? `${s.chunk.dimension.index}/${s.chunk.size}` : ''}`;
      if (!this.cache.has(key))
        this.cache.set(key, compileSegment(this.state, this.ctx, this.evaluateMemory, s));
      const c = this.cache.get(key);
      if (!c) return null;
      compiled.push(c);
    }
    return this.lay(compiled);
  }

  /** The kernel as the pipeline compiled it: one segment, run whole. */
  unchunked(): Evaluated {
    const { kernel } = this.state;
    return this.lay([
      { segment: { start: 0, end: einsums(kernel).length }, kernel, state: this.state, count: 1 },
    ]);
  }

  private lay(compiled: readonly CompiledSegment[]): Evaluated {
    const { kernel, shapes } = this.state;
    const layout = layoutSegments(kernel.params, kernel.outputs, shapes, compiled, this.ctx.threads);
    return { compiled, layout, cost: compiled.reduce((sum, c, i) => sum + this.costOf(c, layout, i), 0) };
  }

  /** Traffic of every chunk (idle workers scale it up), copies of slices, dispatches. */
  private costOf(c: CompiledSegment, layout: ChunkLayout, i: number): number {
    const { loops, groups, tiles } = c.state;
    const traffic = loops!.kernels.reduce((sum, k, j) => {
      const parallel = (groups![j]?.outer ?? []).reduce(
        (n, d, axis) => n * Math.ceil(d.extent / (tiles![j]?.[axis] ?? 1)),
        1,
      );
      const idle = Math.max(1, this.ctx.threads / parallel);
      return (
        sum +
        kernelCost(k, loops!.buffers, this.ctx.target, this.ctx.scratchpadBytes).bytesMoved.global * idle
      );
    }, 0);
    const { gathers, scatters } = layout.segments[i]!;
    const copies = [...gathers, ...scatters].reduce(
      (sum, g) => sum + 2 * c.state.shapes.get(g.tensor)!.reduce((a, b) => a * b, 4),
      0,
    );
    return c.count * (traffic + copies + loops!.kernels.length * DISPATCH_BYTES);
  }

  regionName(start: number, end: number): string {
    const written = einsums(this.state.kernel)
      .slice(start, end)
      .map((e) => e.tensor);
    return written.length === 1 ? written[0]! : `${written[0]}..${written[written.length - 1]}`;
  }
}

interface Candidate {
  readonly plan: Evaluated;
  readonly step: ChunkStep;
}

/** The Einsums (kernel order) that kernel `k` of a compiled segment computes. */
function einsumsOfKernel(search: Search, c: CompiledSegment, k: number): number[] {
  const all = einsums(search.state.kernel);
  return (c.state.groups?.[k]?.einsums ?? []).map((e) => {
    const at = all.indexOf(e);
    return at >= 0 ? at : all.findIndex((x, i) => i >= c.segment.start && x.tensor === e.tensor);
  });
}

interface RegionOption {
  readonly a: number;
  readonly b: number;
  readonly dimension: ChunkDimension;
  readonly sizes: readonly number[];
}

/**
 * The regions to try at the peak during kernel `k` of segment `owner`: in a segment run whole, every
 * run of its Einsums sharing one with that kernel (fusion may have put a reduction of the rank into
 * the same kernel as the Einsums that make the peak) along every dimension that flows through it;
 * in a chunked segment, the same region in smaller chunks.
 */
function regionsAround(search: Search, owner: CompiledSegment, k: number): RegionOption[] {
  const { start, end, chunk } = owner.segment;
  if (chunk)
    return [
      {
        a: start,
        b: end,
        dimension: chunk.dimension,
        sizes: sizesToTry(chunk.extent).filter((s) => s < chunk.size),
      },
    ];
  const at = einsumsOfKernel(search, owner, k);
  const lo = Math.min(...at);
  const hi = Math.max(...at);
  const options: RegionOption[] = [];
  for (let a = start; a <= hi; a++)
    for (let b = Math.max(a, lo) + 1; b <= end; b++)
      for (const dimension of regionDimensions(search.state.kernel, a, b))
        options.push({ a, b, dimension, sizes: sizesToTry(search.state.ranks.get(dimension.rank)!) });
  return options;
}

/** One round of search and selection at the highest peak that some chunking lowers; null if none. */
function improve(search: Search, current: Evaluated, budget: number): Candidate | null {
  const peaks = [...current.layout.timeline].sort((a, b) => b.liveBytes - a.liveBytes);
  const before = current.layout.peakBytes;
  for (const peak of peaks) {
    const owner = current.compiled[peak.segment]!;
    const { start, end } = owner.segment;
    const candidates: Candidate[] = [];
    for (const { a, b, dimension, sizes } of regionsAround(search, owner, peak.kernel))
      for (const size of sizes) {
        const extent = search.state.ranks.get(dimension.rank)!;
        const region: Segment = { start: a, end: b, chunk: { dimension, extent, size } };
        const segments = current.compiled.flatMap((c, i) =>
          i !== peak.segment
            ? [c.segment]
            : [...(a > start ? [{ start, end: a }] : []), region, ...(b < end ? [{ start: b, end }] : [])],
        );
        const plan = search.evaluate(segments);
        if (!plan) continue;
        const index = peak.segment + (a > start ? 1 : 0);
        const regionPeak = Math.max(
          ...plan.layout.timeline.filter((p) => p.segment === index).map((p) => p.liveBytes),
        );
        candidates.push({
          plan,
          step: {
            einsums: [a, b],
            region: search.regionName(a, b),
            index: dimension.index,
            rank: dimension.rank,
            extent,
            size,
            count: extent / size,
            peakBeforeBytes: before,
            peakAfterBytes: plan.layout.peakBytes,
            targetPeakBytes: peak.liveBytes,
            regionPeakBytes: regionPeak,
            costBytes: plan.cost,
            candidates: 0,
            fitting: 0,
          },
        });
      }
    // Progress: the attacked moment goes down and the kernel's peak does not go up.
    const progress = candidates.filter(
      (c) => c.step.regionPeakBytes < peak.liveBytes && c.plan.layout.peakBytes <= before,
    );
    const fitsAll = progress.filter((c) => c.plan.layout.peakBytes <= budget);
    const fitsRegion = progress.filter((c) => c.step.regionPeakBytes <= budget);
    const pool = fitsAll.length ? fitsAll : fitsRegion;
    const cheapest = (x: Candidate, y: Candidate) =>
      y.plan.cost < x.plan.cost || (y.plan.cost === x.plan.cost && y.step.size > x.step.size) ? y : x;
    // Over budget everywhere: the region's lowest peak, so that a later repetition need not undo it.
    const lowest = (x: Candidate, y: Candidate) => {
      const [px, py] = [x.step.regionPeakBytes, y.step.regionPeakBytes];
      const [qx, qy] = [x.plan.layout.peakBytes, y.plan.layout.peakBytes];
      return py < px || (py === px && (qy < qx || (qy === qx && cheapest(x, y) === y))) ? y : x;
    };
    const best = pool.length ? pool.reduce(cheapest) : progress.length ? progress.reduce(lowest) : undefined;
    if (best)
      return {
        plan: best.plan,
        step: { ...best.step, candidates: candidates.length, fitting: pool.length },
      };
  }
  return null;
}

/** Repeats search and selection until the budget holds or no chunking lowers the peak. */
function repeat(search: Search, initial: Evaluated, budget: number): { plan: Evaluated; steps: ChunkStep[] } {
  let plan = initial;
  const steps: ChunkStep[] = [];
  // Every step chunks Einsums no earlier step chunked or shrinks a chunk size, and lowers the peak
  // moment it attacks: the loop ends; the cap only bounds the work on a long kernel.
  for (let i = 0; i < 8 * einsums(search.state.kernel).length && plan.layout.peakBytes > budget; i++) {
    const next = improve(search, plan, budget);
    if (!next) break;
    plan = next.plan;
    steps.push(next.step);
  }
  return { plan, steps };
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
