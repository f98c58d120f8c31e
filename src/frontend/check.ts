// The semantic checker: syntax tree → Cascade IR. Per kernel, in phases: declare names (parameters,
// outputs, ranks, left sides, bindings), resolve bodies (hoisting kernel calls), order the steps by
// dependency (rejecting cycles), then infer index ranges and shapes in that order.
import type { BodyItem, Binding, KernelDecl, ProgramAst, ScheduleDecl, Statement } from './ast.js';
import type {
  CascadeProgram,
  CallStep,
  Einsum,
  KernelIR,
  RankInfo,
  ScheduleIR,
  Step,
  TensorInfo,
} from '../ir/cascade.js';
import { walkExpr, type Expr, type Span } from '../ir/expr.js';
import { inferCall } from './calls.js';
import { EinError, fail } from './diagnostics.js';
import { inferEinsum, type PendingEinsum } from './ranges.js';
import { hoistCall, resolveSize, resolveValue } from './resolve.js';
import { isIndexName, KernelScope, type TensorSlot } from './scope.js';
import { checkDefaults, declareRank } from './rank-decls.js';
import { orderKernels, orderSteps } from './order.js';
import { printExpr } from './print-expr.js';
import { sameSize } from '../ir/sizes.js';

export function check(ast: ProgramAst, file = '<input>', source?: string): CascadeProgram {
  try {
    const globals = new Map<string, RankInfo>();
    for (const item of ast.items)
      if (item.kind === 'rank' && !item.isDefault) declareRank(item, globals, globals);
    const decls = ast.items.filter((i): i is KernelDecl => i.kind === 'kernel');
    const byName = new Map<string, KernelDecl>();
    for (const d of decls) {
      if (byName.has(d.name)) fail(`kernel ${d.name} is defined twice`, d.nameSpan, 'rename one of them');
      if (globals.has(d.name)) fail(`${d.name} is already a rank`, d.nameSpan);
      byName.set(d.name, d);
    }
    const checked = new Map<string, KernelIR>();
    for (const d of orderKernels(decls)) checked.set(d.name, checkKernel(d, checked, globals));
    const scheduleDecls = ast.items.filter((i): i is ScheduleDecl => i.kind === 'schedule');
    // The passes read one schedule per kernel; a second one would be silently ignored.
    scheduleDecls.forEach((s, i) => {
      if (scheduleDecls.slice(0, i).some((t) => t.kernel === s.kernel))
        fail(
          `kernel ${s.kernel} has two schedules`,
          s.nameSpan,
          'put all its directives in one schedule block',
        );
    });
    const schedules = scheduleDecls.map((s) => checkSchedule(s, checked));
    const kernels = decls.map((d) => checked.get(d.name)!);
    return {
      ranks: [...globals.values()],
      defaults: checkDefaults(ast, globals, kernels),
      kernels,
      schedules,
    };
  } catch (e) {
    if (e instanceof EinError && source !== undefined) throw e.withSource(file, source);
    throw e;
  }
}

function checkDType(dtype: string, span: Span): 'f32' | 'i32' {
  if (dtype === 'f32' || dtype === 'i32') return dtype;
  return fail(`unknown dtype '${dtype}'`, span, 'tensors are f32 or i32');
}

function checkKernel(
  d: KernelDecl,
  kernels: ReadonlyMap<string, KernelIR>,
  globals: ReadonlyMap<string, RankInfo>,
): KernelIR {
  const scope = new KernelScope(d.name, kernels);
  for (const [n, r] of globals) scope.ranks.set(n, r);
  const local: RankInfo[] = [];
  // A rank the body defines (`rank T = 2`) may size the signature too; it is declared with the body.
  const bodyRanks = new Set(d.body.flatMap((i) => (i.kind === 'rank' ? [i.name] : [])));
  const addSymbolic = (name: string, span?: Span) => {
    if (bodyRanks.has(name)) return;
    const r = { name, span };
    scope.ranks.set(name, r);
    local.push(r);
  };
  const declareTensor = (slot: TensorSlot) => {
    if (scope.tensors.has(slot.name)) fail(`${slot.name} is declared twice`, slot.span);
    if (scope.ranks.has(slot.name)) fail(`${slot.name} is already a rank`, slot.span);
    scope.tensors.set(slot.name, slot);
  };

  for (const p of d.params) {
    const dtype = checkDType(p.type.dtype, p.type.span);
    const shape = (p.type.shape ?? []).map((s) => resolveSize(s, scope.ranks, addSymbolic));
    declareTensor({
      name: p.name,
      dtype,
      kind: 'input',
      arity: shape.length,
      shape,
      declared: true,
      span: p.span,
    });
  }
  const declaredOutputs = new Map<string, { shape?: Expr[]; span: Span }>();
  for (const o of d.outputs) {
    if (declaredOutputs.has(o.name) || scope.tensors.has(o.name)) fail(`${o.name} is declared twice`, o.span);
    if (o.type && checkDType(o.type.dtype, o.type.span) !== 'f32')
      fail(`outputs hold computed values, which are f32`, o.type.span, `declare ${o.name}: f32[...]`);
    const shape = o.type
      ? (o.type.shape ?? []).map((s) => resolveSize(s, scope.ranks, addSymbolic))
      : undefined;
    declaredOutputs.set(o.name, { shape, span: o.span });
  }
  for (const item of d.body)
    if (item.kind === 'rank') {
      if (item.isDefault)
        fail('a default rank goes at the top level of the file', item.span, `move it above kernel ${d.name}`);
      const before = scope.ranks.size;
      declareRank(item, scope.ranks, scope.ranks);
      if (scope.ranks.size > before) local.push(scope.ranks.get(item.name)!);
    }

  const statements = d.body.filter((i): i is Statement => i.kind === 'statement');
  declareLeftSides(statements, scope, declaredOutputs, declareTensor);
  for (const b of d.body) if (b.kind === 'binding') declareBinding(b, scope, declaredOutputs, declareTensor);
  for (const [name, o] of declaredOutputs)
    if (!scope.tensors.has(name))
      fail(`output ${name} is never defined`, o.span, `add a statement ${name}[...] = ...`);

  const steps = resolveBodies(d.body, scope);
  const ordered = orderSteps(steps);
  const done = inferShapes(ordered, scope, new Set(globals.keys()));
  // A binding takes the callee's shapes; an output declared with a type must agree with them.
  for (const b of d.body)
    if (b.kind === 'binding')
      for (const name of b.names) {
        const declared = declaredOutputs.get(name)?.shape;
        const actual = scope.tensors.get(name)?.shape;
        if (
          declared &&
          actual &&
          (declared.length !== actual.length || declared.some((s, i) => !sameSize(s, actual[i]!)))
        )
          fail(
            `${name} is declared as f32[${declared.map((x) => printExpr(x)).join(', ')}] but ${(b.call as Extract<Expr, { k: 'call' }>).fn} gives it shape [${actual.map((x) => printExpr(x)).join(', ')}]`,
            b.span,
          );
      }

  const tensors: Record<string, TensorInfo> = {};
  for (const [name, s] of scope.tensors)
    tensors[name] = {
      name,
      dtype: s.dtype,
      kind: s.kind,
      shape: s.shape!,
      declared: s.declared,
      span: s.span,
      ...(s.iterativeAxis !== undefined ? { iterativeAxis: s.iterativeAxis } : {}),
    };
  return {
    name: d.name,
    params: d.params.map((p) => p.name),
    outputs: d.outputs.map((o) => o.name),
    tensors,
    ranks: local,
    steps: done,
    span: d.span,
  };
}

/** Classify each left side (plain, iterative init `T[0, p]`, update `T[i + 1, p]`) and declare its tensor. */
function declareLeftSides(
  statements: readonly Statement[],
  scope: KernelScope,
  outputs: ReadonlyMap<string, { shape?: Expr[]; span: Span }>,
  declare: (slot: TensorSlot) => void,
): void {
  const groups = new Map<string, Statement[]>();
  for (const s of statements) {
    const slot = scope.tensors.get(s.tensor);
    if (slot?.kind === 'input')
      fail(`${s.tensor} is an input: it cannot be assigned`, s.lhsSpan, 'define a new tensor instead');
    if (scope.ranks.has(s.tensor)) fail(`${s.tensor} is a rank, not a tensor`, s.lhsSpan);
    groups.set(s.tensor, [...(groups.get(s.tensor) ?? []), s]);
  }
  for (const [name, group] of groups) {
    const roles = group.map(classifyLeftSide);
    const plain = roles.findIndex((r) => r.role === 'plain');
    const iterative =
      roles.length === 2 && roles.some((r) => r.role === 'init') && roles.some((r) => r.role === 'update');
    if (!iterative && group.length > 1)
      fail(
        `${name} is defined twice`,
        group[1]!.lhsSpan,
        'each tensor has one defining statement (or an init and an update)',
      );
    if (iterative && (roles[0]!.axis !== roles[1]!.axis || group[0]!.subs.length !== group[1]!.subs.length))
      fail(`the init and the update of ${name} must use the same axis for generations`, group[1]!.lhsSpan);
    if (group.length === 1 && plain < 0)
      fail(
        roles[0]!.role === 'update'
          ? `iterative tensor ${name} has no initial statement`
          : `a constant left-side subscript only initialises an iterative tensor`,
        group[0]!.lhsSpan,
        roles[0]!.role === 'update'
          ? `add ${name}[0, ...] = (initial value)`
          : `write the update too: ${name}[i + 1, ...] = f(${name}[i, ...])`,
      );
    const out = outputs.get(name);
    const arity = group[0]!.subs.length;
    if (out?.shape && out.shape.length !== arity)
      fail(`${name} is declared with ${out.shape.length} axes but defined with ${arity}`, group[0]!.lhsSpan);
    declare({
      name,
      dtype: 'f32',
      kind: out ? 'output' : 'intermediate',
      arity,
      shape: out?.shape,
      declared: out?.shape !== undefined,
      span: group[0]!.lhsSpan,
      ...(iterative ? { iterativeAxis: roles.find((r) => r.role === 'update')!.axis } : {}),
    });
  }
}

function classifyLeftSide(s: Statement): { role: PendingEinsum['role']; axis?: number } {
  let role: PendingEinsum['role'] = 'plain';
  let axis: number | undefined;
  const seen = new Set<string>();
  s.subs.forEach((sub, i) => {
    let name: string | undefined;
    let marker: 'init' | 'update' | undefined;
    if (sub.k === 'index') name = sub.name;
    else if (sub.k === 'num' && sub.value === 0) marker = 'init';
    else if (
      sub.k === 'binary' &&
      sub.op === '+' &&
      sub.a.k === 'index' &&
      sub.b.k === 'num' &&
      sub.b.value === 1
    ) {
      name = sub.a.name;
      marker = 'update';
    } else
      fail(
        `left-side subscripts are index names`,
        sub.span,
        'write T[i, j] = ...; an iterative rank uses T[i + 1, ...] and T[0, ...]',
      );
    if (name !== undefined) {
      if (!isIndexName(name)) fail(`'${name}' is not an index name: indices are lowercase`, sub.span);
      if (seen.has(name))
        fail(`index ${name} appears twice on the left side`, sub.span, 'use a different index for each axis');
      seen.add(name);
    }
    if (marker) {
      if (role !== 'plain') fail(`only one axis of ${s.tensor} can hold generations`, sub.span);
      role = marker;
      axis = i;
    }
  });
  return { role, axis };
}

function declareBinding(
  b: Binding,
  scope: KernelScope,
  outputs: ReadonlyMap<string, { shape?: Expr[]; span: Span }>,
  declare: (slot: TensorSlot) => void,
): void {
  const call = b.call;
  if (call.k !== 'call' || !scope.kernels.has(call.fn))
    fail(
      `the right side of '${b.names.join(', ')} = ...' must be a kernel call`,
      call.span,
      b.names.length === 1
        ? `a tensor is defined with subscripts: ${b.names[0]}[i, ...] = ..., or ${b.names[0]}[] = ... for a scalar`
        : 'a statement with subscripts defines a tensor: T[i] = ...',
    );
  const callee = scope.kernels.get(call.fn)!;
  b.names.forEach((name, i) => {
    const info = callee.outputs[i] !== undefined ? callee.tensors[callee.outputs[i]!] : undefined;
    if (!info) return;
    const out = outputs.get(name);
    declare({
      name,
      dtype: info.dtype,
      kind: out ? 'output' : 'intermediate',
      arity: info.shape.length,
      shape: out?.shape,
      declared: out?.shape !== undefined,
      span: b.span,
    });
  });
}

type Pending = { kind: 'einsum'; p: PendingEinsum } | { kind: 'call'; c: CallStep };

function resolveBodies(body: readonly BodyItem[], scope: KernelScope): Pending[] {
  const steps: Pending[] = [];
  const drainCalls = () => {
    for (const c of scope.calls.splice(0)) steps.push({ kind: 'call', c });
  };
  for (const item of body) {
    if (item.kind === 'rank') continue;
    if (item.kind === 'binding') {
      const call = item.call as Extract<Expr, { k: 'call' }>;
      hoistCall(call.fn, call.args, call.span, scope, item.names);
      drainCalls();
      continue;
    }
    const slot = scope.tensors.get(item.tensor)!;
    const { role, axis } = classifyLeftSide(item);
    const subs = item.subs.map((s) => {
      const plain = s.k === 'binary' ? s.a : s;
      if (plain.k !== 'index') return s;
      if (scope.tensors.has(plain.name))
        fail(`'${plain.name}' is a tensor: left-side subscripts are index names`, plain.span);
      return s;
    });
    const rhs = resolveValue(item.rhs, scope);
    checkSelfReads(item, rhs, role, axis, slot);
    drainCalls();
    steps.push({
      kind: 'einsum',
      p: {
        tensor: item.tensor,
        subs,
        body: rhs,
        role,
        iterAxis: axis,
        span: item.span,
        lhsSpan: item.lhsSpan,
      },
    });
  }
  return steps;
}

/** Only an iterative update may read its own tensor, and only the previous generation. */
function checkSelfReads(
  s: Statement,
  rhs: Expr,
  role: PendingEinsum['role'],
  axis: number | undefined,
  slot: TensorSlot,
): void {
  const gen = role === 'update' ? (s.subs[axis!] as Extract<Expr, { k: 'binary' }>).a : undefined;
  walkExpr(rhs, (e) => {
    if (e.k !== 'access' || e.tensor !== s.tensor) return;
    if (role !== 'update')
      fail(
        `${s.tensor} reads itself`,
        e.span,
        `a running value needs an iterative rank: ${s.tensor}[i + 1, ...] = f(${s.tensor}[i, ...]) with ${s.tensor}[0, ...] = initial`,
      );
    const sub = e.subs[axis!]!;
    if (slot.iterativeAxis !== axis || sub.k !== 'index' || gen?.k !== 'index' || sub.name !== gen.name)
      fail(
        `an iterative update reads only the previous generation of ${s.tensor}`,
        e.span,
        `read ${s.tensor}[..., ${gen?.k === 'index' ? gen.name : 'i'}, ...]`,
      );
  });
}

function inferShapes(ordered: readonly Pending[], scope: KernelScope, globals: ReadonlySet<string>): Step[] {
  const result = new Map<Pending, Step>();
  const reads = (x: Pending): string[] => {
    if (x.kind === 'call') return [...x.c.args];
    const out: string[] = [];
    walkExpr(x.p.body, (e) => {
      if (e.k === 'access' && e.tensor !== x.p.tensor) out.push(e.tensor);
    });
    return out;
  };
  // A fixpoint rather than one sweep: an iterative init learns its shape from its update, which runs later.
  let progress = true;
  while (progress && result.size < ordered.length) {
    progress = false;
    for (const x of ordered) {
      if (result.has(x)) continue;
      if (!reads(x).every((t) => scope.tensors.get(t)!.shape)) continue;
      if (x.kind === 'einsum' && x.p.role === 'init' && !scope.tensors.get(x.p.tensor)!.shape) continue;
      if (x.kind === 'call') {
        inferCall(x.c, scope.kernels.get(x.c.kernel)!, scope, globals);
        result.set(x, x.c);
      } else result.set(x, inferEinsum(x.p, scope) satisfies Einsum);
      progress = true;
    }
  }
  if (result.size < ordered.length) throw new Error('internal: shape inference did not converge');
  return ordered.map((x) => result.get(x)!);
}

function checkSchedule(s: ScheduleDecl, kernels: ReadonlyMap<string, KernelIR>): ScheduleIR {
  const kernel = kernels.get(s.kernel);
  if (!kernel) fail(`schedule for unknown kernel '${s.kernel}'`, s.nameSpan);
  const tiles: Record<string, number> = {};
  const chunks: Record<string, number> = {};
  const fuse: { from: string; to: string }[] = [];
  let scratchpadBytes: number | undefined;
  // Index names are per statement; a directive names an index of at least one of the kernel's statements.
  const indices = new Set(
    kernel.steps.flatMap((st) => (st.kind === 'einsum' ? st.ranges.map((r) => r.name) : [])),
  );
  const checkIndex = (index: string, span: Span) => {
    if (!indices.has(index))
      fail(
        `index ${index} does not appear in ${s.kernel}`,
        span,
        `indices of ${s.kernel}: ${[...indices].join(', ')}`,
      );
  };
  for (const item of s.items) {
    if (item.kind === 'tile')
      for (const t of item.tiles) {
        checkIndex(t.index, t.span);
        if (t.index in tiles) fail(`index ${t.index} is tiled twice`, t.span);
        tiles[t.index] = t.size;
      }
    else if (item.kind === 'chunk') {
      checkIndex(item.index, item.span);
      if (item.index in chunks) fail(`index ${item.index} is chunked twice`, item.span);
      chunks[item.index] = item.size;
    } else if (item.kind === 'fuse') {
      for (const name of [item.from, item.to])
        if (!kernel.tensors[name] || kernel.tensors[name]!.kind === 'input')
          fail(`fuse names tensors defined in ${s.kernel}; '${name}' is not one`, item.span);
      fuse.push({ from: item.from, to: item.to });
    } else scratchpadBytes = item.bytes;
  }
  return {
    kernel: s.kernel,
    tiles,
    chunks,
    fuse,
    ...(scratchpadBytes !== undefined ? { scratchpadBytes } : {}),
    span: s.span,
  };
}
