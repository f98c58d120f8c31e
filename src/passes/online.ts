// online: rewrite FuseMax's 3-pass softmax chain (Cascade 4: GM = max_m X, SN = exp(X − GM),
// SD = Σ_m SN, then weighted sums, logsumexp or softmax outputs) into the iterative 1-pass form
// (Cascade 5) with a running max and rescaled running sums — the online softmax of Milakov &
// Gimelshein (arXiv 1805.02867) as FlashAttention-2 blocks it. Applied only when passcount says the
// number of passes over M of the chain and its readers goes down; every choice is returned as a
// decision with the alternative's cost.
import type { Einsum, KernelIR, RankInfo } from '../ir/cascade.js';
import { walkExpr } from '../ir/expr.js';
import { sizeKey } from '../ir/sizes.js';
import { printExpr } from '../frontend/print-expr.js';
import { accessesOf, hasInfinity, readsAny } from './online-algebra.js';
import { buildOnePass } from './online-build.js';
import {
  findChains,
  matchWeightedSum,
  softmaxTensors,
  type SoftmaxChain,
  type WeightedSum,
} from './online-match.js';
import { takenNames } from './online-ranges.js';
import { passesOver, passesWithin, type PasscountContext } from './passcount.js';
import { rankValues, tryEval, type RankValueSource } from './passcount-consequence.js';
import type { Decision } from './decisions.js';

export interface OnlineContext {
  /** Values of symbolic ranks; the block size must divide M, so M's value picks it. */
  readonly ranks?: RankValueSource;
  readonly globalRanks?: readonly RankInfo[];
  /** Block size M0 for a rank of this many elements; it must divide it. */
  readonly blockSize?: (extent: number) => number;
  /** −∞ guards: 'auto' adds them when X's definition can produce −∞ (an `inf` in it, a mask). */
  readonly guards?: 'auto' | 'always' | 'never';
}

export interface OnlineDecision extends Decision {
  readonly pass: 'online';
  readonly alternativeCost: string;
}

export interface OnlineResult {
  /** The rewritten kernel, or the input object itself when nothing was rewritten. */
  readonly kernel: KernelIR;
  readonly decisions: readonly OnlineDecision[];
}

/** Decision: without a choice from ctx, the largest divisor of M up to 64 — a FlashAttention-sized tile that keeps M_1 = M / M0 exact; M0 = 1 (prime M) is the per-element online softmax. */
export const MAX_DEFAULT_BLOCK = 64;

export function largestDivisorAtMost(n: number, cap: number): number {
  for (let d = Math.min(n, cap); d > 1; d--) if (n % d === 0) return d;
  return 1;
}

export function online(kernel: KernelIR, ctx: OnlineContext = {}): OnlineResult {
  let current = kernel;
  const decisions: OnlineDecision[] = [];
  const declined = new Set<string>();
  for (;;) {
    const chain = findChains(current).find((c) => !declined.has(c.gm.tensor));
    if (!chain) break;
    const attempt = rewriteChain(current, chain, ctx);
    decisions.push(attempt.decision);
    if (attempt.kernel) current = attempt.kernel;
    else declined.add(chain.gm.tensor);
  }
  return { kernel: current, decisions };
}

const readersOf = (kernel: KernelIR, t: string): Einsum[] =>
  kernel.steps.filter((s): s is Einsum => s.kind === 'einsum' && accessesOf(s.body, t).length > 0);
const readCount = (kernel: KernelIR, t: string) =>
  kernel.steps.reduce(
    (n, s) => n + (s.kind === 'einsum' ? accessesOf(s.body, t).length : s.args.filter((a) => a === t).length),
    0,
  );

/** Does any Einsum in the producer cone of `t` write an `inf` (a mask)? */
function mayBeNegInfinite(kernel: KernelIR, t: string, seen = new Set<string>()): boolean {
  if (seen.has(t)) return false;
  seen.add(t);
  const def = kernel.steps.find((s): s is Einsum => s.kind === 'einsum' && s.tensor === t);
  if (!def) return false;
  if (hasInfinity(def.body)) return true;
  let found = false;
  walkExpr(def.body, (x) => (found ||= x.k === 'access' && mayBeNegInfinite(kernel, x.tensor, seen)));
  return found;
}

/** Tensors computed from `root`, transitively (steps are in dependency order). */
function downstreamOf(kernel: KernelIR, root: string): Set<string> {
  const found = new Set([root]);
  for (const s of kernel.steps) {
    if (s.kind === 'call') {
      if (s.args.some((a) => found.has(a))) s.outputs.forEach((o) => found.add(o));
    } else if (readsAny(s.body, found)) found.add(s.tensor);
  }
  return found;
}

/** Fresh ranks for the number of blocks and the block size, whose lowercase names are free as indices. */
function blockRanks(chain: SoftmaxChain, taken: Set<string>) {
  const m = chain.gm.reduced[0]!;
  const base = chain.mExtent.k === 'rank' ? chain.mExtent.name : m.toUpperCase();
  for (let n = 1; ; n++) {
    const sfx = n === 1 ? '' : `_${n}`;
    const names = [`${base}_1${sfx}`, `${base}_0${sfx}`];
    if (names.some((x) => taken.has(x) || taken.has(x.toLowerCase()))) continue;
    names.forEach((x) => (taken.add(x), taken.add(x.toLowerCase())));
    return { outer: names[0]!, inner: names[1]! };
  }
}

function rewriteChain(
  kernel: KernelIR,
  chain: SoftmaxChain,
  ctx: OnlineContext,
): { kernel?: KernelIR; decision: OnlineDecision } {
  const M = printExpr(chain.mExtent);
  const subject = `softmax chain ${chain.gm.tensor} → ${chain.sn.tensor} → ${chain.sd.tensor} over ${M} in ${kernel.name}`;
  const pctx: PasscountContext = { ranks: ctx.ranks, globalRanks: ctx.globalRanks };
  const key = sizeKey(chain.mExtent);
  // Judged on the chain's own region (what depends on GM before, on the running max after), so two
  // chains in one kernel each improve even while the other keeps the kernel-wide count at 3.
  const { passes: before, consequence } = passesWithin(
    kernel,
    key,
    downstreamOf(kernel, chain.gm.tensor),
    pctx,
  );
  const costBefore = consequence?.text ?? `${before} passes over ${M}`;

  const mValue = tryEval(chain.mExtent, rankValues(kernel, ctx.ranks, ctx.globalRanks));
  const asked = mValue !== undefined ? ctx.blockSize?.(mValue) : undefined;
  if (asked !== undefined && !(Number.isInteger(asked) && asked >= 1 && mValue! % asked === 0))
    return {
      decision: {
        pass: 'online',
        subject,
        choice: `kept the ${before}-pass cascade`,
        why: `the requested block size ${asked} does not divide ${M} = ${mValue}`,
        alternativeCost: costBefore,
      },
    };
  const blockSize = asked ?? (mValue !== undefined ? largestDivisorAtMost(mValue, MAX_DEFAULT_BLOCK) : 1);

  const softmax = softmaxTensors(kernel, chain);
  // A kernel call is opaque here (the pipeline's `inline` pass runs first and removes calls).
  const chainNames = new Set([chain.gm.tensor, chain.sn.tensor, chain.sd.tensor, ...softmax.keys()]);
  const caller = kernel.steps.find((s) => s.kind === 'call' && s.args.some((a) => chainNames.has(a)));
  if (caller?.kind === 'call')
    return {
      decision: {
        pass: 'online',
        subject,
        choice: `kept the ${before}-pass cascade`,
        why: `kernel ${caller.kernel} is called with a tensor of the chain; inline the call first`,
        alternativeCost: costBefore,
      },
    };
  const chainSteps = new Set<Einsum>([chain.gm, chain.sn, chain.sd]);
  const weighted: WeightedSum[] = [];
  for (const s of kernel.steps) {
    if (s.kind !== 'einsum' || chainSteps.has(s) || softmax.has(s.tensor)) continue;
    const w = matchWeightedSum(kernel, chain, softmax, s);
    if (w) weighted.push(w);
  }
  const matched = new Set(weighted.map((w) => w.einsum));
  // A softmax tensor goes when it is no output and only absorbed weighted sums (or dropped ones) read it.
  const dropped = new Set<string>();
  for (const s of [...kernel.steps].reverse())
    if (s.kind === 'einsum' && softmax.has(s.tensor) && kernel.tensors[s.tensor]!.kind !== 'output')
      if (
        readersOf(kernel, s.tensor).every((r) => matched.has(r) || dropped.has(r.tensor)) &&
        readCount(kernel, s.tensor) > 0
      )
        dropped.add(s.tensor);
  const absorbsSn = (r: Einsum) => r === chain.sd || matched.has(r) || dropped.has(r.tensor);
  const keepSn =
    kernel.tensors[chain.sn.tensor]!.kind === 'output' ||
    !readersOf(kernel, chain.sn.tensor).every(absorbsSn);
  const xInfo = kernel.tensors[chain.x]!;
  const xDef = kernel.steps.find((s): s is Einsum => s.kind === 'einsum' && s.tensor === chain.x);
  const inlineX =
    !keepSn &&
    xDef !== undefined &&
    xInfo.kind === 'intermediate' &&
    xInfo.iterativeAxis === undefined &&
    xDef.subs.every((s) => s.k === 'index') &&
    readCount(kernel, chain.x) === 2;
  const guards = ctx.guards === 'always' || (ctx.guards !== 'never' && mayBeNegInfinite(kernel, chain.x));

  const taken = takenNames(kernel, ctx.globalRanks);
  const ranks = blockRanks(chain, taken);
  const { kernel: rewritten, runningMax } = buildOnePass(
    kernel,
    { chain, weighted, dropped, keepSn, inlineX, guards, blockSize, ranks },
    taken,
  );
  const after = passesWithin(rewritten, key, downstreamOf(rewritten, runningMax), pctx).passes;
  const kernelWide = passesOver(rewritten, key, pctx);
  const wholeKernel =
    kernelWide > after
      ? ` (the kernel as a whole still takes ${kernelWide}: other sweeps over ${M} do not depend on the chain)`
      : '';
  const blockWhy =
    asked !== undefined
      ? `${ranks.inner} = ${blockSize} as the context asked`
      : mValue === undefined
        ? `${ranks.inner} = 1 because ${M} is not bound at compile time and 1 divides every ${M} (the per-element online softmax)`
        : `${ranks.inner} = ${blockSize}, the largest divisor of ${M} = ${mValue} up to ${MAX_DEFAULT_BLOCK}`;
  if (after >= before)
    return {
      decision: {
        pass: 'online',
        subject,
        choice: `kept the ${before}-pass cascade`,
        why: `the online form would still take ${after} passes over ${M}`,
        alternativeCost: `the online form adds a rescale (exp(RM_old − RM_new)) per block and per running sum without saving a pass`,
      },
    };
  const parts = [
    weighted.length
      ? `${weighted.map((w) => w.einsum.tensor).join(', ')} accumulated per block and rescaled`
      : '',
    keepSn ? `${chain.sn.tensor} recomputed from the final running max (it is read elementwise)` : '',
    inlineX ? `${chain.x} computed blocked instead of stored` : '',
    guards ? `−∞ guards added (${chain.x} can be −∞: a mask)` : '',
  ].filter(Boolean);
  return {
    kernel: rewritten,
    decision: {
      pass: 'online',
      subject,
      choice: `${after}-pass online form (FuseMax Cascade 5) with ${ranks.outer} = ${M} / ${ranks.inner} blocks`,
      why: `passes over ${M} of the chain and its readers drop from ${before} to ${after}${wholeKernel}; ${blockWhy}; ${parts.join('; ')}`,
      alternativeCost: costBefore,
    },
  };
}
