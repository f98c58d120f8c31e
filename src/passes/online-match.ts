// Find FuseMax's 3-pass softmax chain (Cascade 4) in a kernel: GM = max_m X, SN = exp(X − GM),
// SD = Σ_m SN, and classify what reads it. Indices are matched by role, not by name: each statement
// names its own indices, so a role is "the GM index at position i" (a P rank) or the reduced rank M.
import type { Einsum, KernelIR } from '../ir/cascade.js';
import { walkExpr, type Expr } from '../ir/expr.js';
import {
  accessesOf,
  linearIn,
  peelFactor,
  readsAny,
  splitAtSum,
  substituteIndices,
} from './online-algebra.js';

export const M_ROLE = '#m';
type Access = Extract<Expr, { k: 'access' }>;
type Reduce = Extract<Expr, { k: 'reduce' }>;

export interface SoftmaxChain {
  readonly gm: Einsum;
  readonly sn: Einsum;
  readonly sd: Einsum;
  /** The scores: the tensor GM and SN read. */
  readonly x: string;
  /** GM's indices: the roles of the P ranks, in GM's axis order. */
  readonly pRoles: readonly string[];
  /** Role of each axis of X, SN and SD (a P role or M_ROLE). */
  readonly xRoles: readonly string[];
  readonly snRoles: readonly string[];
  readonly sdRoles: readonly string[];
  readonly mExtent: Expr;
}

/** A consumer Σ SN·w (SD)^power, spelled any linear way: rewritten into running accumulators. */
export interface WeightedSum {
  readonly einsum: Einsum;
  /** The statement with intermediate softmax tensors (A = SN / SD) substituted in, SD factored out. */
  readonly outer: (hole: Expr) => Expr;
  readonly sum: Reduce;
  readonly sdPower: number;
  /** Index of this statement for each role (P roles and M_ROLE). */
  readonly roleIndex: ReadonlyMap<string, string>;
  /** Elementwise tensors substituted in (A = SN / SD): removable when nothing else reads them. */
  readonly expanded: ReadonlySet<string>;
}

const plainIndices = (subs: readonly Expr[]): string[] | undefined =>
  subs.every((s) => s.k === 'index') ? subs.map((s) => (s as { name: string }).name) : undefined;

const einsumsOf = (k: KernelIR) => k.steps.filter((s): s is Einsum => s.kind === 'einsum');
const isPlain = (k: KernelIR, e: Einsum) =>
  k.tensors[e.tensor]?.iterativeAxis === undefined && plainIndices(e.subs) !== undefined;

/** Roles of an access's plain subscripts, given the roles of the tensor's axes; undefined if inconsistent. */
function bindRoles(access: Access, axisRoles: readonly string[], into: Map<string, string>): boolean {
  const names = plainIndices(access.subs);
  if (!names || names.length !== axisRoles.length) return false;
  return names.every((n, i) => {
    const known = into.get(n);
    if (known !== undefined && known !== axisRoles[i]) return false;
    into.set(n, axisRoles[i]!);
    return true;
  });
}

/** SN[P.., m] = exp(X[P.., m] − GM[P..]) for this GM, or undefined. */
function matchSn(
  kernel: KernelIR,
  gm: Einsum,
  x: string,
  xRoles: readonly string[],
  pRoles: readonly string[],
) {
  for (const sn of einsumsOf(kernel)) {
    if (!isPlain(kernel, sn) || sn.reduced.length > 0) continue;
    const b = sn.body;
    if (b.k !== 'call' || b.fn !== 'exp' || b.args[0]!.k !== 'binary' || b.args[0]!.op !== '-') continue;
    const { a, b: g } = b.args[0]!;
    if (a.k !== 'access' || a.tensor !== x || g.k !== 'access' || g.tensor !== gm.tensor) continue;
    const roles = new Map<string, string>();
    if (!bindRoles(a, xRoles, roles) || !bindRoles(g, pRoles, roles)) continue;
    const snRoles = plainIndices(sn.subs)!.map((n) => roles.get(n));
    if (snRoles.some((r) => r === undefined) || new Set(snRoles).size !== xRoles.length) continue;
    return { sn, snRoles: snRoles as string[] };
  }
  return undefined;
}

/** SD[P..] = Σ_m SN[P.., m]. */
function matchSd(kernel: KernelIR, sn: Einsum, snRoles: readonly string[], pCount: number) {
  for (const sd of einsumsOf(kernel)) {
    if (!isPlain(kernel, sd) || sd.reduce !== 'sum' || sd.reduced.length !== 1) continue;
    if (sd.body.k !== 'access' || sd.body.tensor !== sn.tensor) continue;
    const roles = new Map<string, string>();
    if (!bindRoles(sd.body, snRoles, roles) || roles.get(sd.reduced[0]!) !== M_ROLE) continue;
    const sdRoles = plainIndices(sd.subs)!.map((n) => roles.get(n));
    if (sdRoles.length !== pCount || sdRoles.some((r) => r === undefined || r === M_ROLE)) continue;
    return { sd, sdRoles: sdRoles as string[] };
  }
  return undefined;
}

/** Every chain GM → SN → SD of the kernel, in order of GM. */
export function findChains(kernel: KernelIR): SoftmaxChain[] {
  const out: SoftmaxChain[] = [];
  for (const gm of einsumsOf(kernel)) {
    if (!isPlain(kernel, gm) || gm.reduce !== 'max' || gm.reduced.length !== 1) continue;
    if (gm.body.k !== 'access' || kernel.tensors[gm.body.tensor]?.iterativeAxis !== undefined) continue;
    const pRoles = plainIndices(gm.subs)!;
    const m = gm.reduced[0]!;
    const xNames = plainIndices(gm.body.subs);
    if (!xNames || new Set(xNames).size !== xNames.length || xNames.length !== pRoles.length + 1) continue;
    if (!pRoles.every((p) => xNames.includes(p)) || !xNames.includes(m)) continue;
    const xRoles = xNames.map((n) => (n === m ? M_ROLE : n));
    const x = gm.body.tensor;
    const snMatch = matchSn(kernel, gm, x, xRoles, pRoles);
    if (!snMatch) continue;
    const sdMatch = matchSd(kernel, snMatch.sn, snMatch.snRoles, pRoles.length);
    if (!sdMatch) continue;
    const mExtent = gm.ranges.find((r) => r.name === m)!.extent;
    out.push({ gm, x, pRoles, xRoles, mExtent, ...snMatch, ...sdMatch });
  }
  return out;
}

/** Elementwise tensors built from SN (A = SN / SD, and tensors built from those): substitutable. */
export function softmaxTensors(kernel: KernelIR, chain: SoftmaxChain): Map<string, Einsum> {
  const found = new Map<string, Einsum>();
  for (const e of einsumsOf(kernel)) {
    if (e === chain.sn || !isPlain(kernel, e) || e.reduced.length > 0) continue;
    let inner = false;
    walkExpr(e.body, (x) => (inner ||= x.k === 'reduce'));
    const sources = new Set([chain.sn.tensor, ...found.keys()]);
    if (!inner && readsAny(e.body, sources) && !readsAny(e.body, new Set([chain.gm.tensor])))
      found.set(e.tensor, e);
  }
  return found;
}

/** Substitute softmax tensors into `e` (A[p, n] → A's body with its indices renamed), transitively. */
function expand(e: Expr, softmax: ReadonlyMap<string, Einsum>, used: Set<string>): Expr {
  let changed = true;
  let out = e;
  while (changed) {
    changed = false;
    out = substituteAccesses(out, softmax, used, () => (changed = true));
  }
  return out;
}

function substituteAccesses(
  e: Expr,
  softmax: ReadonlyMap<string, Einsum>,
  used: Set<string>,
  mark: () => void,
): Expr {
  const mapAccess = (x: Expr): Expr => {
    if (x.k !== 'access' || !softmax.has(x.tensor)) return x;
    const def = softmax.get(x.tensor)!;
    const names = plainIndices(def.subs)!;
    used.add(x.tensor);
    mark();
    return substituteIndices(def.body, new Map(names.map((n, i) => [n, x.subs[i]!])));
  };
  // Bottom-up so nested reads are handled before their parents see them.
  const rec = (x: Expr): Expr => {
    switch (x.k) {
      case 'access':
        return mapAccess({ ...x, subs: x.subs.map(rec) });
      case 'neg':
        return { ...x, a: rec(x.a) };
      case 'binary':
        return { ...x, a: rec(x.a), b: rec(x.b) };
      case 'call':
        return { ...x, args: x.args.map(rec) };
      case 'reduce':
        return { ...x, body: rec(x.body) };
      default:
        return x;
    }
  };
  return rec(e);
}

/** Match a consumer as a weighted sum over m of the chain, or undefined. */
export function matchWeightedSum(
  kernel: KernelIR,
  chain: SoftmaxChain,
  softmax: ReadonlyMap<string, Einsum>,
  e: Einsum,
): WeightedSum | undefined {
  if (!isPlain(kernel, e) || (e.reduced.length > 0 && e.reduce !== 'sum')) return undefined;
  const lhs = plainIndices(e.subs)!;
  const whole: Expr =
    e.reduced.length > 0 ? { k: 'reduce', op: 'sum', indices: e.reduced, body: e.body } : e.body;
  const expanded = new Set<string>();
  const body = expand(whole, softmax, expanded);
  const snReads = accessesOf(body, chain.sn.tensor);
  if (snReads.length !== 1) return undefined;
  const roleIndex = new Map<string, string>();
  const names = plainIndices(snReads[0]!.subs);
  if (!names) return undefined;
  names.forEach((n, i) => roleIndex.set(chain.snRoles[i]!, n));
  if (!chain.pRoles.every((r) => lhs.includes(roleIndex.get(r)!))) return undefined;
  const sdIndices = chain.sdRoles.map((r) => roleIndex.get(r)!);
  const isSd = (a: Access) =>
    a.tensor === chain.sd.tensor && a.subs.every((s, i) => s.k === 'index' && s.name === sdIndices[i]);
  const { power, rest } = peelFactor(body, isSd);
  const chainTensors = new Set([chain.gm.tensor, chain.sn.tensor, chain.sd.tensor]);
  const split = splitAtSum(rest, chain.sn.tensor, chainTensors);
  if (!split || !split.sum.indices.includes(roleIndex.get(M_ROLE)!)) return undefined;
  if (!linearIn(split.sum.body, chain.sn.tensor, chainTensors)) return undefined;
  return { einsum: e, outer: split.outer, sum: split.sum, sdPower: power, roleIndex, expanded };
}
