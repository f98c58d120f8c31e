// dynamic-bounds: the `bounds` pass, one place for every masked loop's trip count. Per-token work
// proportional to `pos`: a loop over cache positions t whose body is masked by `t <= pos[]` (pos an
// i32 input read at run time) does nothing useful at t > pos: scores become −inf, max ignores −inf,
// exp(−inf − m) is 0, sums ignore 0. This pass proves that on the Loop IR and gives such loops a
// dynamic trip count `bound` (loops.ts), read by the Loop IR interpreter and every backend. Then
// mask-bounds.ts's pattern for a lone masked store (causal attention, `m <= p + M − P`) runs on the
// result and sets the bounds it proves (it replaces one set here, as when it ran in WASM codegen).
//
// The proof, for one group of loops: a mask comparison in a loop L, affine in L's variable v with
// coefficient ±1, is false from v = β on (β built from enclosing loop variables and i32 input
// scalars). The candidates are the loops of L's extent inside the region where β is fixed (the body
// of the innermost loop binding a variable of β). In program order, each candidate's body is
// evaluated abstractly for an iteration v ≥ β: comparisons with the mask are decided, values are
// constants or unknown, loads of buffers a stopped loop stored at the same index give the stored
// constant. A candidate stops at β when such an iteration changes nothing that lives on: its reductions
// into outer registers add their identity, its registers are its own, and what it stores is read only
// by stopped loops at the same (injective) index. Skipped terms are exact identities (x + 0 = x,
// max(x, −inf) = x), so results are bit-identical; a NaN poisons the result with or without the skip.
import { printIndex } from '../ir/loop-print.js';
import type { BufferDecl, IExpr, LoopKernel, LoopProgram, Stmt, VExpr } from '../ir/loops.js';
import { loadsOf } from './index-algebra.js';
import { tightenMaskedLoops } from './mask-bounds.js';

type ForStmt = Extract<Stmt, { k: 'for' }>;
type Abstract = number | 'unknown';
/** Σ coef·term + constant; terms keyed by their printed form. */
interface Linear {
  readonly terms: ReadonlyMap<string, { readonly coef: number; readonly expr: IExpr }>;
  readonly constant: number;
}

const IDENTITY = { sum: 0, prod: 1, max: -Infinity, min: Infinity } as const;
const HOLE = '#';

export function dynamicBounds(program: LoopProgram): LoopProgram {
  return {
    ...program,
    kernels: program.kernels.map((k) =>
      tightenMaskedLoops(boundKernel(k, program.buffers, readElsewhere(program, k))),
    ),
  };
}

/** Buffers that kernels other than `kernel` read: what it skips storing there, they would see. */
function readElsewhere(program: LoopProgram, kernel: LoopKernel): Set<string> {
  const read = new Set<string>();
  const visit = (stmts: readonly Stmt[]): void => {
    for (const s of stmts) {
      if (s.k === 'let' || s.k === 'set' || s.k === 'reduce' || s.k === 'store')
        loadsOf(s.value, (buffer) => read.add(buffer));
      if (s.k === 'contract') [s.a, s.b].forEach((b) => read.add(b));
      if (s.k === 'for' || s.k === 'if') visit(s.body);
    }
  };
  for (const k of program.kernels) if (k !== kernel) visit(k.body);
  return read;
}

function linearI(e: IExpr): Linear | undefined {
  switch (e.k) {
    case 'const':
      return { terms: new Map(), constant: e.v };
    case 'var':
    case 'iload':
      return { terms: new Map([[printIndex(e), { coef: 1, expr: e }]]), constant: 0 };
    case 'add':
    case 'sub': {
      const a = linearI(e.a);
      const b = linearI(e.b);
      return a && b ? combine(a, b, e.k === 'add' ? 1 : -1) : undefined;
    }
    case 'mul': {
      const a = linearI(e.a);
      const b = linearI(e.b);
      if (a && b && a.terms.size === 0) return scale(b, a.constant);
      if (a && b && b.terms.size === 0) return scale(a, b.constant);
      return undefined;
    }
    default:
      return undefined;
  }
}

/** An f32 value computed from integers (`f32(s_1) * 64 + f32(s_0)`), as a linear form. */
function linearV(e: VExpr): Linear | undefined {
  if (e.k === 'const') return Number.isInteger(e.v) ? { terms: new Map(), constant: e.v } : undefined;
  if (e.k === 'int') return linearI(e.a);
  if (e.k !== 'binary') return undefined;
  if (e.fn !== '+' && e.fn !== '-' && e.fn !== '*') return undefined;
  const a = linearV(e.a);
  const b = linearV(e.b);
  if (!a || !b) return undefined;
  if (e.fn === '*')
    return a.terms.size === 0 ? scale(b, a.constant) : b.terms.size === 0 ? scale(a, b.constant) : undefined;
  return combine(a, b, e.fn === '+' ? 1 : -1);
}

function scale(f: Linear, c: number): Linear {
  if (c === 0) return { terms: new Map(), constant: 0 };
  return {
    terms: new Map([...f.terms].map(([k, t]) => [k, { ...t, coef: t.coef * c }])),
    constant: f.constant * c,
  };
}

function combine(a: Linear, b: Linear, sign: 1 | -1): Linear {
  const terms = new Map(a.terms);
  for (const [k, t] of b.terms) {
    const coef = (terms.get(k)?.coef ?? 0) + sign * t.coef;
    if (coef === 0) terms.delete(k);
    else terms.set(k, { coef, expr: t.expr });
  }
  return { terms, constant: a.constant + sign * b.constant };
}

function toIExpr(f: Linear): IExpr {
  let e: IExpr = { k: 'const', v: f.constant };
  for (const { coef, expr } of f.terms.values()) {
    const term: IExpr = coef === 1 ? expr : { k: 'mul', a: { k: 'const', v: coef }, b: expr };
    e = e.k === 'const' && e.v === 0 ? term : { k: 'add', a: e, b: term };
  }
  return e;
}

function substitute(e: IExpr, v: string, by: IExpr): IExpr {
  switch (e.k) {
    case 'const':
      return e;
    case 'var':
      return e.name === v ? by : e;
    case 'iload':
      return { ...e, index: substitute(e.index, v, by) };
    default:
      return { ...e, a: substitute(e.a, v, by), b: substitute(e.b, v, by) };
  }
}

const patternOf = (index: IExpr, v: string) => printIndex(substitute(index, v, { k: 'var', name: HOLE }));
const COMPARISONS = new Set(['<', '<=', '>', '>=', '==', '!=']);

/** A comparison `a op b` as D = a − b = c·v + R with c = ±1, or undefined. */
function splitComparison(e: VExpr, v: string): { c: 1 | -1; rest: Linear; fn: string } | undefined {
  if (e.k !== 'binary' || !COMPARISONS.has(e.fn)) return undefined;
  const a = linearV(e.a);
  const b = linearV(e.b);
  if (!a || !b) return undefined;
  const d = combine(a, b, -1);
  const c = d.terms.get(v)?.coef;
  if (c !== 1 && c !== -1) return undefined;
  const terms = new Map(d.terms);
  terms.delete(v);
  return { c, rest: { terms, constant: d.constant }, fn: e.fn };
}

/** β: the comparison is false for every v ≥ β (a mask keeping the head of the loop), or undefined. */
function maskStart(e: VExpr, v: string): Linear | undefined {
  const s = splitComparison(e, v);
  if (!s) return undefined;
  const { c, rest, fn } = s;
  const negRest = scale(rest, -1);
  const plus = (f: Linear, k: number) => ({ ...f, constant: f.constant + k });
  if (c === 1 && fn === '<=') return plus(negRest, 1); // v + R ≤ 0 fails from v = 1 − R
  if (c === 1 && fn === '<') return negRest;
  if (c === -1 && fn === '>=') return plus(rest, 1); // R − v ≥ 0 fails from v = R + 1
  if (c === -1 && fn === '>') return rest;
  return undefined;
}

/** The comparison's value at every v ≥ β, when the mask decides it. */
function decide(e: VExpr, v: string, beta: Linear): number | undefined {
  const s = splitComparison(e, v);
  if (!s) return undefined;
  const delta = combine(scale(beta, s.c), s.rest, 1); // D at v = β
  if (delta.terms.size > 0) return undefined;
  const d = delta.constant; // c = 1: D ≥ d over the region; c = −1: D ≤ d
  const up = s.c === 1;
  const table: Record<string, [boolean, number] | undefined> = up
    ? {
        '<=': d >= 1 ? [true, 0] : undefined,
        '<': d >= 0 ? [true, 0] : undefined,
        '==': d >= 1 ? [true, 0] : undefined,
        '!=': d >= 1 ? [true, 1] : undefined,
        '>=': d >= 0 ? [true, 1] : undefined,
        '>': d >= 1 ? [true, 1] : undefined,
      }
    : {
        '>=': d <= -1 ? [true, 0] : undefined,
        '>': d <= 0 ? [true, 0] : undefined,
        '==': d <= -1 ? [true, 0] : undefined,
        '!=': d <= -1 ? [true, 1] : undefined,
        '<=': d <= 0 ? [true, 1] : undefined,
        '<': d <= -1 ? [true, 1] : undefined,
      };
  return table[s.fn]?.[1];
}

interface LoopInfo {
  readonly loop: ForStmt;
  readonly parents: readonly ForStmt[];
}

interface StoredFact {
  readonly buffer: string;
  readonly pattern: string;
  readonly value: Abstract;
}

function boundKernel(
  kernel: LoopKernel,
  buffers: readonly BufferDecl[],
  elsewhere: ReadonlySet<string>,
): LoopKernel {
  const loops: LoopInfo[] = [];
  const stored = new Set<string>();
  const loads: { buffer: string; index: IExpr; parents: readonly ForStmt[] }[] = [];
  const visitValue = (e: VExpr, parents: readonly ForStmt[]): void => {
    if (e.k === 'load') loads.push({ buffer: e.buffer, index: e.index, parents });
    if (e.k === 'unary') visitValue(e.a, parents);
    if (e.k === 'binary') [e.a, e.b].forEach((x) => visitValue(x, parents));
    if (e.k === 'select') [e.cond, e.a, e.b].forEach((x) => visitValue(x, parents));
  };
  const walk = (stmts: readonly Stmt[], parents: readonly ForStmt[]) => {
    for (const s of stmts) {
      if (s.k === 'let' || s.k === 'set' || s.k === 'reduce' || s.k === 'store') visitValue(s.value, parents);
      if (s.k === 'store') stored.add(s.buffer);
      if (s.k === 'contract')
        [s.out, s.a, s.b].forEach(
          (b) => (stored.add(b), loads.push({ buffer: b, index: { k: 'const', v: -1 }, parents })),
        );
      if (s.k === 'if') walk(s.body, parents);
      if (s.k === 'for') {
        loops.push({ loop: s, parents });
        walk(s.body, [...parents, s]);
      }
    }
  };
  walk(kernel.body, []);
  const roles = new Map(buffers.map((b) => [b.name, b.role]));
  const bounds = new Map<ForStmt, IExpr>();
  const decided = new Set<ForStmt>();

  for (const info of loops) {
    if (decided.has(info.loop) || !stoppable(info.loop)) continue;
    const beta = findMask(info);
    if (!beta) continue;
    // The region where β is fixed: inside the innermost enclosing loop that binds one of its variables.
    const depth = Math.max(0, ...info.parents.map((p, i) => (beta.terms.has(p.var) ? i + 1 : 0)));
    const region = info.parents.slice(0, depth);
    const candidates = loops.filter(
      (c) =>
        stoppable(c.loop) &&
        c.loop.extent === info.loop.extent &&
        c.parents.length >= depth &&
        region.every((p, i) => c.parents[i] === p) &&
        !info.parents.includes(c.loop),
    );
    candidates.forEach((c) => decided.add(c.loop));
    const group = proveGroup(candidates, beta);
    if (group) for (const c of group) bounds.set(c.loop, toIExpr(beta));
  }
  if (bounds.size === 0) return kernel;
  const rewrite = (s: Stmt): Stmt => {
    if (s.k === 'if') return { ...s, body: s.body.map(rewrite) };
    if (s.k !== 'for') return s;
    const bound = bounds.get(s);
    return { ...s, ...(bound ? { bound } : {}), body: s.body.map(rewrite) };
  };
  return { ...kernel, body: kernel.body.map(rewrite) };

  /** Grid and thread loops are split across workers by their static extent; only inner loops stop. */
  function stoppable(loop: ForStmt): boolean {
    return (loop.kind === 'serial' || loop.kind === 'vector') && loop.bound === undefined;
  }

  /** β of the first mask in the loop's body whose terms are outer loop variables or i32 input scalars. */
  function findMask(info: LoopInfo): Linear | undefined {
    const outer = new Set(info.parents.map((p) => p.var));
    const admissible = (t: IExpr) =>
      (t.k === 'var' && outer.has(t.name)) ||
      (t.k === 'iload' && t.index.k === 'const' && roles.get(t.buffer) === 'input' && !stored.has(t.buffer));
    let found: Linear | undefined;
    const look = (e: VExpr): void => {
      if (found) return;
      const beta = maskStart(e, info.loop.var);
      if (beta && [...beta.terms.values()].every((t) => admissible(t.expr))) found = beta;
      if (e.k === 'unary') look(e.a);
      if (e.k === 'binary') [e.a, e.b].forEach(look);
      if (e.k === 'select') [e.cond, e.a, e.b].forEach(look);
    };
    const visit = (stmts: readonly Stmt[]) => {
      for (const s of stmts) {
        if (s.k === 'let' || s.k === 'set' || s.k === 'reduce' || s.k === 'store') look(s.value);
        if (s.k === 'for' || s.k === 'if') visit(s.body);
      }
    };
    visit(info.loop.body);
    return found;
  }

  /**
   * The candidates that stop at β, or undefined when none does. A candidate whose skipped stores
   * could be observed is dropped and the rest proven again (loops over another index of the same
   * extent, such as the head size, join the group but must not hold it back), to a fixpoint.
   */
  function proveGroup(candidates: readonly LoopInfo[], beta: Linear): LoopInfo[] | undefined {
    let trying = candidates;
    for (;;) {
      const facts: StoredFact[] = [];
      const stopped: { info: LoopInfo; own: StoredFact[] }[] = [];
      for (const c of trying) {
        const own: StoredFact[] = [];
        if (new IterationCheck(c.loop.var, beta, facts, own).stmts(c.loop.body, new Map())) {
          stopped.push({ info: c, own });
          facts.push(...own);
        }
      }
      const loops = stopped.map((s) => s.info);
      const observed = stopped.filter(({ own }) => own.some((f) => observable(f, loops)));
      if (observed.length === 0) return loops.length > 0 ? loops : undefined;
      trying = stopped.filter((s) => !observed.includes(s)).map((s) => s.info);
    }
  }

  /**
   * Whether what a skipped iteration would have stored could be seen: it must be read only by
   * stopped loops, at the index it was stored at (so at an iteration that is skipped too), and never
   * by the host.
   */
  function observable(f: StoredFact, stopped: readonly LoopInfo[]): boolean {
    const role = roles.get(f.buffer);
    if (role === 'output' || role === 'input' || elsewhere.has(f.buffer)) return true;
    return loads
      .filter((x) => x.buffer === f.buffer)
      .some(
        (l) =>
          !l.parents.some(
            (p) => stopped.some((s) => s.loop === p) && patternOf(l.index, p.var) === f.pattern,
          ),
      );
  }
}

/** One iteration v ≥ β of a loop, evaluated abstractly: does it change anything that lives on? */
class IterationCheck {
  constructor(
    private readonly v: string,
    private readonly beta: Linear,
    private readonly facts: readonly StoredFact[],
    private readonly own: StoredFact[],
  ) {}

  stmts(stmts: readonly Stmt[], regs: Map<string, Abstract>): boolean {
    for (const s of stmts) {
      switch (s.k) {
        case 'let':
          regs.set(s.name, this.value(s.value, regs, new Set()));
          break;
        case 'set':
          if (!regs.has(s.name)) return false;
          regs.set(s.name, this.value(s.value, regs, new Set()));
          break;
        case 'reduce':
          // A register of this iteration may change freely; an outer one must get the identity.
          if (regs.has(s.name)) regs.set(s.name, 'unknown');
          else if (this.value(s.value, regs, new Set()) !== IDENTITY[s.op]) return false;
          break;
        case 'store': {
          const index = linearI(s.index);
          // Injective in v: distinct iterations store distinct elements, so a read at the same index
          // pattern in another stopped loop reads this iteration's element.
          if (!index || !index.terms.has(this.v) || printIndex(s.index).includes('%')) return false;
          this.own.push({
            buffer: s.buffer,
            pattern: patternOf(s.index, this.v),
            value: this.value(s.value, regs, new Set()),
          });
          break;
        }
        case 'for':
        case 'if':
          if (!this.stmts(s.body, regs)) return false;
          break;
        default:
          return false;
      }
    }
    return true;
  }

  /** `notNegInf`: printed values known not to be −inf (the else branch of `x == −inf`). */
  private value(e: VExpr, regs: ReadonlyMap<string, Abstract>, notNegInf: ReadonlySet<string>): Abstract {
    switch (e.k) {
      case 'const':
        return e.v;
      case 'reg':
        return regs.get(e.name) ?? 'unknown';
      case 'int':
        return e.a.k === 'const' ? e.a.v : 'unknown';
      case 'load': {
        const pattern = patternOf(e.index, this.v);
        const f = [...this.facts, ...this.own]
          .reverse()
          .find((x) => x.buffer === e.buffer && x.pattern === pattern);
        return f ? f.value : 'unknown';
      }
      case 'unary': {
        const a = this.value(e.a, regs, notNegInf);
        if (e.fn === 'neg' && typeof a === 'number') return -a;
        if (e.fn === 'exp' && a === -Infinity) return 0;
        return 'unknown';
      }
      case 'binary': {
        if (COMPARISONS.has(e.fn)) {
          const d = decide(e, this.v, this.beta);
          if (d !== undefined) return d;
        }
        const a = this.value(e.a, regs, notNegInf);
        const b = this.value(e.b, regs, notNegInf);
        if (
          e.fn === '==' &&
          (a === -Infinity || b === -Infinity) &&
          notNegInf.has(JSON.stringify(a === -Infinity ? e.b : e.a))
        )
          return 0;
        if (typeof a === 'number' && typeof b === 'number') return fold(e.fn, a, b);
        // −inf − x = −inf for any x but −inf (and NaN, which poisons the result either way).
        if (e.fn === '-' && a === -Infinity && notNegInf.has(JSON.stringify(e.b))) return -Infinity;
        if (e.fn === 'max' && a === -Infinity) return b;
        if (e.fn === 'max' && b === -Infinity) return a;
        return 'unknown';
      }
      case 'select': {
        const cond = this.value(e.cond, regs, notNegInf);
        if (typeof cond === 'number') return this.value(cond !== 0 ? e.a : e.b, regs, notNegInf);
        const a = this.value(e.a, regs, notNegInf);
        // In the else branch of `x == −inf`, x is not −inf.
        const c = e.cond;
        const negInf = (x: VExpr) =>
          (x.k === 'const' && x.v === -Infinity) ||
          (x.k === 'unary' && x.fn === 'neg' && x.a.k === 'const' && x.a.v === Infinity);
        const tested =
          c.k === 'binary' && c.fn === '==' ? (negInf(c.b) ? c.a : negInf(c.a) ? c.b : undefined) : undefined;
        const elseFacts = tested ? new Set([...notNegInf, JSON.stringify(tested)]) : notNegInf;
        const b = this.value(e.b, regs, elseFacts);
        return typeof a === 'number' && a === b ? a : 'unknown';
      }
    }
  }
}

function fold(fn: string, a: number, b: number): Abstract {
  const f = Math.fround;
  const r: Record<string, number> = {
    '+': f(a + b),
    '-': f(a - b),
    '*': f(a * b),
    '/': f(a / b),
    max: Math.max(a, b),
    min: Math.min(a, b),
    '<': +(a < b),
    '<=': +(a <= b),
    '>': +(a > b),
    '>=': +(a >= b),
    '==': +(a === b),
    '!=': +(a !== b),
  };
  const v = r[fn];
  return v === undefined || Number.isNaN(v) ? 'unknown' : v;
}
