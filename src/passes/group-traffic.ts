// Modelled global traffic of one fusion group, to decide whether fusing pays: every global tensor the
// group reads, times how often it is re-read (the parallel dimensions that do not index it, walked
// tile by tile outside in, once the slice they leave exceeds the cache), plus what the group writes to global
// memory. A lone contraction runs as a blocked GEMM and reads its operands about once.
import type { Einsum } from '../ir/cascade.js';
import { walkExpr } from '../ir/expr.js';
import { matchContraction } from './contract.js';
import type { GroupContext, GroupPlan } from './group.js';

const bytesOf = (ctx: GroupContext, t: string) => 4 * (ctx.shapes.get(t) ?? []).reduce((a, b) => a * b, 1);

export function groupTraffic(
  plan: GroupPlan,
  ctx: GroupContext,
  cacheBytes: number,
  tiles: readonly number[],
): number {
  const produced = new Set(plan.einsums.map((e) => e.tensor));
  let bytes = 0;
  for (const t of produced) if (!plan.placements.get(t)?.local) bytes += bytesOf(ctx, t);
  const single = plan.einsums.length === 1 ? plan.einsums[0]! : undefined;
  const gemm = single && matchContraction(single, ctx.ranks);
  const reads = new Map<string, { einsum: number; subs: Einsum['subs'] }[]>();
  plan.einsums.forEach((e, i) =>
    walkExpr(e.body, (x) => {
      if (x.k === 'access' && !produced.has(x.tensor))
        reads.set(x.tensor, [...(reads.get(x.tensor) ?? []), { einsum: i, subs: x.subs }]);
    }),
  );
  for (const [t, list] of reads) {
    const size = bytesOf(ctx, t);
    if (gemm) {
      bytes += size;
      continue;
    }
    let footprint = size;
    let rereads = 1;
    plan.outer.forEach((d, di) => {
      const indexed = list.some((r) => {
        const v = plan.outerIndex[r.einsum]![di];
        return r.subs.some((s) => {
          let uses = false;
          walkExpr(s, (x) => {
            if (x.k === 'index' && x.name === v) uses = true;
          });
          return uses;
        });
      });
      const tile = tiles[di] ?? 1;
      if (indexed) footprint = (footprint * tile) / d.extent;
      else if (footprint > cacheBytes) rereads *= Math.ceil(d.extent / tile);
    });
    bytes += size * rereads;
  }
  return bytes;
}
