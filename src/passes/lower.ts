// lower: one fusion group → one Loop IR kernel.
//   for each parallel dimension: a grid loop over tiles, a thread loop within the tile (guarded)
//     the Einsums before the stream, each its own loop nest over what is left of its indices
//     for the streamed rank (serial): the per-block Einsums      ← FuseMax's 1-pass mapping
//     the Einsums after the stream
// A lone plain contraction becomes the `contract` intrinsic inside grid loops over its batch indices.
import type { Einsum } from '../ir/cascade.js';
import { walkExpr, type Expr } from '../ir/expr.js';
import { ic, iadd, imul, iv, type BufferDecl, type IExpr, type LoopKernel, type Stmt } from '../ir/loops.js';
import { printStep } from '../ir/print.js';
import { matchContraction } from './contract.js';
import type { GroupPlan } from './group.js';
import {
  elementIndex,
  IDENTITY,
  lowerIndex,
  lowerValue,
  reduceLoops,
  rowMajorStrides,
  type LowerScope,
} from './lower-expr.js';
import { lhsIndex } from '../frontend/ranges.js';
import { evalSize } from '../ir/sizes.js';

export interface LowerContext {
  readonly ranks: ReadonlyMap<string, number>;
  readonly shapes: ReadonlyMap<string, readonly number[]>;
  /** Tensors of dtype i32 (read as values they are converted, not reinterpreted). */
  readonly int32: ReadonlySet<string>;
}

function namer(): (base: string) => string {
  const used = new Map<string, number>();
  return (base) => {
    const n = (used.get(base) ?? 0) + 1;
    used.set(base, n);
    return n === 1 ? base : `${base}_${n}`;
  };
}

export function lowerGroup(
  plan: GroupPlan,
  tiles: readonly number[],
  name: string,
  ctx: LowerContext,
): LoopKernel {
  const fresh = namer();
  const statements = plan.einsums.map(printStep);
  const info = { statements, tiles: Object.fromEntries(plan.outer.map((d, i) => [d.name, tiles[i]!])) };
  const uses = usedGlobals(plan);
  const single = plan.einsums.length === 1 ? plan.einsums[0]! : undefined;
  const contraction = single && matchContraction(single, ctx.ranks);
  if (single && contraction)
    return { name, uses, locals: [], body: lowerContraction(single, contraction, ctx, fresh), info };

  // Outer loops: grid over tiles, threads within a tile.
  const outerValue: IExpr[] = [];
  const slotParts: { v: IExpr; n: number }[] = [];
  // Grid loops (over tiles) go outermost; the thread loops within a tile wrap each phase, so that a
  // streamed rank runs outside them: every block of the stream (a block of keys) is visited by all
  // the rows of the tile in turn while it is in cache — FlashAttention's loop order.
  const gridWrap: ((body: Stmt[]) => Stmt[])[] = [];
  const threadWrap: ((body: Stmt[]) => Stmt[])[] = [];
  plan.outer.forEach((d, i) => {
    const t = tiles[i]!;
    if (t === 1) {
      const v = fresh(d.name);
      outerValue.push(iv(v));
      gridWrap.push((body) => [{ k: 'for', var: v, extent: d.extent, kind: 'grid', body }]);
      return;
    }
    const vt = fresh(`${d.name}_tile`);
    const vl = fresh(`${d.name}_thread`);
    const value = iadd(imul(iv(vt), ic(t)), iv(vl));
    outerValue.push(value);
    slotParts.push({ v: iv(vl), n: t });
    gridWrap.push((body) => [{ k: 'for', var: vt, extent: Math.ceil(d.extent / t), kind: 'grid', body }]);
    threadWrap.push((body) => [
      {
        k: 'for',
        var: vl,
        extent: t,
        kind: 'thread',
        body: d.extent % t === 0 ? body : [{ k: 'if', cond: { a: value, lt: ic(d.extent) }, body }],
      },
    ]);
  });
  const perThread = (body: Stmt[]) => threadWrap.reduceRight<Stmt[]>((inner, w) => w(inner), body);
  const slot = slotParts.reduce<IExpr>((acc, p) => iadd(imul(acc, ic(p.n)), p.v), ic(0));
  const threads = slotParts.reduce((a, p) => a * p.n, 1);
  const scope: LowerScope = {
    ranks: ctx.ranks,
    shapes: ctx.shapes,
    placements: plan.placements,
    slot,
    int32: ctx.int32,
    fresh,
  };

  const streamVar = plan.stream ? fresh(plan.stream.index.find((x) => x !== undefined)!) : undefined;
  const bodyOf = (i: number) => lowerEinsum(plan, i, outerValue, streamVar, scope);
  const inStream = (i: number) => plan.stream?.index[i] !== undefined;
  const body: Stmt[] = [];
  let i = 0;
  while (i < plan.einsums.length) {
    const phase: Stmt[] = [];
    const streamed = inStream(i);
    while (i < plan.einsums.length && inStream(i) === streamed) phase.push(...bodyOf(i++));
    if (streamed)
      body.push({
        k: 'for',
        var: streamVar!,
        extent: plan.stream!.extent,
        kind: 'serial',
        body: perThread(phase),
      });
    else body.push(...perThread(phase));
  }
  const nest = gridWrap.reduceRight<Stmt[]>((inner, w) => w(inner), body);
  const locals: BufferDecl[] = [...plan.placements.values()]
    .filter((p) => p.local)
    .map((p) => ({
      name: p.tensor,
      dtype: 'f32',
      size: p.size * threads,
      level: 'scratchpad',
      role: 'local',
      shape: [threads, p.size],
    }));
  return { name, uses, locals, body: nest, info };
}

function usedGlobals(plan: GroupPlan): string[] {
  const names = new Set<string>();
  const visit = (x: Expr): void => {
    if (x.k === 'access' && !plan.placements.get(x.tensor)?.local) names.add(x.tensor);
  };
  for (const e of plan.einsums) {
    if (!plan.placements.get(e.tensor)?.local) names.add(e.tensor);
    walkExpr(e.body, visit);
    e.subs.forEach((s) => walkExpr(s, visit));
  }
  return [...names];
}

/** One Einsum's loop nest inside the kernel: loops over its indices not fixed by the threads or stream. */
function lowerEinsum(
  plan: GroupPlan,
  i: number,
  outerValue: readonly IExpr[],
  streamVar: string | undefined,
  scope: LowerScope,
): Stmt[] {
  const e = plan.einsums[i]!;
  const env = new Map<string, IExpr>();
  plan.outerIndex[i]!.forEach((v, d) => env.set(v, outerValue[d]!));
  const streamed = plan.stream?.index[i];
  if (streamed !== undefined) env.set(streamed, iv(streamVar!));
  // The generation index of an iterative update walks first and in order.
  const gen = e.subs.find((s) => s.k === 'binary');
  const free = e.subs.map(lhsIndex).filter((v): v is string => v !== undefined && !env.has(v));
  if (gen) free.sort((a, b) => (a === lhsIndex(gen) ? -1 : b === lhsIndex(gen) ? 1 : 0));
  const vars = free.map((v) => {
    const name = scope.fresh(v);
    env.set(v, iv(name));
    return name;
  });
  const target = elementIndex(
    e.tensor,
    e.subs.map((s) => lowerIndex(s, env, scope)),
    scope,
  );
  const pre: Stmt[] = [];
  let inner: Stmt[];
  if (e.reduced.length > 0) {
    const acc = scope.fresh(`acc_${e.tensor}`);
    inner = [
      { k: 'let', name: acc, value: { k: 'const', v: IDENTITY[e.reduce] } },
      reduceLoops(e.reduced, e.reduce, acc, e.body, env, e, scope),
      { k: 'store', buffer: e.tensor, index: target, value: { k: 'reg', name: acc } },
    ];
  } else {
    const value = lowerValue(e.body, env, e, scope, pre);
    inner = [...pre, { k: 'store', buffer: e.tensor, index: target, value }];
  }
  for (let j = vars.length - 1; j >= 0; j--) {
    const extent = evalSize(e.ranges.find((r) => r.name === free[j])!.extent, scope.ranks);
    inner = [{ k: 'for', var: vars[j]!, extent, kind: 'serial', body: inner }];
  }
  return inner;
}

function lowerContraction(
  e: Einsum,
  c: NonNullable<ReturnType<typeof matchContraction>>,
  ctx: LowerContext,
  fresh: (b: string) => string,
): Stmt[] {
  const size = (i?: string) => (i ? evalSize(e.ranges.find((r) => r.name === i)!.extent, ctx.ranks) : 1);
  const env = new Map<string, IExpr>();
  const batchVars = c.batch.map((b) => {
    const v = fresh(b);
    env.set(b, iv(v));
    return v;
  });
  const strideOf = (tensor: string, subs: readonly Expr[], index?: string) => {
    if (!index) return 0;
    const strides = rowMajorStrides(ctx.shapes.get(tensor)!);
    return strides[subs.findIndex((s) => s.k === 'index' && s.name === index)]!;
  };
  const offset = (tensor: string, subs: readonly Expr[]): IExpr => {
    const strides = rowMajorStrides(ctx.shapes.get(tensor)!);
    return subs.reduce<IExpr>(
      (acc, s, a) =>
        s.k === 'index' && env.has(s.name) ? iadd(acc, imul(env.get(s.name)!, ic(strides[a]!))) : acc,
      ic(0),
    );
  };
  const stmt: Stmt = {
    k: 'contract',
    out: e.tensor,
    a: c.a.tensor,
    b: c.b.tensor,
    m: size(c.m),
    n: size(c.n),
    kDim: size(c.k),
    outOffset: offset(e.tensor, e.subs),
    aOffset: offset(c.a.tensor, c.a.subs),
    bOffset: offset(c.b.tensor, c.b.subs),
    outStride: [strideOf(e.tensor, e.subs, c.m), strideOf(e.tensor, e.subs, c.n)],
    aStride: [strideOf(c.a.tensor, c.a.subs, c.m), strideOf(c.a.tensor, c.a.subs, c.k)],
    bStride: [strideOf(c.b.tensor, c.b.subs, c.k), strideOf(c.b.tensor, c.b.subs, c.n)],
    scale: c.scale,
    accumulate: false,
  };
  return c.batch.reduceRight<Stmt[]>(
    (inner, b, i) => [{ k: 'for', var: batchVars[i]!, extent: size(b), kind: 'grid', body: inner }],
    [stmt],
  );
}
