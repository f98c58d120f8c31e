// Which ranks a kernel can be split along for COSMA's tile operators, and the kernel compiled for
// one tile. A rank R splits a kernel when the kernel's result restricted to a block of R depends only
// on the same block of every operand (the usual scratchpad tiling of an accelerator flow: parallel,
// never reduced loops are cut into blocks whose operands are slices): in every Einsum of the kernel
// at most one index ranges over R, it is a plain left-side index, it is used only as a plain
// subscript of axes of extent R, and neither it nor R is used as a value (masks, `sqrt(E)`).
//
// A tile is then the same kernel bound at R = block: binding gives every operand its tile shape, so
// the tile kernel addresses compact tiles and runs the same code paths (GEMM, vector loops) as the
// whole kernel. Which buffer axes carry R is read off the binding itself (rebind R = 1 and see which
// axes follow), so derived shapes such as `L - R + 1` are never mistaken for tileable axes.
import { bindKernel, type BoundKernel } from '../ir/bind.js';
import type { Einsum } from '../ir/cascade.js';
import { walkExpr, type Expr } from '../ir/expr.js';
import type { LoopKernel } from '../ir/loops.js';
import { dynamicBounds } from './dynamic-bounds.js';
import { extentOf, parallelIndices, planGroup, readersOf } from './group.js';
import { kernelAccess } from './kernel-graph.js';
import { lowerGroup } from './lower.js';
import type { CompileState, PassContext } from './state.js';
import { chooseTiles } from './tiling.js';

export interface TileAxes {
  /** Extent of every rank some kernel may be split along. */
  readonly extents: ReadonlyMap<string, number>;
  /** Per kernel (program order): the ranks it may be split along. */
  readonly tileable: ReadonlyMap<string, readonly string[]>;
  /** Per global buffer: the rank each axis carries (null: no splittable rank). */
  readonly axes: ReadonlyMap<string, readonly (string | null)[]>;
}

/** Binds the kernel again with some symbolic ranks overridden; null when binding rejects it. */
function rebind(state: CompileState, overrides: ReadonlyMap<string, number>): BoundKernel | null {
  const symbolic = state.kernel.ranks.filter((r) => !r.value).map((r) => r.name);
  const given = Object.fromEntries(symbolic.map((name) => [name, state.ranks.get(name)!]));
  try {
    return bindKernel(state.program, state.kernel.name, {
      ranks: { ...given, ...Object.fromEntries(overrides) },
      intermediatesMaterialized: false,
    });
  } catch {
    return null;
  }
}

/** True when `index` occurs in `e` only as a whole subscript and `rank` not at all. */
function onlyPlainSubscript(e: Expr, index: string, rank: string): boolean {
  switch (e.k) {
    case 'index':
      return e.name !== index;
    case 'rank':
      return e.name !== rank;
    case 'access':
      return e.subs.every((s) => (s.k === 'index' && s.name === index) || onlyPlainSubscript(s, index, rank));
    case 'neg':
      return onlyPlainSubscript(e.a, index, rank);
    case 'binary':
      return onlyPlainSubscript(e.a, index, rank) && onlyPlainSubscript(e.b, index, rank);
    case 'call':
      return e.args.every((a) => onlyPlainSubscript(a, index, rank));
    case 'reduce':
      return onlyPlainSubscript(e.body, index, rank);
    default:
      return e.k === 'num';
  }
}

const mentionsRank = (e: Expr, rank: string): boolean => {
  let found = false;
  walkExpr(e, (x) => void (x.k === 'rank' && x.name === rank && (found = true)));
  return found;
};

/** The Einsum's accesses to global buffers, its own left side included, with their subscripts. */
function globalAccesses(
  e: Einsum,
  globals: ReadonlySet<string>,
): { tensor: string; subs: readonly Expr[] }[] {
  const out = globals.has(e.tensor) ? [{ tensor: e.tensor, subs: e.subs }] : [];
  walkExpr(e.body, (x) => {
    if (x.k === 'access' && globals.has(x.tensor)) out.push({ tensor: x.tensor, subs: x.subs });
  });
  return out;
}

/** Whether every Einsum of the kernel computes a block of `rank` from the same block of its operands. */
function splitsAlong(
  einsums: readonly Einsum[],
  rank: string,
  axes: ReadonlyMap<string, readonly (string | null)[]>,
): boolean {
  const globals = new Set(axes.keys());
  return einsums.every((e) => {
    const over = e.ranges.filter((r) => mentionsRank(r.extent, rank));
    if (over.length > 1) return false;
    const index = over[0];
    if (index) {
      const exact = index.extent.k === 'rank' && index.extent.name === rank;
      if (!exact || !parallelIndices(e).includes(index.name) || e.reduced.includes(index.name)) return false;
    }
    const name = index?.name ?? '';
    if (!onlyPlainSubscript(e.body, name, rank)) return false;
    if (!e.subs.every((s) => (s.k === 'index' && s.name === name) || onlyPlainSubscript(s, name, rank)))
      return false;
    // The index subscripts exactly the axes that carry the rank: a block of one is a block of the other.
    return globalAccesses(e, globals).every(({ tensor, subs }) =>
      subs.every((s, axis) => (s.k === 'index' && s.name === name) === (axes.get(tensor)![axis] === rank)),
    );
  });
}

export function analyzeTileAxes(state: CompileState): TileAxes {
  const loops = state.loops!;
  const derivedFrom = (rank: string) =>
    state.kernel.ranks.some((r) => r.value !== undefined && mentionsRank(r.value, rank)) ||
    state.program.ranks.some((r) => r.name === rank);
  const extents = new Map<string, number>();
  const axes = new Map(loops.buffers.map((b) => [b.name, b.shape.map((): string | null => null)]));
  for (const { name } of state.kernel.ranks.filter((r) => !r.value)) {
    const extent = state.ranks.get(name);
    if (extent === undefined || extent < 2 || derivedFrom(name)) continue;
    const bound = rebind(state, new Map([[name, 1]]));
    if (!bound) continue;
    // Axes that follow the rank exactly (extent R at R, 1 at R = 1); any other change disqualifies it.
    const follows = new Map<string, number[]>();
    const consistent = loops.buffers.every((b) => {
      const shape = bound.shapes.get(b.name);
      if (!shape || shape.length !== b.shape.length) return false;
      const changed = b.shape.flatMap((n, axis) => (shape[axis] === n ? [] : [axis]));
      follows.set(b.name, changed);
      return changed.every((axis) => shape[axis] === 1 && b.shape[axis] === extent);
    });
    if (!consistent) continue;
    extents.set(name, extent);
    for (const [buffer, changed] of follows) for (const axis of changed) axes.get(buffer)![axis] = name;
  }
  const globals = new Set(loops.buffers.map((b) => b.name));
  const tileable = new Map(
    loops.kernels.map((kernel, index) => {
      const { reads, writes } = kernelAccess(kernel, globals);
      const touched = [...reads, ...writes];
      const einsums = state.groups![index]!.einsums;
      const ranks = [...extents.keys()].filter(
        (rank) =>
          touched.some((buffer) => axes.get(buffer)!.includes(rank)) && splitsAlong(einsums, rank, axes),
      );
      return [kernel.name, ranks] as const;
    }),
  );
  return { extents, tileable, axes };
}

/**
 * The kernel at `index` compiled for one tile: bound at rank = block for every split rank, planned,
 * tiled for threads and lowered as the fusion, tiling and lower passes do for the whole kernel.
 */
export function compileTileKernel(
  state: CompileState,
  ctx: PassContext,
  index: number,
  blocks: ReadonlyMap<string, number>,
): LoopKernel {
  const kernel = state.loops!.kernels[index]!;
  if (blocks.size === 0) return kernel;
  const bound = rebind(state, blocks);
  if (!bound) throw new Error(`internal error: ${kernel.name} cannot be bound at its tile ranks`);
  const group = state.groups![index]!;
  const outer = group.outer.map((d, i) => {
    const at = group.outerIndex.findIndex((names) => names[i] !== undefined);
    return { ...d, extent: extentOf(group.einsums[at]!, group.outerIndex[at]![i]!, bound.ranks) };
  });
  const einsums = state.kernel.steps.filter((s): s is Einsum => s.kind === 'einsum');
  const plan = planGroup(group.einsums, outer, group.outerIndex, {
    kernel: state.kernel,
    ranks: bound.ranks,
    shapes: bound.shapes,
    readers: readersOf(einsums),
  });
  const { tiles } = chooseTiles(
    plan,
    kernel.name,
    ctx.target,
    ctx.scratchpadBytes,
    ctx.schedule?.tiles ?? {},
    bound.ranks,
  );
  const int32 = new Set(
    Object.values(state.kernel.tensors)
      .filter((t) => t.dtype === 'i32')
      .map((t) => t.name),
  );
  const lowered = lowerGroup(plan, tiles, kernel.name, { ranks: bound.ranks, shapes: bound.shapes, int32 });
  const tile = dynamicBounds({ ...state.loops!, kernels: [lowered] }).kernels[0]!;
  const globals = new Set(state.loops!.buffers.map((b) => b.name));
  const [whole, part] = [kernelAccess(kernel, globals), kernelAccess(tile, globals)];
  const same = (a: ReadonlySet<string>, b: ReadonlySet<string>) =>
    [...a].sort().join() === [...b].sort().join();
  if (!same(whole.reads, part.reads) || !same(whole.writes, part.writes))
    throw new Error(`internal error: the tile kernel of ${kernel.name} uses other global buffers`);
  return tile;
}
