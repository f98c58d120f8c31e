// inline: replace every kernel call by the callee's Einsums, so later passes see one flat cascade.
// Callee tensors get the call's name as a prefix; callee ranks become the caller's sizes.
import { bindCallRanks } from '../frontend/calls.js';
import type { CallStep, CascadeProgram, Einsum, KernelIR, Step, TensorInfo } from '../ir/cascade.js';
import { mapExpr, type Expr } from '../ir/expr.js';
import { substituteRanks } from '../ir/sizes.js';

export function inlineCalls(program: CascadeProgram, kernel: KernelIR): KernelIR {
  if (!kernel.steps.some((s) => s.kind === 'call')) return kernel;
  const globals = new Set(program.ranks.map((r) => r.name));
  const tensors: Record<string, TensorInfo> = { ...kernel.tensors };
  const steps: Step[] = [];
  for (const step of kernel.steps) {
    if (step.kind === 'einsum') steps.push(step);
    else steps.push(...inlineOne(program, step, tensors, globals));
  }
  return { ...kernel, tensors, steps };
}

function inlineOne(
  program: CascadeProgram,
  call: CallStep,
  tensors: Record<string, TensorInfo>,
  globals: ReadonlySet<string>,
): Einsum[] {
  const callee = inlineCalls(
    program,
    program.kernels.find((k) => k.name === call.kernel)!,
  );
  const ranks = bindCallRanks(call, callee, (t) => tensors[t]!.shape, globals);
  const rename = new Map<string, string>();
  callee.params.forEach((p, i) => rename.set(p, call.args[i]!));
  callee.outputs.forEach((o, i) => rename.set(o, call.outputs[i]!));
  const prefix = call.outputs[0]!;
  for (const info of Object.values(callee.tensors)) {
    if (rename.has(info.name)) continue;
    let name = `${prefix}_${info.name}`;
    while (tensors[name]) name += '_';
    rename.set(info.name, name);
    tensors[name] = {
      ...info,
      name,
      kind: 'intermediate',
      declared: false,
      shape: info.shape.map((d) => substituteRanks(d, ranks)),
    };
  }
  for (const [o, i] of callee.outputs.map((o, i) => [o, i] as const)) {
    const info = callee.tensors[o]!;
    const target = call.outputs[i]!;
    tensors[target] = {
      ...tensors[target]!,
      ...(info.iterativeAxis !== undefined ? { iterativeAxis: info.iterativeAxis } : {}),
    };
  }
  const translate = (e: Expr): Expr =>
    mapExpr(substituteRanks(e, ranks), (x) =>
      x.k === 'access' ? { ...x, tensor: rename.get(x.tensor) ?? x.tensor } : x,
    );
  return callee.steps.map((s) => {
    const e = s as Einsum;
    return {
      ...e,
      tensor: rename.get(e.tensor)!,
      subs: e.subs.map(translate),
      body: translate(e.body),
      ranges: e.ranges.map((r) => ({ name: r.name, extent: substituteRanks(r.extent, ranks) })),
    };
  });
}
