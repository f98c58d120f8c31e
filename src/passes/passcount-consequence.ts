// What a pass count costs (FuseMax §III-B): Einsums in different passes cannot be fused over R, so a
// fiber read again in a later pass must either stay on chip whole (its length along R per unit of the
// other ranks) or be spilled and re-read, (passes − 1) × its size in extra traffic. We name the fiber:
// the tensor read in two or more passes that is produced earliest (QK in the 3-pass attention).
import type { KernelIR, RankInfo } from '../ir/cascade.js';
import type { Expr } from '../ir/expr.js';
import { evalSize } from '../ir/sizes.js';
import type { PassTrace } from './passcount.js';
import { alongRank, printSize, type ReducedRank } from './passcount-ranks.js';

/** The fiber re-read across passes, and both ways to pay for it. */
export interface ReRead {
  /** The tensor whose fiber along the rank is re-read in a later pass. */
  readonly tensor: string;
  /** Elements of one fiber along the rank, printed (`M`), and as a number when ranks are bound. */
  readonly fiber: string;
  readonly fiberElements?: number;
  /** The tensor's other axes, printed: the fiber is per one element of these (`[P]`). */
  readonly perUnitOf: readonly string[];
  /** The whole tensor, printed (`P * M`): the on-chip buffer if no other axis is tiled. */
  readonly tensorSize: string;
  readonly tensorElements?: number;
  /** Extra element reads when the fiber is not kept on chip: (passes − 1) × the tensor. */
  readonly extraTraffic: string;
  readonly extraTrafficElements?: number;
}

export interface PassConsequence {
  /** In words, with numbers when the ranks are bound. */
  readonly text: string;
  /** Absent when no tensor is read in two passes (a later pass sweeps other data of the same size). */
  readonly reRead?: ReRead;
}

/** Rank values as a caller has them: a record (`--rank M=64`) or a bound kernel's map. */
export type RankValueSource = Readonly<Record<string, number>> | ReadonlyMap<string, number>;

/** Numeric values of every rank that has one: globals, then the context's, then the kernel's own. */
export function rankValues(
  kernel: KernelIR,
  given: RankValueSource = {},
  globals: readonly RankInfo[] = [],
): Map<string, number> {
  const values = new Map<string, number>();
  const tryAdd = (r: RankInfo) => {
    if (!r.value) return;
    try {
      values.set(r.name, evalSize(r.value, values));
    } catch {
      // a rank defined from an unbound one has no value yet
    }
  };
  globals.forEach(tryAdd);
  const entries =
    given instanceof Map ? [...given] : Object.entries(given as Readonly<Record<string, number>>);
  for (const [name, v] of entries) values.set(name, v);
  kernel.ranks.forEach(tryAdd);
  return values;
}

export function tryEval(e: Expr, values: ReadonlyMap<string, number>): number | undefined {
  try {
    return evalSize(e, values);
  } catch {
    return undefined;
  }
}

const product = (xs: readonly Expr[]): Expr =>
  xs.length === 0 ? { k: 'num', value: 1 } : xs.reduce((a, b) => ({ k: 'binary', op: '*', a, b }));

/** The tensor re-read across passes that is produced earliest; ties go to the first one read. */
function reReadTensor(
  kernel: KernelIR,
  rank: ReducedRank,
  trace: PassTrace,
  counts: (reader: string) => boolean,
): string | undefined {
  const readIn = new Map<string, Set<number>>();
  for (const r of trace.reads)
    if (counts(r.reader)) readIn.set(r.tensor, new Set([...(readIn.get(r.tensor) ?? []), r.pass]));
  let best: { name: string; s: number } | undefined;
  for (const [name, passes] of readIn) {
    const info = kernel.tensors[name];
    if (!info || passes.size < 2 || !info.shape.some((d) => alongRank(rank, d))) continue;
    const s = trace.state.get(name)?.s ?? 0;
    if (!best || s < best.s) best = { name, s };
  }
  return best?.name;
}

const withNumber = (text: string, n: number | undefined) =>
  n === undefined || text === String(n) ? text : `${text} = ${n}`;

export function passConsequence(
  kernel: KernelIR,
  rank: ReducedRank,
  trace: PassTrace,
  values: ReadonlyMap<string, number>,
  counts: (reader: string) => boolean = () => true,
): PassConsequence {
  const rankText = printSize(rank.size);
  const tensor = reReadTensor(kernel, rank, trace, counts);
  if (!tensor)
    return {
      text:
        `${trace.passes} passes over ${rankText}, but no tensor is read in two of them: a later sweep walks other ` +
        `data of the same size (an output axis, say) after a reduction over ${rankText} completes, so nothing must be ` +
        `buffered or re-read.`,
    };
  const shape = kernel.tensors[tensor]!.shape;
  const along = shape.filter((d) => alongRank(rank, d));
  const others = shape.filter((d) => !alongRank(rank, d));
  const fiberExpr = product(along);
  const sizeExpr = product(shape);
  const extra = trace.passes - 1;
  const trafficExpr: Expr = { k: 'binary', op: '*', a: { k: 'num', value: extra }, b: sizeExpr };
  const fiberElements = tryEval(fiberExpr, values);
  const tensorElements = tryEval(sizeExpr, values);
  const extraTrafficElements = tryEval(trafficExpr, values);
  const fiber = printSize(fiberExpr);
  const tensorSize = printSize(sizeExpr);
  const extraTraffic = printSize(trafficExpr);
  const per = others.length ? ` per ${others.map(printSize).join(' × ')}` : '';
  const text =
    `${trace.passes} passes over ${rankText}: a single pass must keep ${tensor}'s fiber along ${rankText} on chip ` +
    `(${withNumber(fiber, fiberElements)} elements${per}; ${withNumber(tensorSize, tensorElements)} in all), ` +
    `or re-read ${tensor} ${extra} more time${extra === 1 ? '' : 's'}: ` +
    `${withNumber(extraTraffic, extraTrafficElements)} extra element reads (FuseMax §III-B).`;
  return {
    text,
    reRead: {
      tensor,
      fiber,
      ...(fiberElements !== undefined ? { fiberElements } : {}),
      perUnitOf: others.map(printSize),
      tensorSize,
      ...(tensorElements !== undefined ? { tensorElements } : {}),
      extraTraffic,
      ...(extraTrafficElements !== undefined ? { extraTrafficElements } : {}),
    },
  };
}
