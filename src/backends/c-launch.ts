// How one Loop IR kernel maps onto a GPU launch, for both C-style dialects (WGSL and CUDA).
//
// The leading chain of `grid` loops (each the only statement of its parent) is flattened into one
// workgroup index; any number of grid loops works, and the dispatch is split over x, y, z only to
// respect the per-dimension limit. Below the grid, one of four shapes:
//   contract  the body is one `contract`: a workgroup-tiled GEMM (TM × TN threads, TK-deep slices
//             of A and B staged through workgroup memory between barriers);
//   threads   every statement outside `thread` loops is a serial loop or guard around them, and
//             all thread nests have the same extents: invocation `t` of the workgroup runs iteration
//             `t` of every nest (so a thread's scratchpad slot is always touched by the same
//             invocation and no barrier is needed); nests larger than the workgroup are strided;
//   items     no thread loop, no scratchpad, no barrier: the flattened grid itself is spread over
//             64-thread workgroups. A workgroup of one invocation would leave 31 of 32 SIMD lanes
//             idle, and grid iterations are independent by definition, so this is always valid;
//   single    anything else: one invocation per workgroup runs the body in order, as the Loop IR
//             interpreter does (thread loops become plain loops). Always correct, rarely fast.
import type { ContractStmt, LoopKernel, Stmt } from '../ir/loops.js';

export interface GridLoop {
  readonly var: string;
  readonly extent: number;
}

export interface ContractTile {
  readonly m: number;
  readonly n: number;
  readonly k: number;
}

interface LaunchBase {
  /** The flattened grid loops, outermost first (for `contract`: batch loops, then the m and n tiles). */
  readonly grid: readonly GridLoop[];
  /** Invocations per workgroup. */
  readonly threads: number;
  /** Workgroups launched (before the split over x, y, z). */
  readonly workgroups: number;
}

export type LaunchPlan =
  | (LaunchBase & { readonly kind: 'contract'; readonly contract: ContractStmt; readonly tile: ContractTile })
  | (LaunchBase & {
      readonly kind: 'threads';
      readonly body: readonly Stmt[];
      /** Extents of the thread loops of every nest, outermost first. */
      readonly threadExtents: readonly number[];
      /** True when a nest has more iterations than the workgroup has invocations. */
      readonly strided: boolean;
    })
  | (LaunchBase & { readonly kind: 'items'; readonly body: readonly Stmt[]; readonly items: number })
  | (LaunchBase & { readonly kind: 'single'; readonly body: readonly Stmt[] });

export interface LaunchLimits {
  readonly maxThreadsPerWorkgroup: number;
}

/** Threads per workgroup when the flattened grid is spread over threads ('items'). */
export const ITEMS_PER_WORKGROUP = 64;
/** Depth of the A and B slices a tiled contraction stages per step. */
export const CONTRACT_TILE_K = 16;

const product = (xs: readonly number[]) => xs.reduce((a, b) => a * b, 1);
const pow2AtLeast = (x: number) => 2 ** Math.ceil(Math.log2(Math.max(1, x)));
const pow2AtMost = (x: number) => 2 ** Math.floor(Math.log2(Math.max(1, x)));

export function planLaunch(kernel: LoopKernel, limits: LaunchLimits): LaunchPlan {
  const grid: GridLoop[] = [];
  let body: readonly Stmt[] = kernel.body;
  while (body.length === 1 && body[0]!.k === 'for' && body[0]!.kind === 'grid') {
    grid.push({ var: body[0]!.var, extent: body[0]!.extent });
    body = body[0]!.body;
  }
  const groups = product(grid.map((g) => g.extent));
  if (body.length === 1 && body[0]!.k === 'contract') return planContract(grid, body[0]!, limits);

  const nests = threadNests(body);
  if (nests && nests.length > 0) {
    const threadExtents = nests[0]!;
    const total = product(threadExtents);
    const threads = Math.min(total, pow2AtMost(limits.maxThreadsPerWorkgroup));
    const strided = total > threads;
    if (!(strided && containsBarrier(body)))
      return { kind: 'threads', grid, body, threadExtents, strided, threads, workgroups: groups };
  }
  if (nests && nests.length === 0 && kernel.locals.length === 0 && !containsBarrier(body) && groups > 1) {
    const threads = Math.min(ITEMS_PER_WORKGROUP, pow2AtLeast(groups), limits.maxThreadsPerWorkgroup);
    return { kind: 'items', grid, body, items: groups, threads, workgroups: Math.ceil(groups / threads) };
  }
  return { kind: 'single', grid, body, threads: 1, workgroups: groups };
}

function planContract(grid: GridLoop[], contract: ContractStmt, limits: LaunchLimits): LaunchPlan {
  // As square as the output allows: 16 × 16, or 1 × 256 for a matrix-vector product.
  const max = pow2AtMost(Math.min(256, limits.maxThreadsPerWorkgroup));
  const m0 = Math.min(16, pow2AtLeast(contract.m));
  const n = Math.min(pow2AtLeast(contract.n), Math.max(1, Math.floor(max / m0)));
  const m = Math.min(pow2AtLeast(contract.m), Math.max(1, Math.floor(max / n)));
  const tile = { m, n, k: Math.min(CONTRACT_TILE_K, pow2AtLeast(contract.kDim)) };
  const tiles: GridLoop[] = [
    { var: 'tile_m', extent: Math.ceil(contract.m / m) },
    { var: 'tile_n', extent: Math.ceil(contract.n / n) },
  ];
  const all = [...grid, ...tiles];
  return { kind: 'contract', grid: all, contract, tile, threads: m * n, workgroups: product(all.map((g) => g.extent)) };
}

/**
 * The extents of every thread nest in `body`, when it has the 'threads' shape: statements outside
 * thread loops are only serial loops and guards around them (nothing that runs redundantly in every
 * invocation), and all nests have equal extents. Undefined when the shape does not hold.
 */
function threadNests(body: readonly Stmt[]): number[][] | undefined {
  const nests: number[][] = [];
  const visit = (stmts: readonly Stmt[]): boolean =>
    stmts.every((s) => {
      if (s.k === 'for' && s.kind === 'thread') {
        const extents: number[] = [];
        let nest: Stmt = s;
        while (nest.k === 'for' && nest.kind === 'thread') {
          extents.push(nest.extent);
          if (nest.body.length !== 1 || nest.body[0]!.k !== 'for' || nest.body[0]!.kind !== 'thread') break;
          nest = nest.body[0]!;
        }
        if (containsThreadLoop(innermost(s, extents.length))) return false;
        nests.push(extents);
        return true;
      }
      if (s.k === 'for' || s.k === 'if') return visit(s.body);
      return false;
    });
  if (!visit(body)) return undefined;
  const first = nests[0];
  if (first && !nests.every((e) => e.length === first.length && e.every((x, i) => x === first[i])))
    return undefined;
  return nests;
}

function innermost(s: Stmt, depth: number): readonly Stmt[] {
  let body: readonly Stmt[] = [s];
  for (let i = 0; i < depth; i++) body = (body[0] as Extract<Stmt, { k: 'for' }>).body;
  return body;
}

function someStmt(stmts: readonly Stmt[], test: (s: Stmt) => boolean): boolean {
  return stmts.some((s) => test(s) || ((s.k === 'for' || s.k === 'if') && someStmt(s.body, test)));
}

const containsThreadLoop = (stmts: readonly Stmt[]) => someStmt(stmts, (s) => s.k === 'for' && s.kind === 'thread');
export const containsBarrier = (stmts: readonly Stmt[]) => someStmt(stmts, (s) => s.k === 'barrier');

/** Workgroup counts in x, y, z with each at most `maxPerDimension`; their product may exceed `total`. */
export function splitDispatch(total: number, maxPerDimension: number): [number, number, number] {
  if (total <= maxPerDimension) return [Math.max(1, total), 1, 1];
  const x = maxPerDimension;
  const rest = Math.ceil(total / x);
  if (rest <= maxPerDimension) return [x, rest, 1];
  const z = Math.ceil(rest / maxPerDimension);
  if (z > maxPerDimension) throw new Error(`${total} workgroups do not fit in a 3-D dispatch of ${maxPerDimension}`);
  return [x, maxPerDimension, z];
}
