// Einsum expressions → Loop IR expressions. Subscripts become integer index arithmetic over the
// buffer's layout (a global row-major tensor, or a thread's on-chip slice); an inner reduction
// becomes statements that run just before the value is used.
import type { Einsum } from '../ir/cascade.js';
import type { Expr, ReduceOp } from '../ir/expr.js';
import {
  iadd,
  ic,
  imul,
  isub,
  type BinaryFn,
  type IExpr,
  type Stmt,
  type UnaryFn,
  type VExpr,
} from '../ir/loops.js';
import { evalSize } from '../ir/sizes.js';
import type { Placement } from './group.js';

export const IDENTITY: Record<ReduceOp, number> = { sum: 0, prod: 1, max: -Infinity, min: Infinity };

export interface LowerScope {
  readonly ranks: ReadonlyMap<string, number>;
  readonly shapes: ReadonlyMap<string, readonly number[]>;
  /** Where each tensor lives in this kernel (absent: a global tensor with its full shape). */
  readonly placements: ReadonlyMap<string, Placement>;
  /** This thread's slot in the workgroup's on-chip buffers. */
  readonly slot: IExpr;
  /** Tensors of dtype i32. */
  readonly int32: ReadonlySet<string>;
  fresh(base: string): string;
}

export function rowMajorStrides(extents: readonly number[]): number[] {
  const strides = extents.map(() => 1);
  for (let i = extents.length - 2; i >= 0; i--) strides[i] = strides[i + 1]! * extents[i + 1]!;
  return strides;
}

/** The element index of `tensor[subs]` in its buffer. */
export function elementIndex(tensor: string, subs: readonly IExpr[], scope: LowerScope): IExpr {
  const shape = scope.shapes.get(tensor)!;
  const p = scope.placements.get(tensor);
  if (!p || !p.local) {
    const strides = rowMajorStrides(shape);
    return subs.reduce<IExpr>((acc, s, a) => iadd(acc, imul(s, ic(strides[a]!))), ic(0));
  }
  const extents = p.keptAxes.map((a) => (a === p.modTwoAxis ? 2 : shape[a]!));
  const strides = rowMajorStrides(extents);
  return p.keptAxes.reduce<IExpr>(
    (acc, a, i) => {
      const s = a === p.modTwoAxis ? { k: 'mod' as const, a: subs[a]!, b: ic(2) } : subs[a]!;
      return iadd(acc, imul(s, ic(strides[i]!)));
    },
    imul(scope.slot, ic(p.size)),
  );
}

export function lowerIndex(e: Expr, env: ReadonlyMap<string, IExpr>, scope: LowerScope): IExpr {
  switch (e.k) {
    case 'num':
      return ic(e.value);
    case 'rank':
      return ic(scope.ranks.get(e.name)!);
    case 'index': {
      const v = env.get(e.name);
      if (!v) throw new Error(`internal: index ${e.name} is not bound in this loop nest`);
      return v;
    }
    case 'neg':
      return isub(ic(0), lowerIndex(e.a, env, scope));
    case 'binary': {
      const a = lowerIndex(e.a, env, scope);
      const b = lowerIndex(e.b, env, scope);
      return e.op === '+' ? iadd(a, b) : e.op === '-' ? isub(a, b) : imul(a, b);
    }
    case 'access':
      return {
        k: 'iload',
        buffer: e.tensor,
        index: elementIndex(
          e.tensor,
          e.subs.map((s) => lowerIndex(s, env, scope)),
          scope,
        ),
      };
    default:
      throw new Error(`internal: ${e.k} in a subscript`);
  }
}

const UNARY: Record<string, UnaryFn> = {
  exp: 'exp',
  log: 'log',
  sqrt: 'sqrt',
  rsqrt: 'rsqrt',
  tanh: 'tanh',
  erf: 'erf',
  sigmoid: 'sigmoid',
  abs: 'abs',
};
const BINARY: Record<string, BinaryFn> = {
  '+': '+',
  '-': '-',
  '*': '*',
  '/': '/',
  '^': 'pow',
  '<': '<',
  '<=': '<=',
  '>': '>',
  '>=': '>=',
  '==': '==',
  '!=': '!=',
};

/**
 * Lower a value expression. Statements that must run first (the loops of inner reductions) are
 * appended to `pre`; `ranges` gives the extent of every index of the Einsum.
 */
export function lowerValue(
  e: Expr,
  env: ReadonlyMap<string, IExpr>,
  einsum: Einsum,
  scope: LowerScope,
  pre: Stmt[],
): VExpr {
  const go = (x: Expr) => lowerValue(x, env, einsum, scope, pre);
  switch (e.k) {
    case 'num':
      return { k: 'const', v: e.value };
    case 'rank':
      return { k: 'const', v: scope.ranks.get(e.name)! };
    case 'index':
      return { k: 'int', a: lowerIndex(e, env, scope) };
    case 'access': {
      const index = elementIndex(
        e.tensor,
        e.subs.map((s) => lowerIndex(s, env, scope)),
        scope,
      );
      // An i32 tensor read as a value (a position, a token id) is converted, not reinterpreted.
      if (scope.int32.has(e.tensor)) return { k: 'int', a: { k: 'iload', buffer: e.tensor, index } };
      return { k: 'load', buffer: e.tensor, index };
    }
    case 'neg':
      return { k: 'unary', fn: 'neg', a: go(e.a) };
    case 'binary':
      return { k: 'binary', fn: BINARY[e.op]!, a: go(e.a), b: go(e.b) };
    case 'call':
      if (e.fn === 'where')
        return { k: 'select', cond: go(e.args[0]!), a: go(e.args[1]!), b: go(e.args[2]!) };
      if (e.fn === 'max' || e.fn === 'min')
        return { k: 'binary', fn: e.fn, a: go(e.args[0]!), b: go(e.args[1]!) };
      return { k: 'unary', fn: UNARY[e.fn]!, a: go(e.args[0]!) };
    case 'reduce': {
      const reg = scope.fresh(`${e.op}_${e.indices.join('')}`);
      pre.push({ k: 'let', name: reg, value: { k: 'const', v: IDENTITY[e.op] } });
      pre.push(reduceLoops(e.indices, e.op, reg, e.body, env, einsum, scope));
      return { k: 'reg', name: reg };
    }
    case 'kcall':
      throw new Error('internal: kernel calls are inlined before lowering');
  }
}

/** for i in ...: for j in ...: reg = op(reg, body) */
export function reduceLoops(
  indices: readonly string[],
  op: ReduceOp,
  reg: string,
  body: Expr,
  env: ReadonlyMap<string, IExpr>,
  einsum: Einsum,
  scope: LowerScope,
): Stmt {
  const inner = new Map(env);
  const vars = indices.map((i) => {
    const name = scope.fresh(i);
    inner.set(i, { k: 'var', name });
    return name;
  });
  const pre: Stmt[] = [];
  const value = lowerValue(body, inner, einsum, scope, pre);
  let stmt: Stmt[] = [...pre, { k: 'reduce', name: reg, op, value }];
  for (let i = indices.length - 1; i >= 0; i--) {
    const extent = evalSize(einsum.ranges.find((r) => r.name === indices[i])!.extent, scope.ranks);
    stmt = [{ k: 'for', var: vars[i]!, extent, kind: 'serial', body: stmt }];
  }
  return stmt[0]!;
}
