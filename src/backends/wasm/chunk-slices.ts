// AutoChunk's data movement on the host: chunk c of a tensor along one axis is, for every position
// of the axes before it, one contiguous run of size·inner elements (row-major), so a slice is a few
// typed-array copies, not an element loop.
import { sizeOf } from '../../ir/tensor.js';

export interface SliceSpec {
  /** The full shape; `axis` is the chunked one, of extent shape[axis]. */
  readonly shape: readonly number[];
  readonly axis: number;
  readonly size: number;
  readonly chunk: number;
}

function runs(spec: SliceSpec): { outer: number; run: number; fullStride: number; chunkStart: number } {
  const inner = sizeOf(spec.shape.slice(spec.axis + 1));
  const extent = spec.shape[spec.axis]!;
  return {
    outer: sizeOf(spec.shape.slice(0, spec.axis)),
    run: spec.size * inner,
    fullStride: extent * inner,
    chunkStart: spec.chunk * spec.size * inner,
  };
}

/** Copies chunk `spec.chunk` of `full` into `into` (which holds exactly one chunk). */
export function gatherChunk(
  full: Float32Array | Int32Array,
  into: Float32Array | Int32Array,
  spec: SliceSpec,
): void {
  const { outer, run, fullStride, chunkStart } = runs(spec);
  for (let o = 0; o < outer; o++) {
    const from = o * fullStride + chunkStart;
    into.set(full.subarray(from, from + run), o * run);
  }
}

/** Writes one chunk `part` into its place in `full`. */
export function scatterChunk(
  part: Float32Array | Int32Array,
  full: Float32Array | Int32Array,
  spec: SliceSpec,
): void {
  const { outer, run, fullStride, chunkStart } = runs(spec);
  for (let o = 0; o < outer; o++)
    full.set(part.subarray(o * run, (o + 1) * run), o * fullStride + chunkStart);
}
