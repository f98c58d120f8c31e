// What the checker knows about one kernel while it resolves it. Mutable on purpose: it is filled in
// phase by phase (names, then bodies, then shapes) and frozen into a KernelIR at the end.
import type { CallStep, DType, KernelIR, RankInfo, TensorKind } from '../ir/cascade.js';
import type { Expr, Span } from '../ir/expr.js';

export interface TensorSlot {
  readonly name: string;
  readonly dtype: DType;
  kind: TensorKind;
  /** Number of axes, known as soon as the name is (from a declaration or a left side). */
  readonly arity: number;
  /** Known once declared or inferred. */
  shape?: Expr[];
  declared: boolean;
  iterativeAxis?: number;
  readonly span: Span;
}

export class KernelScope {
  readonly ranks = new Map<string, RankInfo>();
  readonly tensors = new Map<string, TensorSlot>();
  readonly calls: CallStep[] = [];
  private counter = 0;

  constructor(
    readonly kernelName: string,
    readonly kernels: ReadonlyMap<string, KernelIR>,
  ) {}

  /** A tensor name for a hoisted call's result that collides with nothing the user wrote. */
  fresh(base: string): string {
    for (;;) {
      const name = `${base}_${++this.counter}`;
      if (!this.tensors.has(name) && !this.ranks.has(name)) return name;
    }
  }
}

export const isRankName = (name: string): boolean => /^[A-Z][A-Z0-9_]*$/.test(name);
export const isIndexName = (name: string): boolean => /^[a-z][a-z0-9_]*$/.test(name);
