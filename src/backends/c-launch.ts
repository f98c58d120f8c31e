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
import type { ContractStmt, IExpr, LoopKernel, Stmt, VExpr } from '../ir/loops.js';

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
  /** Bytes of workgroup (shared) memory a kernel may declare. */
  readonly maxWorkgroupBytes: number;
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
  if (!containsThreadLoop(body) && kernel.locals.length === 0 && !containsBarrier(body) && groups > 1) {
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
  // Slices as deep as the workgroup memory allows (a 1 × 256 tile of a matrix-vector product is wide).
  let k = Math.min(CONTRACT_TILE_K, pow2AtLeast(contract.kDim));
  while (k > 1 && (m + n) * k * 4 > limits.maxWorkgroupBytes) k /= 2;
  const tile = { m, n, k };
  const tiles: GridLoop[] = [
    { var: 'tile_m', extent: Math.ceil(contract.m / m) },
    { var: 'tile_n', extent: Math.ceil(contract.n / n) },
  ];
  const all = [...grid, ...tiles];
  return {
    kind: 'contract',
    grid: all,
    contract,
    tile,
    threads: m * n,
    workgroups: product(all.map((g) => g.extent)),
  };
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
        const nest = threadNest(s);
        if (containsThreadLoop(nest.body)) return false;
        nests.push(nest.loops.map((l) => l.extent));
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

/**
 * A nest of thread loops starting at `top`: directly nested, or with a guard between two (lowering
 * guards each tiled dimension where its tile overhangs). `body` is the nest with its thread loops
 * removed and its guards kept: what one invocation runs once its loop variables are set.
 */
export function threadNest(top: Extract<Stmt, { k: 'for' }>): { loops: GridLoop[]; body: Stmt[] } {
  const loops: GridLoop[] = [];
  const strip = (loop: Extract<Stmt, { k: 'for' }>): Stmt[] => {
    loops.push({ var: loop.var, extent: loop.extent });
    const only = loop.body.length === 1 ? loop.body[0]! : undefined;
    if (only?.k === 'for' && only.kind === 'thread') return strip(only);
    const inner = only?.k === 'if' && only.body.length === 1 ? only.body[0]! : undefined;
    if (only?.k === 'if' && inner?.k === 'for' && inner.kind === 'thread')
      return [{ ...only, body: strip(inner) }];
    return [...loop.body];
  };
  const body = strip(top);
  return { loops, body };
}

function someStmt(stmts: readonly Stmt[], test: (s: Stmt) => boolean): boolean {
  return stmts.some((s) => test(s) || ((s.k === 'for' || s.k === 'if') && someStmt(s.body, test)));
}

const containsThreadLoop = (stmts: readonly Stmt[]) =>
  someStmt(stmts, (s) => s.k === 'for' && s.kind === 'thread');
export const containsBarrier = (stmts: readonly Stmt[]) => someStmt(stmts, (s) => s.k === 'barrier');

/** Workgroup counts in x, y, z with each at most `maxPerDimension`; their product may exceed `total`. */
export function splitDispatch(total: number, maxPerDimension: number): [number, number, number] {
  if (total <= maxPerDimension) return [Math.max(1, total), 1, 1];
  const x = maxPerDimension;
  const rest = Math.ceil(total / x);
  if (rest <= maxPerDimension) return [x, rest, 1];
  const z = Math.ceil(rest / maxPerDimension);
  if (z > maxPerDimension)
    throw new Error(`${total} workgroups do not fit in a 3-D dispatch of ${maxPerDimension}`);
  return [x, maxPerDimension, z];
}

export interface BufferUse {
  read: boolean;
  written: boolean;
}

/** Every buffer `stmts` loads from or stores to, and how. */
export function referencedBuffers(stmts: readonly Stmt[]): Map<string, BufferUse> {
  const uses = new Map<string, BufferUse>();
  const use = (name: string, written: boolean) => {
    const u = uses.get(name) ?? { read: false, written: false };
    if (written) u.written = true;
    else u.read = true;
    uses.set(name, u);
  };
  const index = (e: IExpr): void => {
    if (e.k === 'iload') {
      use(e.buffer, false);
      index(e.index);
    } else if (e.k !== 'const' && e.k !== 'var') [e.a, e.b].forEach(index);
  };
  const value = (e: VExpr): void => {
    if (e.k === 'load') {
      use(e.buffer, false);
      index(e.index);
    } else if (e.k === 'int') index(e.a);
    else if (e.k === 'unary') value(e.a);
    else if (e.k === 'binary') [e.a, e.b].forEach(value);
    else if (e.k === 'select') [e.cond, e.a, e.b].forEach(value);
  };
  const visit = (list: readonly Stmt[]): void => {
    for (const s of list) {
      if (s.k === 'for') {
        if (s.bound) index(s.bound);
        visit(s.body);
      } else if (s.k === 'if') {
        [s.cond.a, s.cond.lt].forEach(index);
        visit(s.body);
      } else if (s.k === 'let' || s.k === 'set' || s.k === 'reduce') value(s.value);
      else if (s.k === 'store') {
        index(s.index);
        value(s.value);
        use(s.buffer, true);
      } else if (s.k === 'contract') {
        [s.outOffset, s.aOffset, s.bOffset].forEach(index);
        use(s.a, false);
        use(s.b, false);
        if (s.accumulate) use(s.out, false);
        use(s.out, true);
      }
    }
  };
  visit(stmts);
  return uses;
}
