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
//
// Here: the pass entry and the search for groups with their proof; the linear forms and masks are in
// dynamic-bounds-masks.ts, the abstract evaluation of one iteration in dynamic-bounds-iteration.ts.
import type { BufferDecl, IExpr, LoopKernel, LoopProgram, Stmt, VExpr } from '../ir/loops.js';
import { IterationCheck, type StoredFact } from './dynamic-bounds-iteration.js';
import { maskStart, patternOf, toIExpr, type Linear } from './dynamic-bounds-masks.js';
import { loadsOf } from './index-algebra.js';
import { tightenMaskedLoops } from './mask-bounds.js';

type ForStmt = Extract<Stmt, { k: 'for' }>;

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

interface LoopInfo {
  readonly loop: ForStmt;
  readonly parents: readonly ForStmt[];
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
