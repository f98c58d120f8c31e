// The syntax tree as written, with spans and comments, before names and ranks are resolved.
// Expressions use the shared Expr type; bare names stay `index` (lowercase) or `rank` (uppercase)
// until the checker decides whether they name a tensor, a rank or an index.
import type { Expr, Span } from '../ir/expr.js';

export type DType = 'f32' | 'i32';

export interface RankDecl {
  readonly kind: 'rank';
  readonly name: string;
  readonly value: Expr;
  /** `default rank T = 64`: the value a symbolic rank takes when nothing else sets it. */
  readonly isDefault: boolean;
  readonly span: Span;
  readonly nameSpan: Span;
}

export interface TensorType {
  readonly dtype: string;
  /** null for a scalar declared without brackets (`pos: i32`). */
  readonly shape: readonly Expr[] | null;
  readonly span: Span;
}

export interface Param {
  readonly name: string;
  readonly type: TensorType;
  readonly span: Span;
}

export interface OutputDecl {
  readonly name: string;
  readonly type?: TensorType;
  readonly span: Span;
}

/** `T[i, j] = expr` */
export interface Statement {
  readonly kind: 'statement';
  readonly tensor: string;
  readonly subs: readonly Expr[];
  readonly rhs: Expr;
  readonly span: Span;
  readonly lhsSpan: Span;
}

/** `N = f(X, Y)` or `A, B = f(X)`: names for a kernel's outputs; `call` is a `call` expression. */
export interface Binding {
  readonly kind: 'binding';
  readonly names: readonly string[];
  readonly call: Expr;
  readonly span: Span;
}

export type BodyItem = RankDecl | Statement | Binding;

export interface KernelDecl {
  readonly kind: 'kernel';
  readonly name: string;
  readonly params: readonly Param[];
  readonly outputs: readonly OutputDecl[];
  readonly body: readonly BodyItem[];
  readonly span: Span;
  readonly nameSpan: Span;
}

export type ScheduleItem =
  | {
      readonly kind: 'tile';
      readonly tiles: readonly { index: string; size: number; span: Span }[];
      readonly span: Span;
    }
  | { readonly kind: 'fuse'; readonly from: string; readonly to: string; readonly span: Span }
  | { readonly kind: 'chunk'; readonly index: string; readonly size: number; readonly span: Span }
  | { readonly kind: 'scratchpad'; readonly bytes: number; readonly raw: string; readonly span: Span };

export interface ScheduleDecl {
  readonly kind: 'schedule';
  readonly kernel: string;
  readonly items: readonly ScheduleItem[];
  readonly span: Span;
  readonly nameSpan: Span;
}

export type TopItem = RankDecl | KernelDecl | ScheduleDecl;

export interface Comment {
  readonly text: string;
  readonly line: number;
  readonly col: number;
}

export interface ProgramAst {
  readonly items: readonly TopItem[];
  readonly comments: readonly Comment[];
}
