// Expressions shared by the AST and the Cascade IR. One tree type for values, subscripts and sizes,
// so the printer, the checker and the interpreter each have one place to look.

/** A position in a source file: 1-based line and column, and the end (exclusive) on the same scale. */
export interface Span {
  readonly line: number;
  readonly col: number;
  readonly endLine: number;
  readonly endCol: number;
}

export type ReduceOp = 'sum' | 'max' | 'min' | 'prod';
export const REDUCE_OPS: readonly ReduceOp[] = ['sum', 'max', 'min', 'prod'];

export type BinaryOp = '+' | '-' | '*' | '/' | '^' | '<' | '<=' | '>' | '>=' | '==' | '!=';

/** Built-in map functions and their arity. */
export const BUILTINS: Readonly<Record<string, number>> = {
  exp: 1,
  log: 1,
  sqrt: 1,
  rsqrt: 1,
  tanh: 1,
  erf: 1,
  sigmoid: 1,
  abs: 1,
  max: 2,
  min: 2,
  where: 3,
};

export type Expr =
  | { readonly k: 'num'; readonly value: number; readonly raw?: string; readonly span?: Span }
  /** A tensor element; subscripts are integer-valued expressions. A 0-d tensor has no subscripts. */
  | { readonly k: 'access'; readonly tensor: string; readonly subs: readonly Expr[]; readonly span?: Span }
  /** An index variable used as a value (masks: `m <= p + pos`) or in a subscript. */
  | { readonly k: 'index'; readonly name: string; readonly span?: Span }
  /** A rank used as a value (`sqrt(E)`) or in a subscript (`h * K + k`). */
  | { readonly k: 'rank'; readonly name: string; readonly span?: Span }
  | { readonly k: 'neg'; readonly a: Expr; readonly span?: Span }
  | { readonly k: 'binary'; readonly op: BinaryOp; readonly a: Expr; readonly b: Expr; readonly span?: Span }
  | { readonly k: 'call'; readonly fn: string; readonly args: readonly Expr[]; readonly span?: Span }
  /** A kernel's result indexed in place: `layernorm(X, g, b)[t, d]`. Only in the AST: the checker hoists it. */
  | {
      readonly k: 'kcall';
      readonly kernel: string;
      readonly args: readonly Expr[];
      readonly subs: readonly Expr[];
      readonly span?: Span;
    }
  | {
      readonly k: 'reduce';
      readonly op: ReduceOp;
      readonly indices: readonly string[];
      readonly body: Expr;
      readonly span?: Span;
    };

/** Visit every node of an expression tree, parents before children. */
export function walkExpr(e: Expr, visit: (e: Expr) => void): void {
  visit(e);
  switch (e.k) {
    case 'access':
      e.subs.forEach((s) => walkExpr(s, visit));
      break;
    case 'neg':
      walkExpr(e.a, visit);
      break;
    case 'binary':
      walkExpr(e.a, visit);
      walkExpr(e.b, visit);
      break;
    case 'call':
      e.args.forEach((a) => walkExpr(a, visit));
      break;
    case 'kcall':
      e.args.forEach((a) => walkExpr(a, visit));
      e.subs.forEach((s) => walkExpr(s, visit));
      break;
    case 'reduce':
      walkExpr(e.body, visit);
      break;
    default:
      break;
  }
}

/** Rebuild an expression bottom-up; `f` sees each node after its children were mapped. */
export function mapExpr(e: Expr, f: (e: Expr) => Expr): Expr {
  switch (e.k) {
    case 'access':
      return f({ ...e, subs: e.subs.map((s) => mapExpr(s, f)) });
    case 'neg':
      return f({ ...e, a: mapExpr(e.a, f) });
    case 'binary':
      return f({ ...e, a: mapExpr(e.a, f), b: mapExpr(e.b, f) });
    case 'call':
      return f({ ...e, args: e.args.map((a) => mapExpr(a, f)) });
    case 'kcall':
      return f({ ...e, args: e.args.map((a) => mapExpr(a, f)), subs: e.subs.map((s) => mapExpr(s, f)) });
    case 'reduce':
      return f({ ...e, body: mapExpr(e.body, f) });
    default:
      return f(e);
  }
}

/** Index variables that occur free in `e` (not bound by an inner reduction), in first-seen order. */
export function freeIndices(e: Expr): string[] {
  const out: string[] = [];
  const add = (n: string) => {
    if (!out.includes(n)) out.push(n);
  };
  const go = (x: Expr, bound: ReadonlySet<string>): void => {
    switch (x.k) {
      case 'index':
        if (!bound.has(x.name)) add(x.name);
        return;
      case 'access':
        x.subs.forEach((s) => go(s, bound));
        return;
      case 'neg':
        go(x.a, bound);
        return;
      case 'binary':
        go(x.a, bound);
        go(x.b, bound);
        return;
      case 'call':
        x.args.forEach((a) => go(a, bound));
        return;
      case 'kcall':
        x.subs.forEach((s) => go(s, bound));
        return;
      case 'reduce':
        go(x.body, new Set([...bound, ...x.indices]));
        return;
      default:
        return;
    }
  };
  go(e, new Set());
  return out;
}

/** Remove source spans so two trees can be compared structurally. */
export function stripSpans<T>(value: T): T {
  if (Array.isArray(value)) return value.map(stripSpans) as T;
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(value)) {
      if (key === 'span' || key === 'raw' || v === undefined) continue;
      out[key] = stripSpans(v);
    }
    return out as T;
  }
  return value;
}

export const num = (value: number): Expr => ({ k: 'num', value });
export const idx = (name: string): Expr => ({ k: 'index', name });
export const bin = (op: BinaryOp, a: Expr, b: Expr): Expr => ({ k: 'binary', op, a, b });
export const access = (tensor: string, subs: readonly Expr[]): Expr => ({ k: 'access', tensor, subs });
export const call = (fn: string, ...args: Expr[]): Expr => ({ k: 'call', fn, args });
