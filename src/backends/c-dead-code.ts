// Dead code the Loop IR may carry: stores to a kernel's local buffer that nothing reads (an unused
// intermediate kept on chip), and the registers and loops that only fed them. nvcc warns about
// such arrays (#550-D "set but never used"), and generated code should not compute what it drops.
import type { LoopKernel, Stmt, VExpr } from '../ir/loops.js';
import { referencedBuffers } from './c-launch.js';

function readsOf(e: VExpr, out: Set<string>): void {
  if (e.k === 'reg') out.add(e.name);
  else if (e.k === 'unary') readsOf(e.a, out);
  else if (e.k === 'binary') [e.a, e.b].forEach((x) => readsOf(x, out));
  else if (e.k === 'select') [e.cond, e.a, e.b].forEach((x) => readsOf(x, out));
}

/** Registers read by anything other than their own updates. */
function liveRegisters(stmts: readonly Stmt[]): Set<string> {
  const live = new Set<string>();
  const visit = (list: readonly Stmt[]) => {
    for (const s of list) {
      if (s.k === 'for' || s.k === 'if') visit(s.body);
      else if (s.k === 'store') readsOf(s.value, live);
      else if (s.k === 'let' || s.k === 'set' || s.k === 'reduce') {
        const reads = new Set<string>();
        readsOf(s.value, reads);
        reads.delete(s.name);
        reads.forEach((r) => live.add(r));
      }
    }
  };
  visit(stmts);
  return live;
}

function prune(stmts: readonly Stmt[], deadBuffers: ReadonlySet<string>, live: ReadonlySet<string>): Stmt[] {
  const out: Stmt[] = [];
  for (const s of stmts) {
    if (s.k === 'store' && deadBuffers.has(s.buffer)) continue;
    if ((s.k === 'let' || s.k === 'set' || s.k === 'reduce') && !live.has(s.name)) continue;
    if (s.k === 'for' || s.k === 'if') {
      const body = prune(s.body, deadBuffers, live);
      if (body.length > 0) out.push({ ...s, body });
      continue;
    }
    out.push(s);
  }
  return out;
}

/** Locals read by some statement other than a store to themselves (`T[n + 1] = T[n] + ...`). */
function readLocals(stmts: readonly Stmt[], locals: ReadonlySet<string>): Set<string> {
  const read = new Set<string>();
  const visit = (list: readonly Stmt[]) => {
    for (const s of list) {
      if (s.k === 'for') visit(s.body);
      else if (s.k === 'if') {
        referencedBuffers([{ ...s, body: [] }]).forEach((_, b) => read.add(b));
        visit(s.body);
      } else
        referencedBuffers([s]).forEach((use, b) => {
          if (use.read && !(s.k === 'store' && s.buffer === b)) read.add(b);
        });
    }
  };
  visit(stmts);
  return new Set([...read].filter((b) => locals.has(b)));
}

export function eliminateDeadCode(kernel: LoopKernel): LoopKernel {
  const locals = new Set(kernel.locals.map((l) => l.name));
  let body = kernel.body;
  let dead = new Set<string>();
  for (;;) {
    const read = readLocals(body, locals);
    dead = new Set([...locals].filter((l) => !read.has(l)));
    const next = prune(body, dead, liveRegisters(body));
    if (JSON.stringify(next) === JSON.stringify(body)) break;
    body = next;
  }
  if (body === kernel.body) return kernel;
  return { ...kernel, body, locals: kernel.locals.filter((l) => !dead.has(l.name)) };
}
