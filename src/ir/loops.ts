// The Loop IR: what backends print. Kernels (one launch each) of nested loops over buffers placed in
// memory levels, with loads and stores at integer index expressions, scalar registers and barriers.
// Deliberately small: WASM, WGSL and CUDA each map every node to a few lines.
import type { DType } from './cascade.js';
import type { ReduceOp } from './expr.js';

/** Where a buffer lives: device/global memory, per-workgroup scratchpad, or per-thread registers. */
export type MemLevel = 'global' | 'scratchpad' | 'register';
export type BufferRole = 'input' | 'output' | 'intermediate' | 'local';

export interface BufferDecl {
  readonly name: string;
  readonly dtype: DType;
  /** Elements. For a scratchpad buffer: per workgroup (all its threads' slices together). */
  readonly size: number;
  readonly level: MemLevel;
  readonly role: BufferRole;
  /** The logical shape, for printing and for the loaders (global buffers are row-major). */
  readonly shape: readonly number[];
}

/** Integer expressions: loop variables, constants, arithmetic, and reads of i32 buffers (gathers). */
export type IExpr =
  | { readonly k: 'const'; readonly v: number }
  | { readonly k: 'var'; readonly name: string }
  | { readonly k: 'add' | 'sub' | 'mul' | 'div' | 'mod' | 'min'; readonly a: IExpr; readonly b: IExpr }
  | { readonly k: 'iload'; readonly buffer: string; readonly index: IExpr };

export type UnaryFn = 'neg' | 'exp' | 'log' | 'sqrt' | 'rsqrt' | 'tanh' | 'erf' | 'sigmoid' | 'abs';
export type BinaryFn = '+' | '-' | '*' | '/' | 'pow' | 'max' | 'min' | '<' | '<=' | '>' | '>=' | '==' | '!=';

/** f32 expressions. Comparisons yield 1 or 0, as in the interpreter; `select` tests `cond != 0`. */
export type VExpr =
  | { readonly k: 'const'; readonly v: number }
  | { readonly k: 'load'; readonly buffer: string; readonly index: IExpr }
  /** A scalar register declared by `let`. */
  | { readonly k: 'reg'; readonly name: string }
  /** An integer (a loop variable, a rank, an i32 element) used as a value. */
  | { readonly k: 'int'; readonly a: IExpr }
  | { readonly k: 'unary'; readonly fn: UnaryFn; readonly a: VExpr }
  | { readonly k: 'binary'; readonly fn: BinaryFn; readonly a: VExpr; readonly b: VExpr }
  | { readonly k: 'select'; readonly cond: VExpr; readonly a: VExpr; readonly b: VExpr };

/**
 * Loop kinds: `grid` loops are distributed over workgroups (GPU) or worker threads (WASM); `thread`
 * loops over the threads of a workgroup (serial on WASM); `serial` loops run in order; `vector` marks
 * an innermost loop whose iterations are independent and may be vectorised.
 */
export type LoopKind = 'grid' | 'thread' | 'serial' | 'vector';

/**
 * `contract`: out[m, n] (op)= Σ_k a[m, k] · b[k, n] over strided views — a tensorized contraction
 * the backends map to their fastest form (WASM register-blocked micro-kernels, tiled shared memory
 * on GPUs). Offsets and strides are in elements; `accumulate` adds to what `out` holds.
 */
export interface ContractStmt {
  readonly k: 'contract';
  readonly out: string;
  readonly a: string;
  readonly b: string;
  readonly m: number;
  readonly n: number;
  readonly kDim: number;
  readonly outOffset: IExpr;
  readonly aOffset: IExpr;
  readonly bOffset: IExpr;
  readonly outStride: readonly [number, number];
  readonly aStride: readonly [number, number];
  readonly bStride: readonly [number, number];
  readonly scale: number;
  readonly accumulate: boolean;
}

export type Stmt =
  | {
      readonly k: 'for';
      readonly var: string;
      readonly extent: number;
      readonly kind: LoopKind;
      readonly body: readonly Stmt[];
      /**
       * A dynamic trip count (the `bounds` pass, dynamic-bounds.ts): the loop may stop after min(extent, bound) iterations
       * because the later ones are proven no-ops (a mask such as `t <= pos` makes them identities).
       * Running all `extent` iterations is still correct, so a backend may ignore it.
       */
      readonly bound?: IExpr;
    }
  | { readonly k: 'if'; readonly cond: ICond; readonly body: readonly Stmt[] }
  | { readonly k: 'let'; readonly name: string; readonly value: VExpr }
  | { readonly k: 'set'; readonly name: string; readonly value: VExpr }
  /** reg = op(reg, value): the accumulate step of a reduction. */
  | { readonly k: 'reduce'; readonly name: string; readonly op: ReduceOp; readonly value: VExpr }
  | { readonly k: 'store'; readonly buffer: string; readonly index: IExpr; readonly value: VExpr }
  | { readonly k: 'barrier' }
  | ContractStmt;

/** An integer condition for guards: `a < b`. */
export interface ICond {
  readonly a: IExpr;
  readonly lt: IExpr;
}

export interface KernelInfo {
  /** The Einsums this kernel computes, printed. */
  readonly statements: readonly string[];
  /** Tile size per index. */
  readonly tiles: Readonly<Record<string, number>>;
}

export interface LoopKernel {
  readonly name: string;
  /** Global buffers read or written. */
  readonly uses: readonly string[];
  /** Scratchpad and register buffers of this kernel. */
  readonly locals: readonly BufferDecl[];
  readonly body: readonly Stmt[];
  readonly info: KernelInfo;
}

export interface LoopProgram {
  readonly name: string;
  readonly buffers: readonly BufferDecl[];
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly kernels: readonly LoopKernel[];
}

export const ic = (v: number): IExpr => ({ k: 'const', v });
export const iv = (name: string): IExpr => ({ k: 'var', name });

/** a + b with constants folded, so generated indices stay readable. */
export function iadd(a: IExpr, b: IExpr): IExpr {
  if (a.k === 'const' && a.v === 0) return b;
  if (b.k === 'const' && b.v === 0) return a;
  if (a.k === 'const' && b.k === 'const') return ic(a.v + b.v);
  return { k: 'add', a, b };
}

export function imul(a: IExpr, b: IExpr): IExpr {
  if ((a.k === 'const' && a.v === 0) || (b.k === 'const' && b.v === 0)) return ic(0);
  if (a.k === 'const' && a.v === 1) return b;
  if (b.k === 'const' && b.v === 1) return a;
  if (a.k === 'const' && b.k === 'const') return ic(a.v * b.v);
  return { k: 'mul', a, b };
}

export function isub(a: IExpr, b: IExpr): IExpr {
  if (b.k === 'const' && b.v === 0) return a;
  if (a.k === 'const' && b.k === 'const') return ic(a.v - b.v);
  return { k: 'sub', a, b };
}
