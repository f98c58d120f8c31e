// Walks over Loop IR statements and expressions that the C-style printer needs: which loop
// variables and registers a body uses, constant folding, and sign facts for division.
import type { IExpr, Stmt, VExpr } from '../ir/loops.js';

/** The value of an index expression without variables or loads (lowering leaves `0 % 2` and such). */
export function foldConstants(e: IExpr): number | undefined {
  if (e.k === 'const') return e.v;
  if (e.k === 'var' || e.k === 'iload') return undefined;
  const [a, b] = [foldConstants(e.a), foldConstants(e.b)];
  if (a === undefined || b === undefined) return undefined;
  switch (e.k) {
    case 'add':
      return a + b;
    case 'sub':
      return a - b;
    case 'mul':
      return a * b;
    case 'div':
      return b === 0 ? undefined : Math.floor(a / b);
    case 'mod':
      return b === 0 ? undefined : ((a % b) + b) % b;
    case 'min':
      return Math.min(a, b);
  }
}

export function nonNegative(e: IExpr): boolean {
  switch (e.k) {
    case 'const':
      return e.v >= 0;
    case 'var':
      return true;
    case 'add':
    case 'mul':
    case 'div':
    case 'mod':
    case 'min':
      return nonNegative(e.a) && nonNegative(e.b);
    default:
      return false;
  }
}

function walkStmts(stmts: readonly Stmt[], visit: (s: Stmt) => void): void {
  for (const s of stmts) {
    visit(s);
    if (s.k === 'for' || s.k === 'if') walkStmts(s.body, visit);
  }
}

function iexprVars(e: IExpr, out: Set<string>): void {
  if (e.k === 'var') out.add(e.name);
  else if (e.k === 'iload') iexprVars(e.index, out);
  else if (e.k !== 'const') {
    iexprVars(e.a, out);
    iexprVars(e.b, out);
  }
}

function vexprVars(e: VExpr, out: Set<string>): void {
  if (e.k === 'load') iexprVars(e.index, out);
  else if (e.k === 'int') iexprVars(e.a, out);
  else if (e.k === 'unary') vexprVars(e.a, out);
  else if (e.k === 'binary') [e.a, e.b].forEach((x) => vexprVars(x, out));
  else if (e.k === 'select') [e.cond, e.a, e.b].forEach((x) => vexprVars(x, out));
}

/** Loop variables read anywhere in `stmts` (declaring an unused one makes nvcc warn). */
export function usedVars(stmts: readonly Stmt[]): Set<string> {
  const out = new Set<string>();
  walkStmts(stmts, (s) => {
    if (s.k === 'if') [s.cond.a, s.cond.lt].forEach((e) => iexprVars(e, out));
    else if (s.k === 'let' || s.k === 'set' || s.k === 'reduce') vexprVars(s.value, out);
    else if (s.k === 'store') {
      iexprVars(s.index, out);
      vexprVars(s.value, out);
    } else if (s.k === 'contract') [s.outOffset, s.aOffset, s.bOffset].forEach((e) => iexprVars(e, out));
  });
  return out;
}

export function registersOf(stmts: readonly Stmt[]): string[] {
  const regs = new Set<string>();
  walkStmts(stmts, (s) => {
    if (s.k === 'let') regs.add(s.name);
  });
  return [...regs];
}

export function assignedRegisters(stmts: readonly Stmt[]): Set<string> {
  const regs = new Set<string>();
  walkStmts(stmts, (s) => {
    if (s.k === 'set' || s.k === 'reduce') regs.add(s.name);
  });
  return regs;
}

export function scalarNames(stmts: readonly Stmt[]): string[] {
  const names = new Set<string>();
  walkStmts(stmts, (s) => {
    if (s.k === 'for') names.add(s.var);
    if (s.k === 'let') names.add(s.name);
  });
  return [...names];
}
