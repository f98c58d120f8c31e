// Assemble the Loop IR program: the global buffers (inputs, outputs, and intermediates that cross
// kernels) and one lowered kernel per fusion group.
import type { BufferDecl, LoopProgram } from '../ir/loops.js';
import type { CompileState } from './state.js';
import { lowerGroup } from './lower.js';

export function kernelName(index: number, tensors: readonly string[]): string {
  return `k${index + 1}_${tensors[tensors.length - 1]}`;
}

export function buildLoopProgram(state: CompileState): LoopProgram {
  const groups = state.groups!;
  const local = new Set<string>();
  for (const g of groups) for (const p of g.placements.values()) if (p.local) local.add(p.tensor);
  const k = state.kernel;
  const buffer = (name: string, role: BufferDecl['role']): BufferDecl => {
    const shape = state.shapes.get(name)!;
    return {
      name,
      dtype: k.tensors[name]!.dtype,
      size: shape.reduce((a, b) => a * b, 1),
      level: 'global',
      role,
      shape,
    };
  };
  const intermediates = Object.values(k.tensors).filter(
    (t) =>
      t.kind === 'intermediate' &&
      !local.has(t.name) &&
      groups.some((g) => g.einsums.some((e) => e.tensor === t.name)),
  );
  const buffers = [
    ...k.params.map((p) => buffer(p, 'input')),
    ...k.outputs.map((o) => buffer(o, 'output')),
    ...intermediates.map((t) => buffer(t.name, 'intermediate')),
  ];
  const kernels = groups.map((g, i) =>
    lowerGroup(
      g,
      state.tiles![i]!,
      kernelName(
        i,
        g.einsums.map((e) => e.tensor),
      ),
      {
        ranks: state.ranks,
        shapes: state.shapes,
        int32: new Set(
          Object.values(k.tensors)
            .filter((t) => t.dtype === 'i32')
            .map((t) => t.name),
        ),
      },
    ),
  );
  return { name: k.name, buffers, inputs: k.params, outputs: k.outputs, kernels };
}
