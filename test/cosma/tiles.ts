// An independent check of a COSMA tiling, re-derived from the buffer shapes alone: the tiles of each
// buffer partition it (disjoint, covering every element), every operand's tiles cover exactly its
// view, an operator with several tiles in a view has a staging buffer of the view's size, each tile
// is written by at most one operator, and the graph's tensors and operators say the same.
import type { OperatorGraph } from '../../src/passes/cosma/index.js';
import type { AxisRange, CosmaTiling } from '../../src/passes/cosma-tiling.js';

const volume = (ranges: readonly AxisRange[]) => ranges.reduce((n, [a, b]) => n * (b - a), 1);
const inside = (inner: readonly AxisRange[], outer: readonly AxisRange[]) =>
  inner.every(([a, b], axis) => a >= outer[axis]![0] && b <= outer[axis]![1]);
const overlap = (x: readonly AxisRange[], y: readonly AxisRange[]) =>
  x.every(([a, b], axis) => a < y[axis]![1] && y[axis]![0] < b);

export function validateTiling(
  tiling: CosmaTiling,
  graph: OperatorGraph,
  shapes: ReadonlyMap<string, readonly number[]>,
): string[] {
  const errors: string[] = [];
  const tiles = new Map(tiling.tiles.map((t) => [t.name, t]));
  const tensors = new Map(graph.tensors.map((t) => [t.name, t]));
  for (const [buffer, shape] of shapes) {
    const mine = tiling.tiles.filter((t) => t.buffer === buffer);
    if (mine.length === 0) continue;
    const whole = shape.map((n): AxisRange => [0, n]);
    for (const t of mine) if (!inside(t.ranges, whole)) errors.push(`${t.name} lies outside ${buffer}`);
    for (let i = 0; i < mine.length; i++)
      for (let j = i + 1; j < mine.length; j++)
        if (overlap(mine[i]!.ranges, mine[j]!.ranges))
          errors.push(`${mine[i]!.name} overlaps ${mine[j]!.name}`);
    const covered = mine.reduce((n, t) => n + volume(t.ranges), 0);
    if (covered !== volume(whole))
      errors.push(`the tiles of ${buffer} cover ${covered} of ${volume(whole)} elements`);
    for (const t of mine)
      if (tensors.get(t.name)?.bytes !== Math.max(1, 4 * volume(t.ranges)))
        errors.push(`${t.name} has ${tensors.get(t.name)?.bytes} bytes in the graph`);
  }
  const writers = new Map<string, string>();
  for (const op of tiling.operators) {
    const node = graph.operators.find((o) => o.name === op.name);
    if (!node) {
      errors.push(`${op.name} is not in the graph`);
      continue;
    }
    for (const operand of op.operands) {
      const listed = operand.tiles.map((name) => tiles.get(name)!);
      if (
        listed.some((t) => t === undefined || t.buffer !== operand.buffer || !inside(t.ranges, operand.view))
      )
        errors.push(`${op.name}: a tile of ${operand.buffer} lies outside its view`);
      else if (listed.reduce((n, t) => n + volume(t.ranges), 0) !== volume(operand.view))
        errors.push(`${op.name}: the tiles of ${operand.buffer} do not cover its view`);
      if ((operand.staging !== null) !== listed.length > 1)
        errors.push(
          `${op.name}: ${operand.buffer} has ${listed.length} tiles and staging ${operand.staging}`,
        );
      if (operand.staging !== null && tensors.get(operand.staging)?.bytes !== 4 * volume(operand.view))
        errors.push(`${op.name}: the staging of ${operand.buffer} is not the view's size`);
      const side = operand.written ? node.outputs : node.inputs;
      for (const name of operand.tiles) {
        if (!side.includes(name)) errors.push(`${op.name}: ${name} is missing from the graph operator`);
        if (!operand.written) continue;
        if (writers.has(name)) errors.push(`${name} is written by ${writers.get(name)} and ${op.name}`);
        writers.set(name, op.name);
      }
    }
  }
  return errors;
}
