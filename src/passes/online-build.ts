// Build FuseMax's 1-pass cascade (Cascade 5, FlashAttention-2's algebra) from a matched softmax chain:
// the keys are split into M_1 blocks of M_0; a running max RM, a running denominator RD and one
// running accumulator per weighted sum are carried across blocks on an iterative rank and rescaled
// by PRM = exp(RM_old − RM_new) whenever the max grows (Milakov & Gimelshein, arXiv 1805.02867 §3).
import type { Einsum, KernelIR, Step, TensorInfo } from '../ir/cascade.js';
import { access, bin, call, freeIndices, idx, mapExpr, num, type Expr, type ReduceOp } from '../ir/expr.js';
import { sizeKey } from '../ir/sizes.js';
import { accessesOf, substituteIndices, timesPower } from './online-algebra.js';
import { M_ROLE, type SoftmaxChain, type WeightedSum } from './online-match.js';
import { dependencyOrder, fresh, reinfer } from './online-ranges.js';

export interface OnePassPlan {
  readonly chain: SoftmaxChain;
  readonly weighted: readonly WeightedSum[];
  /** Softmax tensors (A = SN / SD) absorbed into the weighted sums and dropped. */
  readonly dropped: ReadonlySet<string>;
  /** SN is still read elementwise (a softmax output): recompute it in a second pass from RM_{M1}. */
  readonly keepSn: boolean;
  /** X is an einsum read only by GM and SN: compute it blocked instead of copying it. */
  readonly inlineX: boolean;
  readonly guards: boolean;
  readonly blockSize: number;
  /** Fresh rank names (number of blocks, block size) and their lowercase index names. */
  readonly ranks: { readonly outer: string; readonly inner: string };
}

const einsum = (
  tensor: string,
  subs: Expr[],
  body: Expr,
  reduce: ReduceOp = 'sum',
  reduced: string[] = [],
): Einsum => ({
  kind: 'einsum',
  tensor,
  subs,
  reduce,
  reduced,
  body,
  ranges: [],
});
const NEG_INF: Expr = { k: 'neg', a: num(Infinity) };

/** The rewritten kernel, and the name of its running max: everything downstream of it is the new chain. */
export function buildOnePass(
  kernel: KernelIR,
  plan: OnePassPlan,
  taken: Set<string>,
): { kernel: KernelIR; runningMax: string } {
  const { chain } = plan;
  const { outer: R1, inner: R0 } = plan.ranks;
  const [i1, i0] = [R1.toLowerCase(), R0.toLowerCase()];
  const gen = bin('+', idx(i1), num(1));
  const last: Expr = { k: 'rank', name: R1 };
  const split = bin('+', bin('*', idx(i1), { k: 'rank', name: R0 }), idx(i0));
  const P = chain.pRoles.map(idx);
  const defOf = (t: string) => kernel.steps.find((s): s is Einsum => s.kind === 'einsum' && s.tensor === t);
  const newTensors: TensorInfo[] = [];
  const made = (base: string, iterative = false): string => {
    const name = fresh(base, taken);
    newTensors.push({
      name,
      dtype: 'f32',
      kind: 'intermediate',
      shape: [],
      declared: false,
      ...(iterative ? { iterativeAxis: 0 } : {}),
    });
    return name;
  };
  // The −∞ guards: when a whole block is masked, RM_{m1+1} = −∞ and exp(−∞ − (−∞)) is NaN where the true
  // contribution is 0; when nothing was seen yet RM_{m1} = −∞ and the old accumulators are 0, so the
  // rescale factor is 0 too (cosma-fusemax.md §2(e): guard −∞ − (−∞) on fully masked rows).
  const guard = (running: Expr, value: Expr) =>
    plan.guards ? call('where', bin('==', running, NEG_INF), num(0), value) : value;

  // Blocked scores: X's own definition with m = m1 * M0 + m0, and so on up its single-use producers.
  const inlined = new Set<string>();
  const blockStatements: Einsum[] = [];
  const readCount = (t: string) =>
    kernel.steps.reduce(
      (n, s) =>
        n + (s.kind === 'einsum' ? accessesOf(s.body, t).length : s.args.filter((a) => a === t).length),
      0,
    );
  const blockable = (t: string, axis: number): boolean => {
    const def = defOf(t);
    const info = kernel.tensors[t];
    if (!def || info?.kind !== 'intermediate' || info.iterativeAxis !== undefined || readCount(t) !== 1)
      return false;
    return def.subs.every((s) => s.k === 'index') && sizeKey(info.shape[axis]!) === sizeKey(chain.mExtent);
  };
  const block = (t: string, axis: number): string => {
    const def = defOf(t)!;
    const names = def.subs.map((s) => (s as { name: string }).name);
    const m = names[axis]!;
    const nested = mapExpr(def.body, (x) => {
      if (x.k !== 'access') return x;
      const at = x.subs.findIndex((s) => s.k === 'index' && s.name === m);
      if (at < 0 || !blockable(x.tensor, at)) return x;
      return access(block(x.tensor, at), [idx(i1), idx(i0), ...x.subs.filter((_, i) => i !== at)]);
    });
    const name = made(`B${t}`);
    inlined.add(t);
    const lhs = [idx(i1), idx(i0), ...names.filter((n) => n !== m).map(idx)];
    blockStatements.push(
      einsum(name, lhs, substituteIndices(nested, new Map([[m, split]])), def.reduce, [...def.reduced]),
    );
    return name;
  };
  const mAxis = chain.xRoles.indexOf(M_ROLE);
  const score: Expr = plan.inlineX
    ? access(block(chain.x, mAxis), [idx(i1), idx(i0), ...chain.xRoles.filter((r) => r !== M_ROLE).map(idx)])
    : access(
        chain.x,
        chain.xRoles.map((r) => (r === M_ROLE ? split : idx(r))),
      );

  const [LM, RM, SLN, SLD, PRM, RD] = [
    made('LM'),
    made('RM', true),
    made('SLN'),
    made('SLD'),
    made('PRM'),
    made('RD', true),
  ];
  const rm = (g: Expr, subs: Expr[] = P) => access(RM, [g, ...subs]);
  const SDP = chain.sdRoles.map(idx);
  const chainBlock: Einsum[] = [
    ...blockStatements,
    einsum(LM, [idx(i1), ...P], score, 'max', [i0]),
    einsum(RM, [num(0), ...P], NEG_INF),
    einsum(RM, [gen, ...P], call('max', rm(idx(i1)), access(LM, [idx(i1), ...P]))),
    einsum(SLN, [idx(i1), idx(i0), ...P], guard(rm(gen), call('exp', bin('-', score, rm(gen))))),
    einsum(SLD, [idx(i1), ...P], access(SLN, [idx(i1), idx(i0), ...P]), 'sum', [i0]),
    einsum(PRM, [idx(i1), ...P], guard(rm(idx(i1)), call('exp', bin('-', rm(idx(i1)), rm(gen))))),
    einsum(RD, [num(0), ...SDP], num(0)),
    einsum(
      RD,
      [gen, ...SDP],
      bin(
        '+',
        bin('*', access(RD, [idx(i1), ...SDP]), access(PRM, [idx(i1), ...P])),
        access(SLD, [idx(i1), ...P]),
      ),
    ),
  ];

  // Each weighted sum Σ_m SN·w becomes Σ_{m0} SLN·w per block, accumulated as RNV_{m1+1} = RNV_{m1}·PRM + SLNV.
  const weightedBlock = (w: WeightedSum): Einsum[] => {
    const role = (r: string) => idx(w.roleIndex.get(r)!);
    const m = w.roleIndex.get(M_ROLE)!;
    const local = substituteIndices(
      mapExpr(w.sum.body, (x) =>
        x.k === 'access' && x.tensor === chain.sn.tensor
          ? access(SLN, [idx(i1), idx(i0), ...chain.pRoles.map(role)])
          : x,
      ),
      new Map([[m, split]]),
    );
    const lhs = w.einsum.subs.map((s) => (s as { name: string }).name);
    const axes = lhs.filter((n) => freeIndices(local).includes(n)).map(idx);
    const reduced = [i0, ...w.sum.indices.filter((n) => n !== m)];
    const [SLNV, RNV] = [made(`SLNV_${w.einsum.tensor}`), made(`RNV_${w.einsum.tensor}`, true)];
    const rd = access(RD, [last, ...chain.sdRoles.map(role)]);
    return [
      einsum(SLNV, [idx(i1), ...axes], local, 'sum', reduced),
      einsum(RNV, [num(0), ...axes], num(0)),
      einsum(
        RNV,
        [gen, ...axes],
        bin(
          '+',
          bin('*', access(RNV, [idx(i1), ...axes]), access(PRM, [idx(i1), ...chain.pRoles.map(role)])),
          access(SLNV, [idx(i1), ...axes]),
        ),
      ),
      {
        ...w.einsum,
        reduce: 'sum',
        reduced: [],
        body: timesPower(w.outer(access(RNV, [last, ...axes])), rd, w.sdPower),
      },
    ];
  };

  // Every other read of GM or SD is a read of the last generation: RM_{M1} = GM and RD_{M1} = SD.
  const finalReads = (e: Expr): Expr =>
    mapExpr(e, (x) => {
      if (x.k !== 'access') return x;
      if (x.tensor === chain.gm.tensor) return access(RM, [last, ...x.subs]);
      if (x.tensor === chain.sd.tensor) return access(RD, [last, ...x.subs]);
      return x;
    });
  const isOutput = (t: string) => kernel.tensors[t]?.kind === 'output';
  const weightedOf = new Map(plan.weighted.map((w) => [w.einsum, w]));
  const out: Step[] = [];
  for (const s of kernel.steps) {
    if (s.kind === 'call') out.push(s);
    else if (s === chain.gm) {
      out.push(...chainBlock);
      if (isOutput(s.tensor)) out.push({ ...s, reduce: 'sum', reduced: [], body: rm(last) });
    } else if (s === chain.sd) {
      if (isOutput(s.tensor)) out.push({ ...s, body: access(RD, [last, ...SDP]), reduced: [] });
    } else if (s === chain.sn) {
      if (plan.keepSn) out.push({ ...s, body: finalReads(s.body) });
    } else if (weightedOf.has(s)) out.push(...weightedBlock(weightedOf.get(s)!));
    else if (!inlined.has(s.tensor) && !plan.dropped.has(s.tensor))
      out.push({ ...s, body: finalReads(s.body) });
  }

  const gone = new Set([...inlined, ...plan.dropped]);
  if (!isOutput(chain.gm.tensor)) gone.add(chain.gm.tensor);
  if (!isOutput(chain.sd.tensor)) gone.add(chain.sd.tensor);
  if (!plan.keepSn) gone.add(chain.sn.tensor);
  const tensors: Record<string, TensorInfo> = {};
  for (const [name, info] of Object.entries(kernel.tensors)) if (!gone.has(name)) tensors[name] = info;
  for (const info of newTensors) tensors[info.name] = info;
  const ranks = [
    ...kernel.ranks,
    { name: R0, value: num(plan.blockSize) },
    { name: R1, value: bin('/', chain.mExtent, { k: 'rank', name: R0 }) },
  ];
  return { kernel: reinfer({ ...kernel, tensors, ranks, steps: dependencyOrder(out) }), runningMax: RM };
}
