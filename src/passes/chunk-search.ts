// AutoChunk's two stages (Zhao et al., "AutoChunk", §4.1–4.2) for the `chunking` pass (chunking.ts):
// at the highest peak of the activation timeline, enumerate the regions around it, the dimensions
// that flow through them and the chunk sizes (search), compile and lay out each segmentation, and
// keep the one that brings the peak under the budget at the lowest modelled cost (selection);
// repeated until the budget holds or nothing more lowers the peak.
import { einsums } from '../ir/cascade.js';
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

/**
 * What one pool dispatch costs, as bytes of traffic: waking the workers and the barrier take a few
 * microseconds, the time ~64 KiB takes to stream at the ~10 GB/s of one core.
 */
const DISPATCH_BYTES = 64 * 1024;

export interface Evaluated {
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
export class Search {
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
export function repeat(
  search: Search,
  initial: Evaluated,
  budget: number,
): { plan: Evaluated; steps: ChunkStep[] } {
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
