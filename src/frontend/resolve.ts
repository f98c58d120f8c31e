// Name resolution inside one kernel: a bare name becomes a tensor access, a rank or an index; builtin
// calls are checked for arity; kernel calls are hoisted into call steps whose results are tensors.
import { BUILTINS, type Expr, type Span } from '../ir/expr.js';
import { closest, fail } from './diagnostics.js';
import { isIndexName, isRankName, type KernelScope } from './scope.js';

/** Resolve a size expression (a shape dimension or a rank's value): numbers, ranks and + - * /. */
export function resolveSize(
  e: Expr,
  ranks: ReadonlyMap<string, unknown>,
  addSymbolic?: (name: string, span?: Span) => void,
): Expr {
  switch (e.k) {
    case 'num':
      if (!Number.isInteger(e.value) || e.value < 0) fail(`a size must be a whole number`, e.span);
      return e;
    case 'index':
    case 'rank': {
      if (!isRankName(e.name))
        fail(
          `'${e.name}' cannot be a size: rank names are UPPERCASE`,
          e.span,
          `write ${e.name.toUpperCase()}`,
        );
      if (!ranks.has(e.name)) {
        if (!addSymbolic) fail(`unknown rank '${e.name}'`, e.span, `declare it: rank ${e.name} = ...`);
        addSymbolic(e.name, e.span);
      }
      return { k: 'rank', name: e.name, span: e.span };
    }
    case 'binary':
      if (e.op === '+' || e.op === '-' || e.op === '*' || e.op === '/')
        return { ...e, a: resolveSize(e.a, ranks, addSymbolic), b: resolveSize(e.b, ranks, addSymbolic) };
      break;
    default:
      break;
  }
  return fail(`a size is made of whole numbers, ranks and + - * /`, e.span);
}

/** Resolve a right-hand-side expression (a value). */
export function resolveValue(e: Expr, scope: KernelScope): Expr {
  switch (e.k) {
    case 'num':
      return e;
    case 'index':
    case 'rank':
      return resolveBareName(e.name, e.span, scope);
    case 'access':
      return resolveAccess(e.tensor, e.subs, e.span, scope);
    case 'neg':
      return { ...e, a: resolveValue(e.a, scope) };
    case 'binary':
      return { ...e, a: resolveValue(e.a, scope), b: resolveValue(e.b, scope) };
    case 'reduce':
      for (const i of e.indices)
        if (!isIndexName(i)) fail(`'${i}' cannot be reduced over: index names are lowercase`, e.span);
      return { ...e, body: resolveValue(e.body, scope) };
    case 'call': {
      const arity = BUILTINS[e.fn];
      if (arity !== undefined) {
        if (e.args.length !== arity)
          fail(`${e.fn} takes ${arity} argument${arity === 1 ? '' : 's'}, not ${e.args.length}`, e.span);
        return { ...e, args: e.args.map((a) => resolveValue(a, scope)) };
      }
      if (scope.kernels.has(e.fn) || e.fn === scope.kernelName)
        fail(
          `the result of kernel ${e.fn} is a tensor: index it`,
          e.span,
          `write ${e.fn}(...)[i, j], or bind it first: N = ${e.fn}(...)`,
        );
      return unknownFunction(e.fn, e.span, scope);
    }
    case 'kcall': {
      const [output] = hoistCall(e.kernel, e.args, e.span, scope, undefined);
      return resolveAccess(output!, e.subs, e.span, scope);
    }
  }
}

function unknownFunction(name: string, span: Span | undefined, scope: KernelScope): never {
  const guess = closest(name, [...Object.keys(BUILTINS), ...scope.kernels.keys()]);
  return fail(
    `unknown function '${name}'`,
    span,
    guess
      ? `did you mean ${guess}?`
      : `functions: ${Object.keys(BUILTINS).join(', ')}, or a kernel defined above`,
  );
}

function resolveBareName(name: string, span: Span | undefined, scope: KernelScope): Expr {
  if (scope.tensors.has(name)) return resolveAccess(name, [], span, scope);
  if (scope.ranks.has(name)) return { k: 'rank', name, span };
  if (isIndexName(name)) return { k: 'index', name, span };
  const guess = closest(name, [...scope.tensors.keys(), ...scope.ranks.keys()]);
  return fail(
    `unknown name '${name}'`,
    span,
    guess ? `did you mean ${guess}?` : 'tensors and ranks must be declared before use',
  );
}

function resolveAccess(
  tensor: string,
  subs: readonly Expr[],
  span: Span | undefined,
  scope: KernelScope,
): Expr {
  const slot = scope.tensors.get(tensor);
  if (!slot) {
    const guess = closest(tensor, scope.tensors.keys());
    const known = [...scope.tensors.keys()].join(', ');
    fail(`unknown tensor '${tensor}'`, span, guess ? `did you mean ${guess}?` : `tensors here: ${known}`);
  }
  if (subs.length !== slot.arity)
    fail(
      `${tensor} has ${axes(slot.arity)} but ${subs.length} subscript${subs.length === 1 ? ' was' : 's were'} given`,
      span,
      slot.arity === 0
        ? `write ${tensor} without brackets`
        : `write ${tensor}[${defaultSubscripts(slot.arity)}]`,
    );
  return { k: 'access', tensor, subs: subs.map((s) => resolveSubscript(s, scope)), span };
}

const axes = (n: number) => `${n} ${n === 1 ? 'axis' : 'axes'}`;

const defaultSubscripts = (n: number) =>
  Array.from({ length: n }, (_, i) => 'ijklmn'[i] ?? `i${i}`).join(', ');

/** Subscripts are affine in indices and ranks, plus reads of i32 tensors (gathers, positions). */
export function resolveSubscript(e: Expr, scope: KernelScope): Expr {
  switch (e.k) {
    case 'num':
      if (!Number.isInteger(e.value))
        fail(`a subscript must be a whole number, not ${e.raw ?? e.value}`, e.span);
      return e;
    case 'index':
    case 'rank': {
      const resolved = resolveBareName(e.name, e.span, scope);
      return resolved.k === 'access' ? gather(e.name, [], e.span, scope) : resolved;
    }
    case 'access':
      return gather(e.tensor, e.subs, e.span, scope);
    case 'neg':
      return { ...e, a: resolveSubscript(e.a, scope) };
    case 'binary':
      if (e.op === '+' || e.op === '-' || e.op === '*')
        return { ...e, a: resolveSubscript(e.a, scope), b: resolveSubscript(e.b, scope) };
      break;
    default:
      break;
  }
  return fail(`subscripts use + - * on indices, ranks, whole numbers and i32 tensors`, e.span);
}

function gather(tensor: string, subs: readonly Expr[], span: Span | undefined, scope: KernelScope): Expr {
  const resolved = resolveAccess(tensor, subs, span, scope);
  const slot = scope.tensors.get(tensor)!;
  if (slot.dtype !== 'i32')
    fail(
      `${tensor} is ${slot.dtype}: only i32 tensors can be read inside a subscript`,
      span,
      `declare ${tensor} as i32`,
    );
  return resolved;
}

/**
 * Hoist a kernel call: its tensor arguments (nested calls are hoisted first) and a call step whose
 * outputs are fresh tensors, or the names given by a binding `A, B = f(X)`.
 */
export function hoistCall(
  kernel: string,
  args: readonly Expr[],
  span: Span | undefined,
  scope: KernelScope,
  names: readonly string[] | undefined,
): string[] {
  if (kernel === scope.kernelName) fail(`kernel ${kernel} calls itself`, span, 'kernels cannot be recursive');
  const callee = scope.kernels.get(kernel);
  if (!callee) {
    if (BUILTINS[kernel] !== undefined)
      fail(`${kernel} is a function, not a kernel: it cannot be indexed`, span);
    return unknownFunction(kernel, span, scope);
  }
  if (args.length !== callee.params.length)
    fail(
      `kernel ${kernel} takes ${callee.params.length} argument${callee.params.length === 1 ? '' : 's'}, not ${args.length}`,
      span,
      `${kernel}(${callee.params.join(', ')})`,
    );
  const argNames = args.map((a, i) => {
    if (a.k === 'call' && !(a.fn in BUILTINS)) {
      const [out] = hoistCall(a.fn, a.args, a.span, scope, undefined);
      return out!;
    }
    if ((a.k === 'index' || a.k === 'rank') && scope.tensors.has(a.name)) {
      const slot = scope.tensors.get(a.name)!;
      const param = callee.tensors[callee.params[i]!]!;
      if (slot.dtype !== param.dtype)
        fail(
          `argument ${a.name} is ${slot.dtype} but ${kernel} expects ${param.dtype} for ${param.name}`,
          a.span,
        );
      if (slot.arity !== param.shape.length)
        fail(
          `argument ${a.name} has ${axes(slot.arity)} but ${kernel} expects ${param.shape.length} for ${param.name}`,
          a.span,
        );
      return a.name;
    }
    if (a.k === 'index' || a.k === 'rank') resolveBareName(a.name, a.span, scope);
    return fail(
      `kernel arguments are tensors: pass a tensor name or a kernel call`,
      a.span,
      'compute the value into a tensor first: T[i] = ...',
    );
  });
  if (callee.outputs.length > 1 && names === undefined)
    fail(
      `kernel ${kernel} returns ${callee.outputs.length} tensors: bind them`,
      span,
      `${callee.outputs.join(', ')} = ${kernel}(...)`,
    );
  if (names && names.length !== callee.outputs.length)
    fail(
      `kernel ${kernel} returns ${callee.outputs.length} tensor${callee.outputs.length === 1 ? '' : 's'}, but ${names.length} name${names.length === 1 ? ' was' : 's were'} given`,
      span,
    );
  const outputs = names ? [...names] : callee.outputs.map(() => scope.fresh(kernel));
  callee.outputs.forEach((o, i) => {
    const info = callee.tensors[o]!;
    if (!names)
      scope.tensors.set(outputs[i]!, {
        name: outputs[i]!,
        dtype: info.dtype,
        kind: 'intermediate',
        arity: info.shape.length,
        declared: false,
        span: span!,
      });
  });
  scope.calls.push({ kind: 'call', kernel, args: argNames, outputs, span });
  return outputs;
}
