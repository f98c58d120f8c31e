// What the SIMD paths need from the scalar Loop IR emitter (loop-codegen.ts): its locals, its
// integer and scalar value emission, addresses, and scalar loops for the tails. Keeping this an
// interface lets the layout (COSMA's per-kernel addresses) change behind `address` alone.
import type binaryen from 'binaryen';
import type { IExpr, Stmt, VExpr } from '../../ir/loops.js';
import type { FunctionLocals } from './function-locals.js';
import type { ScalarMath } from './scalar-math.js';

export type X = binaryen.ExpressionRef;
export type ForStmt = Extract<Stmt, { k: 'for' }>;

export interface ScalarHooks {
  readonly mod: binaryen.Module;
  readonly locals: FunctionLocals;
  readonly math: ScalarMath;
  readonly relaxedSimd: boolean;
  /** The i32 local of a loop variable. */
  intLocal(name: string): number;
  /** The f32 local of a scalar register. */
  regLocal(name: string): number;
  int(e: IExpr): X;
  value(e: VExpr): X;
  stmt(s: Stmt): X;
  /** Byte address of element `index` (an i32 expression) of `buffer`. */
  address(buffer: string, index: X): X;
  /** The scalar loop `for v in [from, to): body`. */
  loop(v: string, from: X, to: X, body: readonly Stmt[]): X;
  /** The loop's trip count: its extent, or less when the `bounds` pass proved a mask bound. */
  upperBound(s: ForStmt): X;
  /** Whether the loop's bound was tightened (its trip count is dynamic). */
  hasDynamicBound(s: ForStmt): boolean;
  label(prefix: string): string;
  /** Elements of a buffer as laid out (a local: all thread slots), for range proofs. */
  bufferElements(name: string): number | undefined;
  isLocalBuffer(name: string): boolean;
  /** Loads of `buffer` anywhere in the kernel (for privatising per-iteration scratch cells). */
  loadCount(buffer: string): number;
  /** Extent of a loop variable of this kernel (names are unique per kernel). */
  extentOf(name: string): number | undefined;
}
