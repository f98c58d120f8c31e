// AutoChunk's chunk search (Zhao et al., "AutoChunk", §4.1): the dimensions along which a kernel —
// in practice a region of consecutive Einsums cut out as a kernel (chunk-regions.ts) — can be cut
// into independent chunks. In Ein that is an index that is a plain left-side index of every Einsum
// and is reduced by none of them: every element of every tensor indexed by it then depends only on
// the inputs at the same position of that index (and on inputs that do not carry it), so the
// cascade at rank C computes one chunk exactly. A softmax or a sum over the index stops it.
//
// The realisation (chunking.ts) re-binds the index's rank to the chunk size and runs the region
// once per chunk, so the rank must carry nothing but that index: it may not appear in any value or
// other extent (`sqrt(P)`, `p + M - P`), and every tensor axis it sizes must be subscripted by the
// plain index. Anything else is rejected here rather than computed wrongly.
import type { Einsum, KernelIR } from '../ir/cascade.js';
import type { Expr } from '../ir/expr.js';

export interface ChunkDimension {
  /** The cascade index cut into chunks. */
  readonly index: string;
  /** The symbolic rank it ranges over, re-bound to the chunk size. */
  readonly rank: string;
  /** Per parameter and output: the axis sized by the rank (sliced per chunk), or -1 (shared). */
  readonly axes: Readonly<Record<string, number>>;
}

const isRank = (e: Expr | undefined, rank: string) => e?.k === 'rank' && e.name === rank;

function mentionsRank(e: Expr, rank: string): boolean {
  switch (e.k) {
    case 'rank':
      return e.name === rank;
    case 'neg':
      return mentionsRank(e.a, rank);
    case 'binary':
      return mentionsRank(e.a, rank) || mentionsRank(e.b, rank);
    case 'call':
    case 'kcall':
      return (
        e.args.some((a) => mentionsRank(a, rank)) ||
        (e.k === 'kcall' && e.subs.some((s) => mentionsRank(s, rank)))
      );
    case 'access':
      return e.subs.some((s) => mentionsRank(s, rank));
    case 'reduce':
      return mentionsRank(e.body, rank);
    default:
      return false;
  }
}

/** True when `index` and `rank` occur in `e` only as `T[.., index, ..]` on an axis of T sized by `rank`. */
function onlyPlainUses(e: Expr, index: string, rank: string, kernel: KernelIR): boolean {
  const ok = (x: Expr) => onlyPlainUses(x, index, rank, kernel);
  switch (e.k) {
    case 'index':
      return e.name !== index;
    case 'rank':
      return e.name !== rank;
    case 'num':
      return true;
    case 'neg':
      return ok(e.a);
    case 'binary':
      return ok(e.a) && ok(e.b);
    case 'call':
      return e.args.every(ok);
    case 'kcall':
      return false;
    case 'reduce':
      return !e.indices.includes(index) && ok(e.body);
    case 'access': {
      const shape = kernel.tensors[e.tensor]?.shape ?? [];
      return e.subs.every((s, axis) =>
        s.k === 'index' && s.name === index ? isRank(shape[axis], rank) : ok(s) && !isRank(shape[axis], rank),
      );
    }
  }
}

function rankOf(e: Einsum, index: string): string | undefined {
  const extent = e.ranges.find((r) => r.name === index)?.extent;
  return extent?.k === 'rank' ? extent.name : undefined;
}

/** Every index the whole cascade can be chunked along, in the order the first Einsum lists them. */
export function chunkDimensions(kernel: KernelIR): ChunkDimension[] {
  const einsums = kernel.steps.filter((s): s is Einsum => s.kind === 'einsum');
  if (einsums.length === 0 || einsums.length !== kernel.steps.length) return [];
  const plainLhs = (e: Einsum) => e.subs.flatMap((s) => (s.k === 'index' ? [s.name] : []));
  const found: ChunkDimension[] = [];
  for (const index of plainLhs(einsums[0]!)) {
    const rank = rankOf(einsums[0]!, index);
    if (!rank || !kernel.ranks.some((r) => r.name === rank && !r.value)) continue;
    const flows = einsums.every((e) => {
      const axis = e.subs.findIndex((s) => s.k === 'index' && s.name === index);
      const shape = kernel.tensors[e.tensor]?.shape ?? [];
      return (
        axis >= 0 &&
        isRank(shape[axis], rank) &&
        !e.reduced.includes(index) &&
        rankOf(e, index) === rank &&
        e.ranges.every((r) => r.name === index || !mentionsRank(r.extent, rank)) &&
        e.subs.every((s, i) => i === axis || !mentionsRank(s, rank)) &&
        onlyPlainUses(e.body, index, rank, kernel)
      );
    });
    const shapesOk = Object.values(kernel.tensors).every(
      (t) =>
        t.shape.filter((s) => mentionsRank(s, rank)).length ===
          t.shape.filter((s) => isRank(s, rank)).length && t.shape.filter((s) => isRank(s, rank)).length <= 1,
    );
    if (!flows || !shapesOk) continue;
    const axes = Object.fromEntries(
      [...kernel.params, ...kernel.outputs].map((t) => [
        t,
        (kernel.tensors[t]?.shape ?? []).findIndex((s) => isRank(s, rank)),
      ]),
    );
    // Outputs must all be cut: an output without the index would be written whole by every chunk.
    if (kernel.outputs.some((o) => axes[o] === -1)) continue;
    found.push({ index, rank, axes });
  }
  return found;
}
