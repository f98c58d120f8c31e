// COSMA over tiles: when a kernel's operands do not fit the scratchpad, it becomes several tile
// operators whose operands are tensor tiles, and the planners (ILP, greedy, divide-and-conquer) plan
// the tile graph — which tiles stay resident, at what addresses, which are spilled and reloaded, in
// what order. COSMA (Li, Gupta, Malik, arXiv 2311.18246) plans whole operators; splitting an
// operator that does not fit into tiles first is the usual step of a scratchpad/accelerator flow
// (e.g. a GEMM tiled into output blocks whose A-row and B-column panels fit on chip).
//
// The scheme, for any kernel: every rank R some kernel can be split along (cosma-tile-axes.ts: a
// parallel, never reduced rank) gets one block size b_R for the whole program, so a tensor is cut the
// same way for its producer and its consumers: along every axis of rank R that one of the kernels
// touching it splits. A kernel splits all its splittable ranks into their blocks; its tile operator
// for one block of each reads and writes the tiles inside that region. A kernel that does not split
// R (R is reduced there) reads or writes all the R-tiles of a tensor at once: those tiles are
// gathered into (or scattered from) an on-chip staging buffer of the kernel's view, which the graph
// carries as a temporary of that operator, so its bytes count against the scratchpad.
//
// The blocks are the largest that fit: among all block sizes dividing the ranks, the ones with the
// fewest tile operators whose every working set fits the capacity (a small graph is what lets the
// ILP prove optimality), then the smallest largest working set (room to keep tiles resident).
import type { BufferRole } from '../ir/loops.js';
import type { GraphTensor, OperatorGraph, TensorKind } from './cosma/index.js';
import type { TileAxes } from './cosma-tile-axes.js';

/** A half-open range [start, end) along one axis. */
export type AxisRange = readonly [number, number];

/** A row-major tile of a global buffer: the elements inside `ranges`, stored compactly. */
export interface TensorTile {
  readonly name: string;
  readonly buffer: string;
  readonly ranges: readonly AxisRange[];
}

/** One buffer as a tile operator sees it. */
export interface TileOperand {
  readonly buffer: string;
  /** The region of the buffer the operator reads or writes. */
  readonly view: readonly AxisRange[];
  /** The tiles covering the view. */
  readonly tiles: readonly string[];
  /** With several tiles: the operator's staging buffer holding the whole view. */
  readonly staging: string | null;
  readonly written: boolean;
}

export interface TileOperator {
  readonly name: string;
  /** The kernel it runs, bound at the tile ranks. */
  readonly kernel: string;
  readonly operands: readonly TileOperand[];
}

export interface CosmaTiling {
  /** Block size of every split rank (ranks kept whole are absent). */
  readonly blocks: Readonly<Record<string, number>>;
  readonly tiles: readonly TensorTile[];
  readonly operators: readonly TileOperator[];
}

/** What the tiler needs of the lowered program. */
export interface TilingInput {
  readonly buffers: readonly {
    readonly name: string;
    readonly shape: readonly number[];
    readonly role: BufferRole;
  }[];
  /** Kernels in program order with the global buffers they read and write. */
  readonly kernels: readonly {
    readonly name: string;
    readonly reads: readonly string[];
    readonly writes: readonly string[];
  }[];
  readonly axes: TileAxes;
}

/** Above this many tile operators a tiling is not considered (the planners would not keep up). */
export const MAX_TILE_OPERATORS = 256;
/** Above this many block combinations only power-of-two fractions of each rank are tried. */
const MAX_COMBINATIONS = 20000;

const product = (values: readonly number[]) => values.reduce((a, b) => a * b, 1);
const bytesOf = (elements: number) => Math.max(1, elements * 4);

function divisors(n: number, powersOfTwo: boolean): number[] {
  const out: number[] = [];
  for (let d = n; d >= 1; d--)
    if (n % d === 0 && (!powersOfTwo || Number.isInteger(Math.log2(n / d)))) out.push(d);
  return out;
}

/** The tiling's shape for given blocks, without enumerating tiles: counts and working sets. */
class TilingShape {
  constructor(
    private readonly input: TilingInput,
    readonly blocks: ReadonlyMap<string, number>,
  ) {}

  /** Ranks a kernel splits: splittable there and cut into more than one block. */
  splits(kernel: string): string[] {
    const { tileable, extents } = this.input.axes;
    return (tileable.get(kernel) ?? []).filter(
      (rank) => (this.blocks.get(rank) ?? Infinity) < extents.get(rank)!,
    );
  }

  /** Tile extent of each axis of a buffer: the block where a kernel touching it splits the axis's rank. */
  tileExtents(buffer: string): number[] {
    const { shape } = this.input.buffers.find((b) => b.name === buffer)!;
    const ranks = this.input.axes.axes.get(buffer)!;
    return shape.map((n, axis) => {
      const rank = ranks[axis];
      const split =
        rank !== null &&
        this.input.kernels.some(
          (k) =>
            (k.reads.includes(buffer) || k.writes.includes(buffer)) && this.splits(k.name).includes(rank!),
        );
      return split ? this.blocks.get(rank!)! : n;
    });
  }

  /** Extent of each axis of the region one tile operator of `kernel` sees. */
  viewExtents(kernel: string, buffer: string): number[] {
    const { shape } = this.input.buffers.find((b) => b.name === buffer)!;
    const ranks = this.input.axes.axes.get(buffer)!;
    const split = this.splits(kernel);
    return shape.map((n, axis) => (split.includes(ranks[axis]!) ? this.blocks.get(ranks[axis]!)! : n));
  }

  operatorCount(kernel: string): number {
    const { extents } = this.input.axes;
    return product(this.splits(kernel).map((rank) => extents.get(rank)! / this.blocks.get(rank)!));
  }

  /** Bytes one tile operator of `kernel` needs on chip: its tiles, plus staging where a view spans several. */
  workingSet(kernel: string): number {
    const { reads, writes } = this.input.kernels.find((k) => k.name === kernel)!;
    return [...new Set([...reads, ...writes])].reduce((sum, buffer) => {
      const view = this.viewExtents(kernel, buffer);
      const tile = this.tileExtents(buffer);
      const tiles = product(view.map((n, axis) => n / tile[axis]!));
      return sum + (tiles > 1 ? 2 : 1) * bytesOf(product(view));
    }, 0);
  }
}

export interface BlockChoice {
  readonly blocks: ReadonlyMap<string, number>;
  readonly operators: number;
  /** The largest tile operator working set. */
  readonly workingSet: number;
}

/** The largest blocks whose tile operators all fit `capacity`; null when none does. */
export function chooseBlocks(input: TilingInput, capacity: number): BlockChoice | null {
  const ranks = [...input.axes.extents.keys()].filter((rank) =>
    [...input.axes.tileable.values()].some((list) => list.includes(rank)),
  );
  const full = ranks.map((rank) => divisors(input.axes.extents.get(rank)!, false));
  const powersOfTwo = product(full.map((list) => list.length)) > MAX_COMBINATIONS;
  const candidates = powersOfTwo ? ranks.map((rank) => divisors(input.axes.extents.get(rank)!, true)) : full;
  let best: BlockChoice | null = null;
  const visit = (at: number, blocks: Map<string, number>): void => {
    if (at === ranks.length) {
      const shape = new TilingShape(input, blocks);
      const operators = input.kernels.reduce((sum, k) => sum + shape.operatorCount(k.name), 0);
      if (operators > MAX_TILE_OPERATORS) return;
      const workingSet = Math.max(...input.kernels.map((k) => shape.workingSet(k.name)));
      if (workingSet > capacity) return;
      if (
        !best ||
        operators < best.operators ||
        (operators === best.operators && workingSet < best.workingSet)
      )
        best = { blocks: new Map(blocks), operators, workingSet };
      return;
    }
    for (const block of candidates[at]!) {
      blocks.set(ranks[at]!, block);
      visit(at + 1, blocks);
    }
    blocks.delete(ranks[at]!);
  };
  visit(0, new Map());
  return best;
}

/** Every combination of block indices, row-major. */
function* blockCoordinates(counts: readonly number[]): Generator<number[]> {
  const at = counts.map(() => 0);
  if (counts.some((n) => n === 0)) return;
  for (;;) {
    yield [...at];
    let axis = counts.length - 1;
    while (axis >= 0 && ++at[axis]! === counts[axis]) at[axis--] = 0;
    if (axis < 0) return;
  }
}

const rangeText = (ranges: readonly AxisRange[], shape: readonly number[]) =>
  ranges.map(([a, b], axis) => (a === 0 && b === shape[axis] ? ':' : `${a}:${b}`)).join(',');

const kindOf = (role: BufferRole): TensorKind =>
  role === 'input' ? 'input' : role === 'output' ? 'output' : 'intermediate';

/** The tile graph for chosen blocks: tiles as tensors, tile operators as operators. */
export function buildTileGraph(
  input: TilingInput,
  blocks: ReadonlyMap<string, number>,
): { graph: OperatorGraph; tiling: CosmaTiling } {
  const shape = new TilingShape(input, blocks);
  const tiles = new Map<string, TensorTile[]>();
  for (const buffer of input.buffers) {
    const extents = shape.tileExtents(buffer.name);
    const list = [...blockCoordinates(buffer.shape.map((n, axis) => n / extents[axis]!))].map((at) => {
      const ranges = at.map((i, axis): AxisRange => [i * extents[axis]!, (i + 1) * extents[axis]!]);
      const whole = ranges.every(([a, b], axis) => a === 0 && b === buffer.shape[axis]);
      const name = whole ? buffer.name : `${buffer.name}[${rangeText(ranges, buffer.shape)}]`;
      return { name, buffer: buffer.name, ranges };
    });
    tiles.set(buffer.name, list);
  }
  // Tensors in buffer order (then staging buffers), as the untiled kernel graph lists them.
  const used = new Set<string>();
  const staged: GraphTensor[] = [];
  const operators: TileOperator[] = [];
  const graphOperators: OperatorGraph['operators'][number][] = [];
  for (const kernel of input.kernels) {
    const split = shape.splits(kernel.name);
    const counts = split.map((rank) => input.axes.extents.get(rank)! / blocks.get(rank)!);
    for (const at of blockCoordinates(counts)) {
      const region = new Map(
        split.map((rank, i): [string, AxisRange] => [
          rank,
          [at[i]! * blocks.get(rank)!, (at[i]! + 1) * blocks.get(rank)!],
        ]),
      );
      const name =
        split.length === 0
          ? kernel.name
          : `${kernel.name}[${split.map((r) => `${r}=${region.get(r)!.join(':')}`).join(',')}]`;
      const operands = [...new Set([...kernel.reads, ...kernel.writes])].map((buffer): TileOperand => {
        const decl = input.buffers.find((b) => b.name === buffer)!;
        const ranks = input.axes.axes.get(buffer)!;
        const view = decl.shape.map((n, axis): AxisRange => region.get(ranks[axis]!) ?? [0, n]);
        const inside = tiles
          .get(buffer)!
          .filter((tile) => tile.ranges.every(([a, b], axis) => a >= view[axis]![0] && b <= view[axis]![1]));
        for (const tile of inside) used.add(tile.name);
        const staging = inside.length > 1 ? `${buffer}@${name}` : null;
        if (staging)
          staged.push({
            name: staging,
            bytes: bytesOf(product(view.map(([a, b]) => b - a))),
            kind: 'intermediate',
          });
        return {
          buffer,
          view,
          tiles: inside.map((t) => t.name),
          staging,
          written: kernel.writes.includes(buffer),
        };
      });
      operators.push({ name, kernel: kernel.name, operands });
      graphOperators.push({
        name,
        inputs: operands.filter((o) => !o.written).flatMap((o) => o.tiles),
        outputs: operands.flatMap((o) => [...(o.written ? o.tiles : []), ...(o.staging ? [o.staging] : [])]),
      });
    }
  }
  const usedTiles = input.buffers.flatMap((b) => tiles.get(b.name)!).filter((t) => used.has(t.name));
  const role = new Map(input.buffers.map((b) => [b.name, b.role]));
  const tensors: GraphTensor[] = [
    ...usedTiles.map((t) => ({
      name: t.name,
      bytes: bytesOf(product(t.ranges.map(([a, b]) => b - a))),
      kind: kindOf(role.get(t.buffer)!),
    })),
    ...staged,
  ];
  const tiling: CosmaTiling = {
    blocks: Object.fromEntries([...blocks].filter(([rank, block]) => block < input.axes.extents.get(rank)!)),
    tiles: usedTiles,
    operators,
  };
  return { graph: { tensors, operators: graphOperators }, tiling };
}
