// One arena for a kernel run as segments, some of them chunked (chunking.ts): where every byte
// lives, what is live at each step, and so the predicted peak the WASM runner's memory really shows.
//
//   [ kernel inputs and outputs, whole ]                                   (not activation memory)
//   [ activations: tensors passed between segments, whole, live from their producing to their last
//     reading segment; one block per segment (the chunk-sized copies of the slices it reads and
//     writes, then its own intermediates as its memory plan places them), live during the segment —
//     all placed first fit (memplan.ts) ]
//   [ every worker's on-chip slices: the largest any segment needs ]
// A segment reads a tensor in place unless it is chunked along one of its axes; then the runner
// copies the chunk's slice into the block before the chunk (inputs) or out of it after (outputs).
import type { CompiledSegment } from './chunk-regions.js';
import { firstFit } from './memplan.js';

const ALIGN = 16;
const align = (n: number) => Math.ceil(n / ALIGN) * ALIGN;

export interface SliceCopy {
  /** The tensor as the kernel sees it (whole), and its chunk-sized copy in the segment's block. */
  readonly tensor: string;
  readonly wholeOffset: number;
  readonly sliceOffset: number;
  readonly shape: readonly number[];
  readonly axis: number;
}

export interface SegmentLayout {
  /** Byte offset of each of the segment's buffers in the arena. */
  readonly offsets: Readonly<Record<string, number>>;
  /** Per chunk: slices copied in before the segment's steps, and out after them. */
  readonly gathers: readonly SliceCopy[];
  readonly scatters: readonly SliceCopy[];
  /** Start and bytes of the segment's block. */
  readonly blockOffset: number;
  readonly blockBytes: number;
}

/** A moment of the activation timeline: kernel `kernel` of segment `segment`. */
export interface TimePoint {
  readonly segment: number;
  readonly kernel: number;
  readonly liveBytes: number;
}

export interface ChunkLayout {
  /** Kernel inputs and outputs. */
  readonly ioOffsets: Readonly<Record<string, number>>;
  /** Tensors passed between segments, whole. */
  readonly passedOffsets: Readonly<Record<string, number>>;
  readonly segments: readonly SegmentLayout[];
  /** Activation memory: [activationOffset, scratchOffset), then the workers' slices. */
  readonly activationOffset: number;
  readonly scratchOffset: number;
  readonly scratchBytesPerWorker: number;
  readonly workers: number;
  readonly timeline: readonly TimePoint[];
  /** Activation bytes the plan ever assigns (the union of its intervals, plus every worker's slices). */
  readonly peakBytes: number;
}

const bytesOf = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1) * 4;

/** The union length of [start, end) intervals. */
function unionBytes(intervals: [number, number][]): number {
  let total = 0;
  let reach = -Infinity;
  for (const [s, e] of [...intervals].sort((a, b) => a[0] - b[0])) {
    if (e <= reach) continue;
    total += e - Math.max(s, reach);
    reach = e;
  }
  return total;
}

export function layoutSegments(
  params: readonly string[],
  outputs: readonly string[],
  shapes: ReadonlyMap<string, readonly number[]>,
  segments: readonly CompiledSegment[],
  workers: number,
): ChunkLayout {
  const ioOffsets: Record<string, number> = {};
  let at = 0;
  for (const t of [...params, ...outputs]) {
    ioOffsets[t] = at;
    at = align(at + bytesOf(shapes.get(t)!));
  }
  const activationOffset = at;
  const producer = new Map<string, number>();
  const lastReader = new Map<string, number>();
  segments.forEach((s, i) => {
    for (const o of s.kernel.outputs) producer.set(o, i);
    for (const p of s.kernel.params) if (producer.has(p)) lastReader.set(p, i);
  });
  const passed = [...lastReader.keys()].filter((t) => !(t in ioOffsets));
  const blocks = segments.map((s) => {
    const memory = s.state.memory!;
    const sliced = [...s.kernel.params, ...s.kernel.outputs].filter(
      (t) => s.segment.chunk && (s.segment.chunk.dimension.axes[t] ?? -1) >= 0,
    );
    const sliceBytes = sliced.map((t) => align(bytesOf(s.state.shapes.get(t)!)));
    const ioEnd = memory.entries
      .filter((e) => e.role !== 'intermediate')
      .reduce((m, e) => Math.max(m, align(e.offset + e.bytes)), 0);
    const ownBytes = memory.scratchOffset - ioEnd;
    return { sliced, sliceBytes, ioEnd, bytes: sliceBytes.reduce((a, b) => a + b, 0) + ownBytes };
  });
  const placed = firstFit(
    [
      ...passed.map((t) => ({
        name: `tensor ${t}`,
        bytes: bytesOf(shapes.get(t)!),
        live: [producer.get(t)!, lastReader.get(t)!] as const,
      })),
      ...blocks.map((b, i) => ({ name: `segment ${i}`, bytes: b.bytes, live: [i, i] as const })),
    ],
    activationOffset,
  );
  const offsetOf = (name: string) => placed.find((p) => p.name === name)!.offset;
  const passedOffsets = Object.fromEntries(passed.map((t) => [t, offsetOf(`tensor ${t}`)]));
  const whole = (t: string) => ioOffsets[t] ?? passedOffsets[t]!;
  const used: [number, number][] = passed.map((t) => [
    passedOffsets[t]!,
    passedOffsets[t]! + bytesOf(shapes.get(t)!),
  ]);
  const timeline: TimePoint[] = [];
  const layouts = segments.map((s, i): SegmentLayout => {
    const block = blocks[i]!;
    const blockOffset = offsetOf(`segment ${i}`);
    const offsets: Record<string, number> = {};
    const gathers: SliceCopy[] = [];
    const scatters: SliceCopy[] = [];
    let slice = blockOffset;
    block.sliced.forEach((t, j) => {
      offsets[t] = slice;
      const copy = {
        tensor: t,
        wholeOffset: whole(t),
        sliceOffset: slice,
        shape: shapes.get(t)!,
        axis: s.segment.chunk!.dimension.axes[t]!,
      };
      (s.kernel.params.includes(t) ? gathers : scatters).push(copy);
      used.push([slice, slice + bytesOf(s.state.shapes.get(t)!)]);
      slice += block.sliceBytes[j]!;
    });
    for (const t of [...s.kernel.params, ...s.kernel.outputs]) offsets[t] ??= whole(t);
    for (const e of s.state.memory!.entries.filter((x) => x.role === 'intermediate')) {
      offsets[e.buffer] = slice + e.offset - block.ioEnd;
      used.push([offsets[e.buffer]!, offsets[e.buffer]! + e.bytes]);
    }
    const passedLive = passed
      .filter((t) => producer.get(t)! <= i && i <= lastReader.get(t)!)
      .reduce((sum, t) => sum + bytesOf(shapes.get(t)!), 0);
    const slices = block.sliceBytes.reduce((a, b) => a + b, 0);
    const ownLive = s.state.memory!.liveBytes!;
    ownLive.forEach((live, k) =>
      timeline.push({ segment: i, kernel: k, liveBytes: passedLive + slices + live }),
    );
    return { offsets, gathers, scatters, blockOffset, blockBytes: block.bytes };
  });
  const scratchOffset = align(placed.reduce((m, p) => Math.max(m, p.offset + p.bytes), activationOffset));
  const scratchBytesPerWorker = Math.max(0, ...segments.map((s) => s.state.memory!.scratchBytesPerWorker));
  return {
    ioOffsets,
    passedOffsets,
    segments: layouts,
    activationOffset,
    scratchOffset,
    scratchBytesPerWorker,
    workers,
    timeline,
    peakBytes: unionBytes(used) + scratchBytesPerWorker * workers,
  };
}
