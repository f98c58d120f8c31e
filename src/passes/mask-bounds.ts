// Causal attention without the masked half. A loop `for m { QK[m] = select(m <= p + M - P, S[m], -inf) }`
// proves QK is −inf at every m ≥ L = p + M − P + 1. From there:
//  - a reduction whose term is its identity beyond L stops at L (max of −inf, sum of
//    exp(−inf − GM) = 0, sum of 0·V[m, f]);
//  - a loop storing a buffer that is constant beyond L gives a new fact (SN = exp(QK − GM) = 0);
//  - a loop producing a local buffer whose every read is in loops already stopped at L stops at
//    L too (S's dot products, the masked stores themselves), to a fixpoint.
// Results are bit-identical for finite inputs: skipped terms are exact identities (x + 0 = x,
// max(x, −inf) = x); only an inf or NaN in V at a masked position would have reached the output.
// A loop keeps its constant extent and gets `bound: L`; it runs min(extent, L) iterations. Part of
// the `bounds` pass (dynamic-bounds.ts runs it after its own proof).
import { printIndex } from '../ir/loop-print.js';
import { iadd, ic, isub, type IExpr, type LoopKernel, type Stmt, type VExpr } from '../ir/loops.js';
import { affineForm, coefficientOf, gathersOf, loadsOf, simplifyIndex, substitute } from './index-algebra.js';

type ForStmt = Extract<Stmt, { k: 'for' }>;
/** What an expression is beyond the bound: a known constant, or some finite value. */
type Beyond = number | 'finite' | 'unknown';

interface Fact {
  readonly buffer: string;
  /** The buffer's index with the loop variable replaced by `#`. */
  readonly pattern: string;
  readonly value: number;
}

const IDENTITY = { sum: 0, prod: 1, max: -Infinity, min: Infinity } as const;
const HOLE = '#';

/** A value built from integers (`f32(p) + 512`) as an index expression. */
export function asInt(e: VExpr): IExpr | undefined {
  if (e.k === 'int') return e.a;
  if (e.k === 'const') return Number.isInteger(e.v) ? ic(e.v) : undefined;
  if (e.k !== 'binary' || !['+', '-', '*'].includes(e.fn)) return undefined;
  const a = asInt(e.a);
  const b = asInt(e.b);
  if (!a || !b) return undefined;
  return e.fn === '+' ? iadd(a, b) : e.fn === '-' ? isub(a, b) : { k: 'mul', a, b };
}

/** `cond` as "v < L" (below) or "v ≥ L" (atLeast) with L free of v. */
function splitCondition(cond: VExpr, v: string): { below: boolean; at: IExpr } | undefined {
  if (cond.k !== 'binary' || !['<', '<=', '>', '>='].includes(cond.fn)) return undefined;
  const a = asInt(cond.a);
  const b = asInt(cond.b);
  if (!a || !b) return undefined;
  const diff = isub(a, b); // cond compares diff with 0
  const c = coefficientOf(diff, v);
  if (c !== 1 && c !== -1) return undefined;
  const rest = substitute(diff, v, ic(0)); // diff = c·v + rest
  const neg = isub(ic(0), rest);
  // c = 1: v ⋚ −rest; c = −1: v ⋚ rest with the comparison flipped.
  const fn = c === 1 ? cond.fn : ({ '<': '>', '<=': '>=', '>': '<', '>=': '<=' } as const)[cond.fn as '<'];
  const k = c === 1 ? neg : rest;
  switch (fn) {
    case '<':
      return { below: true, at: k };
    case '<=':
      return { below: true, at: iadd(k, ic(1)) };
    case '>':
      return { below: false, at: iadd(k, ic(1)) };
    default:
      return { below: false, at: k };
  }
}

const patternOf = (index: IExpr, v: string) => printIndex(substitute(index, v, { k: 'var', name: HOLE }));

function beyond(e: VExpr, v: string, facts: readonly Fact[]): Beyond {
  switch (e.k) {
    case 'const':
      return e.v;
    case 'reg':
    case 'int':
      return 'finite';
    case 'load': {
      const f = facts.find((x) => x.buffer === e.buffer && x.pattern === patternOf(e.index, v));
      return f ? f.value : 'finite';
    }
    case 'unary': {
      const a = beyond(e.a, v, facts);
      if (e.fn === 'exp' && a === -Infinity) return 0;
      if (e.fn === 'neg' && typeof a === 'number') return -a;
      return a === 'finite' && e.fn === 'neg' ? 'finite' : 'unknown';
    }
    case 'binary': {
      const a = beyond(e.a, v, facts);
      const b = beyond(e.b, v, facts);
      if (typeof a === 'number' && typeof b === 'number') {
        const r = { '+': a + b, '-': a - b, '*': a * b }[e.fn as '+'];
        return r === undefined || Number.isNaN(r) ? 'unknown' : r;
      }
      const inf = (x: Beyond) => x === Infinity || x === -Infinity;
      if ((e.fn === '+' || e.fn === '-') && inf(a) && b === 'finite') return a;
      if (e.fn === '-' && a === 'finite' && inf(b)) return -(b as number);
      if (e.fn === '*' && ((a === 0 && b === 'finite') || (b === 0 && a === 'finite'))) return 0;
      // 0 / d = 0 for the finite, non-zero divisors of a softmax (its denominator is ≥ 1).
      if (e.fn === '/' && a === 0 && b === 'finite') return 0;
      if (e.fn === '/' && inf(a) && e.b.k === 'const' && e.b.v > 0) return a;
      return 'unknown';
    }
    case 'select': {
      // Both sides agree (`where(RM == -inf, 0, exp(BQK - RM))`: 0 either way), whichever is taken.
      const a = beyond(e.a, v, facts);
      return typeof a === 'number' && a === beyond(e.b, v, facts) ? a : 'unknown';
    }
  }
}

interface LoopInfo {
  readonly loop: ForStmt;
  readonly parents: readonly ForStmt[];
}

/**
 * Tightened bounds: for each loop proven to do nothing (or nothing read) at iterations ≥ L, the
 * exclusive bound L (to be clamped to the extent). Kernels without a mask get an empty map.
 */
export function maskBounds(kernel: LoopKernel): Map<ForStmt, IExpr> {
  const bounds = new Map<ForStmt, IExpr>();
  const locals = new Set(kernel.locals.map((l) => l.name));
  const loops: LoopInfo[] = [];
  const storeCount = new Map<string, number>();
  const reads: { buffer: string; index: IExpr; parents: readonly ForStmt[] }[] = [];
  const walk = (stmts: readonly Stmt[], parents: readonly ForStmt[]) => {
    for (const s of stmts) {
      const value =
        s.k === 'let' || s.k === 'set' || s.k === 'reduce' || s.k === 'store' ? s.value : undefined;
      if (value) loadsOf(value, (buffer, index) => reads.push({ buffer, index, parents }));
      if (s.k === 'store') storeCount.set(s.buffer, (storeCount.get(s.buffer) ?? 0) + 1);
      if (s.k === 'contract') storeCount.set(s.out, 2);
      if (s.k === 'if') walk(s.body, parents);
      if (s.k === 'for') {
        loops.push({ loop: s, parents });
        walk(s.body, [...parents, s]);
      }
    }
  };
  walk(kernel.body, []);

  for (const { loop, parents } of loops) {
    const [store] = loop.body;
    if (loop.body.length !== 1 || store?.k !== 'store' || store.value.k !== 'select') continue;
    if (storeCount.get(store.buffer) !== 1 || coefficientOf(store.index, loop.var) === 0) continue;
    const cond = splitCondition(store.value.cond, loop.var);
    // The masked part must be the tail of the loop (m ≥ L), with a constant there (−inf: `-(inf)`).
    // L may read a scalar (`pos[0]`) the kernel never stores: it is the same at every loop it bounds.
    if (!cond?.below || affineForm(cond.at).opaqueVars.size > 0 || readsStored(cond.at)) continue;
    const masked = beyond(store.value.b, loop.var, []);
    if (typeof masked !== 'number') continue;
    tighten(loop, parents, simplifyIndex(cond.at), {
      buffer: store.buffer,
      pattern: patternOf(store.index, loop.var),
      value: masked,
    });
  }
  return bounds;

  function readsStored(e: IExpr): boolean {
    let stored = false;
    gathersOf(e, (buffer) => (stored ||= storeCount.has(buffer)));
    return stored;
  }

  function tighten(mask: ForStmt, context: readonly ForStmt[], at: IExpr, first: Fact): void {
    const facts: Fact[] = [first];
    // Loops in the same iteration of the mask's enclosing loops (L is defined there).
    const inContext = (info: LoopInfo) => context.every((p, i) => info.parents[i] === p);
    const start = loops.findIndex((l) => l.loop === mask);
    // Facts and reductions after the mask, in program order (facts only flow forward).
    for (const info of loops.slice(start + 1)) {
      const { loop } = info;
      if (!inContext(info) || loop.extent !== mask.extent || loop.body.length !== 1) continue;
      const [s] = loop.body;
      if (s?.k === 'reduce' && beyond(s.value, loop.var, facts) === IDENTITY[s.op]) bounds.set(loop, at);
      if (s?.k === 'store' && storeCount.get(s.buffer) === 1 && coefficientOf(s.index, loop.var) !== 0) {
        const b = beyond(s.value, loop.var, facts);
        if (typeof b === 'number')
          facts.push({ buffer: s.buffer, pattern: patternOf(s.index, loop.var), value: b });
      }
    }
    // Producers of local buffers read only inside stopped loops, to a fixpoint.
    for (let changed = true; changed;) {
      changed = false;
      for (const info of loops) {
        const { loop } = info;
        if (bounds.has(loop) || loop.extent !== mask.extent || !inContext(info)) continue;
        const stored = producedBuffer(loop);
        if (!stored || !locals.has(stored.buffer) || storeCount.get(stored.buffer) !== 1) continue;
        const pattern = patternOf(stored.index, loop.var);
        const readsOk = reads
          .filter((r) => r.buffer === stored.buffer)
          .every((r) => r.parents.some((p) => bounds.get(p) === at && patternOf(r.index, p.var) === pattern));
        if (readsOk) {
          bounds.set(loop, at);
          changed = true;
        }
      }
    }
  }
}

/** The one buffer a loop stores to, at an index that moves with the loop variable. */
function producedBuffer(loop: ForStmt): { buffer: string; index: IExpr } | undefined {
  let found: { buffer: string; index: IExpr } | undefined;
  let ok = true;
  const own = new Set<string>();
  const visit = (stmts: readonly Stmt[]) => {
    for (const s of stmts) {
      // Registers that live on after the loop would miss the skipped iterations.
      if (s.k === 'let') own.add(s.name);
      if ((s.k === 'set' || s.k === 'reduce') && !own.has(s.name)) ok = false;
      if (s.k === 'store') {
        if (found || coefficientOf(s.index, loop.var) === 0) ok = false;
        found = { buffer: s.buffer, index: s.index };
      } else if (s.k === 'for' || s.k === 'if') visit(s.body);
      else if (s.k === 'contract' || s.k === 'barrier') ok = false;
    }
  };
  visit(loop.body);
  return ok ? found : undefined;
}

function withBounds(stmts: readonly Stmt[], bounds: ReadonlyMap<ForStmt, IExpr>): Stmt[] {
  return stmts.map((s) => {
    if (s.k === 'if') return { ...s, body: withBounds(s.body, bounds) };
    if (s.k !== 'for') return s;
    const bound = bounds.get(s);
    return { ...s, body: withBounds(s.body, bounds), ...(bound ? { bound } : {}) };
  });
}

/** The kernel with its masked loops bounded (see the header); a bound already set is replaced. */
export function tightenMaskedLoops(kernel: LoopKernel): LoopKernel {
  const bounds = maskBounds(kernel);
  return bounds.size === 0 ? kernel : { ...kernel, body: withBounds(kernel.body, bounds) };
}
