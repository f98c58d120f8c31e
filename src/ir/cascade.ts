// The Cascade IR: one immutable node per Einsum (FuseMax's cascade of Einsums). Names are resolved:
// bodies hold `access` for tensors, `rank` for ranks and `index` for index variables; kernel calls are
// hoisted into `call` steps. Shapes are size expressions over ranks, bound to numbers by bind.ts.
import type { Expr, ReduceOp, Span } from './expr.js';

export type DType = 'f32' | 'i32';
export type TensorKind = 'input' | 'output' | 'intermediate';

export interface TensorInfo {
  readonly name: string;
  readonly dtype: DType;
  readonly kind: TensorKind;
  /** Size expressions (num / rank / + - * /); [] for a scalar. */
  readonly shape: readonly Expr[];
  /** Set for an iterative tensor (`RM[m1 + 1, p]`): the axis that holds the generations. */
  readonly iterativeAxis?: number;
  /** True when the source declared this shape (a parameter, or an output with a type). */
  readonly declared: boolean;
  readonly span?: Span;
}

export interface RankInfo {
  readonly name: string;
  /** The defining size expression; absent for a symbolic rank bound at call time. */
  readonly value?: Expr;
  readonly span?: Span;
}

export interface IndexRange {
  readonly name: string;
  readonly extent: Expr;
}

/**
 * `tensor[subs] = reduce[reduced] body`. `subs` are plain indices, except one `i + 1` in an iterative
 * update or one `0` in an iterative initialisation. `ranges` gives every index of the statement,
 * the left-side ones first, then the reduced ones, then those of inner reductions.
 */
export interface Einsum {
  readonly kind: 'einsum';
  readonly tensor: string;
  readonly subs: readonly Expr[];
  readonly reduce: ReduceOp;
  readonly reduced: readonly string[];
  readonly body: Expr;
  readonly ranges: readonly IndexRange[];
  readonly span?: Span;
}

/** `outputs = kernel(args)`: a call of another kernel, hoisted out of the expression it was in. */
export interface CallStep {
  readonly kind: 'call';
  readonly kernel: string;
  readonly args: readonly string[];
  readonly outputs: readonly string[];
  readonly span?: Span;
}

export type Step = Einsum | CallStep;

export interface KernelIR {
  readonly name: string;
  readonly params: readonly string[];
  readonly outputs: readonly string[];
  /** Every tensor of the kernel: parameters, outputs and intermediates. */
  readonly tensors: Readonly<Record<string, TensorInfo>>;
  /** Ranks declared in the kernel, and the symbolic ranks its parameter shapes introduce. */
  readonly ranks: readonly RankInfo[];
  /** In dependency order: every tensor is defined before it is read. */
  readonly steps: readonly Step[];
  readonly span?: Span;
}

export interface ScheduleIR {
  readonly kernel: string;
  readonly tiles: Readonly<Record<string, number>>;
  readonly chunks: Readonly<Record<string, number>>;
  readonly fuse: readonly { readonly from: string; readonly to: string }[];
  readonly scratchpadBytes?: number;
  readonly span?: Span;
}

export interface CascadeProgram {
  readonly ranks: readonly RankInfo[];
  /** `default rank` values: used by binding only when nothing else sets the rank. */
  readonly defaults: readonly RankInfo[];
  readonly kernels: readonly KernelIR[];
  readonly schedules: readonly ScheduleIR[];
}

export function findKernel(program: CascadeProgram, name: string): KernelIR | undefined {
  return program.kernels.find((k) => k.name === name);
}

export function einsums(kernel: KernelIR): Einsum[] {
  return kernel.steps.filter((s): s is Einsum => s.kind === 'einsum');
}

export function rangeOf(e: Einsum, index: string): Expr {
  const r = e.ranges.find((x) => x.name === index);
  if (!r) throw new Error(`internal: index ${index} has no range in ${e.tensor}`);
  return r.extent;
}
