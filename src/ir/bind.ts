// Binding a kernel to numbers: every rank gets a value (from the source, from --rank, from the
// shapes of the inputs, or from a `default rank`), every tensor a concrete shape; size limits and
// affine subscript bounds are checked here, before any allocation.
import { EinError, fail } from '../frontend/diagnostics.js';
import { printExpr } from '../frontend/print-expr.js';
import { findKernel, type CascadeProgram, type KernelIR } from './cascade.js';
import { walkExpr, type Expr } from './expr.js';
import { DEFAULT_LIMITS, formatBytes, type Limits } from './limits.js';
import { evalSize } from './sizes.js';

export interface BoundKernel {
  readonly program: CascadeProgram;
  readonly kernel: KernelIR;
  readonly ranks: ReadonlyMap<string, number>;
  readonly shapes: ReadonlyMap<string, readonly number[]>;
}

export interface BindOptions {
  readonly ranks?: Readonly<Record<string, number>>;
  readonly inputShapes?: Readonly<Record<string, readonly number[]>>;
  readonly limits?: Limits;
  /** False when a compiler will plan intermediates (their size limit is checked on the buffers it keeps). */
  readonly intermediatesMaterialized?: boolean;
}

export function bindKernel(program: CascadeProgram, kernelName: string, opts: BindOptions = {}): BoundKernel {
  const kernel = findKernel(program, kernelName);
  if (!kernel)
    fail(
      `no kernel named '${kernelName}'`,
      undefined,
      `kernels: ${program.kernels.map((k) => k.name).join(', ')}`,
    );
  const ranks = new Map<string, number>();
  for (const r of program.ranks) ranks.set(r.name, evalSize(r.value!, ranks));
  const symbolic = new Set(kernel.ranks.filter((r) => !r.value).map((r) => r.name));
  // A defined rank may be passed back with its own value (backends re-bind with every rank they
  // were bound to); any other value is an error, checked once the defined ranks are evaluated.
  const definedFromOutside = new Map<string, number>();
  for (const [name, value] of Object.entries(opts.ranks ?? {})) {
    if (ranks.has(name) || kernel.ranks.some((r) => r.name === name && r.value)) {
      definedFromOutside.set(name, value);
      continue;
    }
    if (!symbolic.has(name)) continue; // ranks of other kernels in the same file are fine to pass
    ranks.set(name, value);
  }
  for (const param of kernel.params) {
    const actual = opts.inputShapes?.[param];
    if (!actual) continue;
    const info = kernel.tensors[param]!;
    if (actual.length !== info.shape.length)
      fail(
        `input ${param} has ${actual.length} ${actual.length === 1 ? 'axis' : 'axes'} but ${kernel.name} declares ${info.shape.length}`,
        info.span,
      );
    info.shape.forEach((dim, axis) => {
      if (dim.k !== 'rank' || !symbolic.has(dim.name)) return;
      const known = ranks.get(dim.name);
      if (known === undefined) ranks.set(dim.name, actual[axis]!);
      else if (known !== actual[axis])
        fail(
          `input ${param} axis ${axis} has size ${actual[axis]}, but ${dim.name} = ${known}`,
          info.span,
          `every use of ${dim.name} must have the same size`,
        );
    });
  }
  applyRankDefaults(program, symbolic, ranks);
  for (const r of kernel.ranks) if (r.value) ranks.set(r.name, evalSize(r.value, ranks));
  for (const [name, value] of definedFromOutside)
    if (ranks.get(name) !== value)
      fail(`rank ${name} is defined in the source; it cannot be set from outside`);
  for (const r of kernel.ranks)
    if (!ranks.has(r.name))
      fail(
        `rank ${r.name} has no value`,
        r.span,
        `pass --rank ${r.name}=INT, or an input whose shape sets it`,
      );

  const limits = opts.limits ?? DEFAULT_LIMITS;
  const shapes = new Map<string, number[]>();
  for (const info of Object.values(kernel.tensors)) {
    const shape = info.shape.map((d) => evalSize(d, ranks));
    shape.forEach((size, axis) => {
      if (size < 1)
        fail(
          `${info.name} axis ${axis} has size ${size} (${printExpr(info.shape[axis]!)})`,
          info.span,
          'every axis needs at least one element',
        );
    });
    const bytes = shape.reduce((a, b) => a * b, 1) * 4;
    // The compiler checks intermediates after planning, when it knows which ones are materialized.
    const materialized = info.kind !== 'intermediate' || opts.intermediatesMaterialized !== false;
    if (materialized && bytes > limits.maxTensorBytes)
      fail(
        `${info.name} needs ${formatBytes(bytes)} (shape [${shape.join(', ')}]), beyond the limit of ${formatBytes(limits.maxTensorBytes)} per tensor`,
        info.span,
        'raise the limit with --max-tensor-bytes BYTES, or use smaller ranks',
      );
    const given = opts.inputShapes?.[info.name];
    if (given && given.some((s, i) => s !== shape[i]))
      fail(
        `input ${info.name} has shape [${given.join(', ')}] but ${kernel.name} expects [${shape.join(', ')}]`,
        info.span,
      );
    shapes.set(info.name, shape);
  }
  const bound = { program, kernel, ranks, shapes };
  checkSubscriptBounds(bound);
  return bound;
}

/** Sets each symbolic rank that has no value yet to its `default rank`, in declaration order. */
export function applyRankDefaults(
  program: CascadeProgram,
  symbolic: ReadonlySet<string>,
  ranks: Map<string, number>,
): void {
  for (const d of program.defaults)
    if (symbolic.has(d.name) && !ranks.has(d.name)) ranks.set(d.name, evalSize(d.value!, ranks));
}

interface Interval {
  lo: number;
  hi: number;
}

/** Interval of an integer subscript over the statement's index ranges; undefined when it reads a tensor. */
function subscriptInterval(
  e: Expr,
  ranges: ReadonlyMap<string, number>,
  ranks: ReadonlyMap<string, number>,
): Interval | undefined {
  switch (e.k) {
    case 'num':
      return { lo: e.value, hi: e.value };
    case 'rank':
      return { lo: ranks.get(e.name)!, hi: ranks.get(e.name)! };
    case 'index':
      return { lo: 0, hi: ranges.get(e.name)! - 1 };
    case 'neg': {
      const a = subscriptInterval(e.a, ranges, ranks);
      return a && { lo: -a.hi, hi: -a.lo };
    }
    case 'binary': {
      const a = subscriptInterval(e.a, ranges, ranks);
      const b = subscriptInterval(e.b, ranges, ranks);
      if (!a || !b) return undefined;
      if (e.op === '+') return { lo: a.lo + b.lo, hi: a.hi + b.hi };
      if (e.op === '-') return { lo: a.lo - b.hi, hi: a.hi - b.lo };
      const products = [a.lo * b.lo, a.lo * b.hi, a.hi * b.lo, a.hi * b.hi];
      return { lo: Math.min(...products), hi: Math.max(...products) };
    }
    default:
      return undefined;
  }
}

function checkSubscriptBounds(b: BoundKernel): void {
  for (const step of b.kernel.steps) {
    if (step.kind !== 'einsum') continue;
    const ranges = new Map(step.ranges.map((r) => [r.name, evalSize(r.extent, b.ranks)]));
    walkExpr(step.body, (e) => {
      if (e.k !== 'access') return;
      const shape = b.shapes.get(e.tensor)!;
      e.subs.forEach((s, axis) => {
        const iv = subscriptInterval(s, ranges, b.ranks);
        if (!iv) return;
        if (iv.lo < 0 || iv.hi >= shape[axis]!)
          throw new EinError({
            message: `subscript ${printExpr(s)} of ${e.tensor} ranges over ${iv.lo}..${iv.hi}, but axis ${axis} has ${shape[axis]} elements (0..${shape[axis]! - 1})`,
            span: e.span,
            hint: 'check the ranks: an index ranges over the axis it subscripts plainly, or over the rank of its name',
          });
      });
    });
  }
}
