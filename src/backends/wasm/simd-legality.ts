// When a Loop IR loop may run four iterations at once (f32x4), and how. Two shapes:
//  - lane loops: every iteration's stores are unit-stride in the loop variable and no iteration
//    reads what another one writes (each load of a stored buffer is at the store's exact index);
//    inner loops run once for four lanes (outer-loop vectorisation: `AV[f] = Σm SN[m]·V[m, f]`);
//  - reductions: `for y { acc op= value }` with value's loads unit-stride or invariant in y, run
//    with several vector accumulators and a horizontal reduction (`Σe Q[p, e]·K[m, e]`).
// Both sides of a `select` run in vector code, so loads under a select must be proven in range.
import type { IExpr, Stmt, VExpr } from '../../ir/loops.js';
import {
  coefficientOf,
  constantDifference,
  differenceStride,
  hasGather,
  loadsOf,
  regsOf,
} from '../../passes/index-algebra.js';
import type { ForStmt, ScalarHooks } from './emit-hooks.js';

export interface PrivateCell {
  readonly buffer: string;
  readonly index: IExpr;
  readonly reg: string;
}

export interface LanePlan {
  readonly laneRegs: ReadonlySet<string>;
  readonly privates: readonly PrivateCell[];
  /** Whether the body holds inner loops or transcendental calls (chooses the unroll). */
  readonly innerLoops: boolean;
  readonly transcendental: boolean;
}

/** Lanes of the widest chunk a lane loop runs (4 groups of f32x4; vectorize.ts). */
export const MAX_CHUNK = 16;

const TRANSCENDENTAL = new Set(['exp', 'tanh', 'erf', 'sigmoid', 'log', 'pow']);

/** Bounds of an integer expression over the loop variables' ranges, or undefined (a gather, an unknown variable). */
function rangeOf(e: IExpr, h: ScalarHooks): [number, number] | undefined {
  switch (e.k) {
    case 'const':
      return [e.v, e.v];
    case 'var': {
      const n = h.extentOf(e.name);
      return n === undefined ? undefined : [0, n - 1];
    }
    case 'iload':
      return undefined;
    default: {
      const a = rangeOf(e.a, h);
      const b = rangeOf(e.b, h);
      if (!a || !b) return undefined;
      switch (e.k) {
        case 'add':
          return [a[0] + b[0], a[1] + b[1]];
        case 'sub':
          return [a[0] - b[1], a[1] - b[0]];
        case 'mul': {
          const p = [a[0] * b[0], a[0] * b[1], a[1] * b[0], a[1] * b[1]];
          return [Math.min(...p), Math.max(...p)];
        }
        case 'min':
          return [Math.min(a[0], b[0]), Math.min(a[1], b[1])];
        case 'mod':
          return b[0] > 0 && a[0] >= 0 ? [0, b[1] - 1] : undefined;
        case 'div':
          return b[0] > 0 && a[0] >= 0 ? [Math.floor(a[0] / b[1]), Math.floor(a[1] / b[0])] : undefined;
      }
    }
  }
}

/** A load that vector code may run even where the scalar code would not (a masked select branch). */
function safeToSpeculate(buffer: string, index: IExpr, h: ScalarHooks): boolean {
  if (hasGather(index)) return false;
  const r = rangeOf(index, h);
  const n = h.bufferElements(buffer);
  return r !== undefined && n !== undefined && r[0] >= 0 && r[1] < n;
}

/** Whether a value can be evaluated per lane of `lane` (loads unit-stride or invariant, linear ints). */
export function vectorValueOk(e: VExpr, lane: string, h: ScalarHooks, speculated = false): boolean {
  switch (e.k) {
    case 'const':
    case 'reg':
      return true;
    case 'load': {
      const c = coefficientOf(e.index, lane);
      if (c !== 0 && c !== 1) return false;
      return !speculated || safeToSpeculate(e.buffer, e.index, h);
    }
    case 'int':
      return coefficientOf(e.a, lane) !== undefined && !(speculated && hasGather(e.a));
    case 'unary':
      return vectorValueOk(e.a, lane, h, speculated);
    case 'binary':
      return vectorValueOk(e.a, lane, h, speculated) && vectorValueOk(e.b, lane, h, speculated);
    case 'select':
      return (
        vectorValueOk(e.cond, lane, h, speculated) &&
        vectorValueOk(e.a, lane, h, true) &&
        vectorValueOk(e.b, lane, h, true)
      );
  }
}

function transcendental(e: VExpr): boolean {
  switch (e.k) {
    case 'unary':
      return TRANSCENDENTAL.has(e.fn) || transcendental(e.a);
    case 'binary':
      return TRANSCENDENTAL.has(e.fn) || transcendental(e.a) || transcendental(e.b);
    case 'select':
      return transcendental(e.cond) || transcendental(e.a) || transcendental(e.b);
    default:
      return false;
  }
}

interface Access {
  readonly buffer: string;
  readonly index: IExpr;
  /** Position of the top-level statement of the loop body that holds it. */
  readonly top: number;
}

/** The plan for running `loop` as a lane loop, or undefined when some iteration depends on another. */
export function planLaneLoop(loop: ForStmt, h: ScalarHooks): LanePlan | undefined {
  const lane = loop.var;
  const laneRegs = new Set<string>();
  const stores: Access[] = [];
  const loads: Access[] = [];
  let innerLoops = false;
  let heavy = false;
  let ok = true;
  const value = (v: VExpr, top: number) => {
    for (const r of regsOf(v)) if (!laneRegs.has(r) && definedInside.has(r)) ok = false; // read before its let
    if (!vectorValueOk(v, lane, h)) ok = false;
    if (transcendental(v)) heavy = true;
    loadsOf(v, (buffer, index) => loads.push({ buffer, index, top }));
  };
  const definedInside = new Set<string>();
  const collectDefs = (stmts: readonly Stmt[]) => {
    for (const s of stmts) {
      if (s.k === 'let' || s.k === 'set' || s.k === 'reduce') definedInside.add(s.name);
      if (s.k === 'for' || s.k === 'if') collectDefs(s.body);
    }
  };
  collectDefs(loop.body);
  const walk = (stmts: readonly Stmt[], top: number | undefined) => {
    stmts.forEach((s, i) => {
      const at = top ?? i;
      switch (s.k) {
        case 'let':
          value(s.value, at);
          laneRegs.add(s.name);
          return;
        case 'set':
        case 'reduce':
          if (!laneRegs.has(s.name)) ok = false;
          value(s.value, at);
          return;
        case 'store': {
          const c = coefficientOf(s.index, lane);
          if (c !== 1 && !(c === 0 && top === undefined && h.isLocalBuffer(s.buffer))) ok = false;
          value(s.value, at);
          stores.push({ buffer: s.buffer, index: s.index, top: at });
          return;
        }
        case 'for':
          innerLoops = true;
          walk(s.body, at);
          return;
        case 'if':
          if (coefficientOf(s.cond.a, lane) !== 0 || coefficientOf(s.cond.lt, lane) !== 0) ok = false;
          walk(s.body, at);
          return;
        default:
          ok = false;
      }
    });
  };
  walk(loop.body, undefined);
  if (!ok || stores.length === 0) return undefined;
  const privates: PrivateCell[] = [];
  for (const st of stores) {
    const sameBuffer = loads.filter((l) => l.buffer === st.buffer);
    if (coefficientOf(st.index, lane) === 0) {
      // A per-iteration scratch cell (`U[0] = …; G[h] = f(U[0])`): a lane register, if nothing
      // outside the loop reads it and every read here comes after the store at the same index.
      const sameIndex = (i: IExpr) => constantDifference(i, st.index) === 0;
      const fine =
        sameBuffer.every((l) => sameIndex(l.index) && l.top > st.top) &&
        stores.every((o) => o.buffer !== st.buffer || sameIndex(o.index)) &&
        h.loadCount(st.buffer) === sameBuffer.length;
      if (!fine) return undefined;
      if (!privates.some((p) => p.buffer === st.buffer))
        privates.push({ buffer: st.buffer, index: st.index, reg: `${st.buffer}#cell` });
      continue;
    }
    // Lanes may only meet at the very same element (read-modify-write), or a whole chunk apart:
    // a difference that is always a multiple of ≥ 16 elements (the mod-2 generations of an online
    // update, RNV[(m1 + 1) % 2, f] = RNV[m1 % 2, f]·…) never lands inside a 16-lane chunk, so
    // every read sees what the scalar order would (notes: XNNPACK's x16 chunk is our largest).
    const apart = (i: IExpr) => {
      const d = differenceStride(i, st.index);
      return d === 0 || (!innerLoops && d >= MAX_CHUNK);
    };
    if (!sameBuffer.every((l) => apart(l.index))) return undefined;
    if (!stores.every((o) => o.buffer !== st.buffer || apart(o.index))) return undefined;
  }
  return { laneRegs, privates, innerLoops, transcendental: heavy };
}

export interface ReductionShape {
  readonly acc: string;
  readonly op: 'sum' | 'prod' | 'max' | 'min';
  readonly value: VExpr;
}

/** `for y { acc op= value }` whose value vectorises along y and does not read acc. */
export function reductionShape(loop: ForStmt, h: ScalarHooks): ReductionShape | undefined {
  const [s] = loop.body;
  if (loop.body.length !== 1 || s?.k !== 'reduce') return undefined;
  if (regsOf(s.value).has(s.name) || !vectorValueOk(s.value, loop.var, h)) return undefined;
  return { acc: s.name, op: s.op, value: s.value };
}

export interface RowJam {
  readonly reduction: ReductionShape;
  readonly inner: ForStmt;
  readonly init: number;
  /** Statements after the reduction, run per row in scalar code. */
  readonly post: readonly Stmt[];
}

/**
 * `for x { let acc = c; for y { acc op= value }; post }`: rows x are independent dot products
 * (`S[m] = Σe Q[p, e]·K[m, e]`), so four of them run together and share the loads that do not
 * depend on x (Q), like a 4×1 GEMV tile. `post` may not touch what the reduction reads.
 */
export function rowJamShape(loop: ForStmt, h: ScalarHooks): RowJam | undefined {
  const [first, inner, ...post] = loop.body;
  if (first?.k !== 'let' || first.value.k !== 'const' || inner?.k !== 'for') return undefined;
  const reduction = reductionShape(inner, h);
  if (!reduction || reduction.acc !== first.name) return undefined;
  let linear = true;
  loadsOf(reduction.value, (_, index) => {
    if (coefficientOf(index, loop.var) === undefined) linear = false;
  });
  if (!linear) return undefined;
  const read = new Set<string>();
  loadsOf(reduction.value, (buffer) => read.add(buffer));
  const readRegs = regsOf(reduction.value);
  const clean = (stmts: readonly Stmt[]): boolean =>
    stmts.every((s) => {
      if (s.k === 'for' || s.k === 'contract' || s.k === 'barrier') return false;
      if (s.k === 'store' && read.has(s.buffer)) return false;
      if ((s.k === 'let' || s.k === 'set' || s.k === 'reduce') && readRegs.has(s.name)) return false;
      return s.k !== 'if' || clean(s.body);
    });
  if (!clean(post)) return undefined;
  return { reduction, inner, init: first.value.v, post };
}
