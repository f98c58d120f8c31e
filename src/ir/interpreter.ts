// The reference interpreter: a deliberately plain evaluator of the Cascade IR, the oracle for every
// pass, backend and model. Numeric rules:
//  - tensors are stored as f32 (i32 tensors as integers);
//  - within one statement, the map expression and its reductions are evaluated in float64, and each
//    output element is rounded to f32 once, when it is stored;
//  - reductions walk their indices in increasing order; max/min use Math.max/Math.min (NaN wins);
//  - an iterative rank is walked in increasing order, outermost, so generation i is complete before i + 1;
//  - a subscript outside its axis is an error, never a silent read.
import { EinError } from '../frontend/diagnostics.js';
import { bindKernel, type BindOptions, type BoundKernel } from './bind.js';
import type { CallStep, CascadeProgram, Einsum } from './cascade.js';
import type { Expr, ReduceOp } from './expr.js';
import { UNARY_MATH } from './mathfns.js';
import { evalSize } from './sizes.js';
import { stridesOf, zeros, type Tensor } from './tensor.js';

export type Tensors = Record<string, Tensor>;

export interface InterpretOptions extends Omit<BindOptions, 'inputShapes'> {}

/** Run `kernelName` on `inputs`; returns its outputs. Ranks come from the inputs' shapes and `opts.ranks`. */
export function interpret(
  program: CascadeProgram,
  kernelName: string,
  inputs: Tensors,
  opts: InterpretOptions = {},
): Tensors {
  const inputShapes = Object.fromEntries(Object.entries(inputs).map(([k, t]) => [k, t.shape]));
  const bound = bindKernel(program, kernelName, { ...opts, inputShapes });
  return runBound(bound, inputs, opts);
}

export function runBound(bound: BoundKernel, inputs: Tensors, opts: InterpretOptions = {}): Tensors {
  const { kernel } = bound;
  const env: Tensors = {};
  for (const p of kernel.params) {
    const t = inputs[p];
    if (!t)
      throw new EinError({
        message: `input ${p} of ${kernel.name} was not given`,
        span: kernel.tensors[p]!.span,
      });
    if (t.dtype !== kernel.tensors[p]!.dtype)
      throw new EinError({
        message: `input ${p} is ${t.dtype} but ${kernel.name} declares ${kernel.tensors[p]!.dtype}`,
        span: kernel.tensors[p]!.span,
      });
    env[p] = t;
  }
  for (const step of kernel.steps) {
    if (step.kind === 'call') runCall(step, bound, env, opts);
    else {
      env[step.tensor] ??= zeros('f32', bound.shapes.get(step.tensor)!);
      runEinsum(step, bound, env);
    }
  }
  return Object.fromEntries(kernel.outputs.map((o) => [o, env[o]!]));
}

function runCall(step: CallStep, bound: BoundKernel, env: Tensors, opts: InterpretOptions): void {
  const callee = bound.program.kernels.find((k) => k.name === step.kernel)!;
  const args = Object.fromEntries(callee.params.map((p, i) => [p, env[step.args[i]!]!]));
  const results = interpret(bound.program, step.kernel, args, { limits: opts.limits });
  callee.outputs.forEach((o, i) => (env[step.outputs[i]!] = results[o]!));
}

const IDENTITY: Record<ReduceOp, number> = { sum: 0, prod: 1, max: -Infinity, min: Infinity };
const COMBINE: Record<ReduceOp, (a: number, b: number) => number> = {
  sum: (a, b) => a + b,
  prod: (a, b) => a * b,
  max: Math.max,
  min: Math.min,
};

type Thunk = () => number;

class EinsumRunner {
  readonly slots = new Map<string, number>();
  readonly extents: number[] = [];
  readonly env: number[] = [];

  constructor(
    readonly e: Einsum,
    readonly bound: BoundKernel,
    readonly tensors: Tensors,
  ) {
    for (const r of e.ranges) {
      this.slots.set(r.name, this.extents.length);
      this.extents.push(evalSize(r.extent, bound.ranks));
      this.env.push(0);
    }
  }

  run(): void {
    const { e } = this;
    const out = this.tensors[e.tensor]!;
    const offset = this.offsetOf(e.tensor, e.subs, e.span);
    const body = this.compile(e.body);
    const lhs = e.subs.map((s) =>
      s.k === 'index' ? s.name : s.k === 'binary' && s.a.k === 'index' ? s.a.name : undefined,
    );
    // The iterative index goes outermost so that every generation completes before the next starts.
    const iterative = e.subs.findIndex((s) => s.k === 'binary');
    const outer = lhs.filter((x): x is string => x !== undefined);
    if (iterative >= 0) outer.unshift(...outer.splice(outer.indexOf(lhs[iterative]!), 1));
    const reduced = this.compileLoop(e.reduced, e.reduce, body);
    this.loop(
      outer.map((n) => this.slots.get(n)!),
      0,
      () => {
        out.data[offset()] = reduced();
      },
    );
  }

  private loop(slots: readonly number[], depth: number, f: () => void): void {
    if (depth === slots.length) return f();
    const slot = slots[depth]!;
    const n = this.extents[slot]!;
    for (let i = 0; i < n; i++) {
      this.env[slot] = i;
      this.loop(slots, depth + 1, f);
    }
  }

  /** A reduction of `body` over `indices` with `op` (the body itself when there is nothing to reduce). */
  private compileLoop(indices: readonly string[], op: ReduceOp, body: Thunk): Thunk {
    if (indices.length === 0) return body;
    const slots = indices.map((n) => this.slots.get(n)!);
    const combine = COMBINE[op];
    const identity = IDENTITY[op];
    return () => {
      let acc = identity;
      this.loop(slots, 0, () => {
        acc = combine(acc, body());
      });
      return acc;
    };
  }

  private offsetOf(tensor: string, subs: readonly Expr[], span: Einsum['span']): Thunk {
    const shape = this.bound.shapes.get(tensor)!;
    const strides = stridesOf(shape);
    const parts = subs.map((s) => this.compile(s));
    return () => {
      let offset = 0;
      for (let axis = 0; axis < parts.length; axis++) {
        const i = parts[axis]!();
        if (!(i >= 0 && i < shape[axis]!))
          throw new EinError({
            message: `${tensor}[...] reads position ${i} on axis ${axis}, outside its ${shape[axis]} elements`,
            span,
            hint: 'an index tensor (a gather) holds a value out of range',
          });
        offset += i * strides[axis]!;
      }
      return offset;
    };
  }

  private compile(x: Expr): Thunk {
    switch (x.k) {
      case 'num': {
        const v = x.value;
        return () => v;
      }
      case 'rank': {
        const v = this.bound.ranks.get(x.name)!;
        return () => v;
      }
      case 'index': {
        const slot = this.slots.get(x.name)!;
        const env = this.env;
        return () => env[slot]!;
      }
      case 'access': {
        const data = this.tensors[x.tensor]!.data;
        const offset = this.offsetOf(x.tensor, x.subs, x.span);
        return () => data[offset()]!;
      }
      case 'neg': {
        const a = this.compile(x.a);
        return () => -a();
      }
      case 'binary':
        return binary(x.op, this.compile(x.a), this.compile(x.b));
      case 'call':
        return callOf(
          x.fn,
          x.args.map((a) => this.compile(a)),
        );
      case 'reduce':
        return this.compileLoop(x.indices, x.op, this.compile(x.body));
      case 'kcall':
        throw new Error('internal: kernel calls are hoisted before interpretation');
    }
  }
}

function binary(op: string, a: Thunk, b: Thunk): Thunk {
  switch (op) {
    case '+':
      return () => a() + b();
    case '-':
      return () => a() - b();
    case '*':
      return () => a() * b();
    case '/':
      return () => a() / b();
    case '^':
      return () => Math.pow(a(), b());
    case '<':
      return () => (a() < b() ? 1 : 0);
    case '<=':
      return () => (a() <= b() ? 1 : 0);
    case '>':
      return () => (a() > b() ? 1 : 0);
    case '>=':
      return () => (a() >= b() ? 1 : 0);
    case '==':
      return () => (a() === b() ? 1 : 0);
    default:
      return () => (a() !== b() ? 1 : 0);
  }
}

function callOf(fn: string, args: Thunk[]): Thunk {
  const [a, b, c] = args as [Thunk, Thunk, Thunk];
  if (fn === 'max') return () => Math.max(a(), b());
  if (fn === 'min') return () => Math.min(a(), b());
  // where() evaluates only the chosen branch, so a masked-out branch cannot raise an error.
  if (fn === 'where') return () => (a() !== 0 ? b() : c());
  const f = UNARY_MATH[fn]!;
  return () => f(a());
}

function runEinsum(e: Einsum, bound: BoundKernel, tensors: Tensors): void {
  new EinsumRunner(e, bound, tensors).run();
}
