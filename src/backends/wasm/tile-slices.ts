// The contiguous runs of a box-shaped slice of a row-major array: the data movement of COSMA's tile
// operators (a tile between its buffer's DRAM home and its compact copy on chip, or between a tile
// and an operator's staging view). Axes after the last one the slice cuts are whole, so each run
// covers the slice's extent along that axis times everything inside it.
import type { AxisRange } from '../../passes/cosma-tiling.js';

/** One run, in elements: `length` elements at `outer` in the array and at `inner` in the slice. */
export interface SliceRun {
  readonly outer: number;
  readonly inner: number;
  readonly length: number;
}

export function sliceRuns(shape: readonly number[], ranges: readonly AxisRange[]): SliceRun[] {
  if (shape.length === 0) return [{ outer: 0, inner: 0, length: 1 }];
  const strides = shape.map((_, axis) => shape.slice(axis + 1).reduce((a, b) => a * b, 1));
  let cut = shape.length - 1;
  while (cut > 0 && ranges[cut]![0] === 0 && ranges[cut]![1] === shape[cut]) cut--;
  const length = (ranges[cut]![1] - ranges[cut]![0]) * strides[cut]!;
  const runs: SliceRun[] = [];
  const visit = (axis: number, outer: number): void => {
    if (axis === cut) {
      runs.push({ outer: outer + ranges[axis]![0] * strides[axis]!, inner: runs.length * length, length });
      return;
    }
    for (let i = ranges[axis]![0]; i < ranges[axis]![1]; i++) visit(axis + 1, outer + i * strides[axis]!);
  };
  visit(0, 0);
  return runs;
}
