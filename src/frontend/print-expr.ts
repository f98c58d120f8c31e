// Expressions back to Ein text with the fewest parentheses that parse to the same tree.
import type { Expr } from '../ir/expr.js';

const PREC: Record<string, number> = {
  '<': 1,
  '<=': 1,
  '>': 1,
  '>=': 1,
  '==': 1,
  '!=': 1,
  '+': 2,
  '-': 2,
  '*': 3,
  '/': 3,
  '^': 5,
};
const NEG = 4;
const PRIMARY = 6;

function precedence(e: Expr): number {
  if (e.k === 'binary') return PREC[e.op]!;
  if (e.k === 'neg') return NEG;
  if (e.k === 'reduce') return 0;
  if (e.k === 'num' && (e.value < 0 || Object.is(e.value, -0))) return NEG;
  return PRIMARY;
}

export function printNumber(value: number, raw?: string): string {
  if (raw !== undefined) return raw;
  if (value === Infinity) return 'inf';
  if (value === -Infinity) return '-inf';
  return String(value);
}

const list = (xs: readonly Expr[]) => xs.map((x) => printExpr(x)).join(', ');

/** Print `e` in a context that binds with strength `context` (0: nothing around it). */
export function printExpr(e: Expr, context = 0): string {
  const text = printBare(e);
  return precedence(e) < context ? `(${text})` : text;
}

function printBare(e: Expr): string {
  switch (e.k) {
    case 'num':
      return printNumber(e.value, e.raw);
    case 'index':
    case 'rank':
      return e.name;
    case 'access':
      // A 0-d read keeps its brackets: bare, `T` could resolve to an index or a rank instead.
      return `${e.tensor}[${list(e.subs)}]`;
    case 'call':
      return `${e.fn}(${list(e.args)})`;
    case 'kcall':
      return `${e.kernel}(${list(e.args)})[${list(e.subs)}]`;
    case 'reduce':
      return `${e.op}[${e.indices.join(', ')}] ${printExpr(e.body)}`;
    case 'neg': {
      // `- -x` would lex fine, but `-(-x)` reads better; a power binds tighter than minus already.
      const inner = e.a.k === 'neg' ? `(${printBare(e.a)})` : printExpr(e.a, NEG);
      return `-${inner}`;
    }
    case 'binary': {
      const p = PREC[e.op]!;
      if (e.op === '^') return `${printExpr(e.a, PRIMARY)} ^ ${printExpr(e.b, NEG)}`;
      // Left-associative: a right operand of equal strength needs parentheses; comparisons nest neither side.
      const left = printExpr(e.a, p === 1 ? 2 : p);
      const right = printExpr(e.b, p + 1);
      return `${left} ${e.op} ${right}`;
    }
  }
}
