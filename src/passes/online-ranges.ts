// Re-derive what the checker derives for a rewritten kernel — every index range, every inferred
// shape, the dependency order of the steps — with the checker's own rules (frontend/ranges.ts,
// frontend/order.ts), so that printKernel → checkSource gives back exactly the IR a pass built.
import type { Einsum, IndexRange, KernelIR, Step, TensorInfo } from '../ir/cascade.js';
import { freeIndices, walkExpr, type Expr } from '../ir/expr.js';
import { lhsIndex, minusOne, plusOne } from '../frontend/ranges.js';

const role = (e: Einsum): 'init' | 'update' | 'plain' =>
  e.subs.some((s) => s.k === 'num') ? 'init' : e.subs.some((s) => s.k === 'binary') ? 'update' : 'plain';

/** Ranges of one statement: first candidate from the left side's known shape, then plain reads, then the rank named like the index. */
function rangesOf(
  e: Einsum,
  shapes: ReadonlyMap<string, readonly Expr[]>,
  tensors: KernelIR['tensors'],
): IndexRange[] {
  const lhs = e.subs.map(lhsIndex).filter((x): x is string => x !== undefined);
  const found = new Map<string, Expr>();
  const note = (index: string, size: Expr) => {
    if (!found.has(index)) found.set(index, size);
  };
  const own = shapes.get(e.tensor);
  const iterAxis = e.subs.findIndex((s) => s.k === 'binary');
  if (own)
    e.subs.forEach((s, axis) => {
      const index = lhsIndex(s);
      if (index) note(index, axis === iterAxis ? minusOne(own[axis]!) : own[axis]!);
    });
  walkExpr(e.body, (x) => {
    if (x.k !== 'access') return;
    const shape = x.tensor === e.tensor && !own ? undefined : shapes.get(x.tensor);
    if (!shape) return;
    x.subs.forEach((s, axis) => {
      if (s.k === 'index' && axis !== tensors[x.tensor]?.iterativeAxis) note(s.name, shape[axis]!);
    });
  });
  const all = [...lhs, ...e.reduced];
  walkExpr(e.body, (x) => {
    if (x.k === 'reduce') for (const i of x.indices) if (!all.includes(i)) all.push(i);
  });
  for (const i of freeIndices(e.body)) if (!all.includes(i)) all.push(i);
  return all.map((name) => ({ name, extent: found.get(name) ?? { k: 'rank', name: name.toUpperCase() } }));
}

/** Every range and every undeclared shape of `kernel`, recomputed in the checker's order. */
export function reinfer(kernel: KernelIR): KernelIR {
  const shapes = new Map<string, readonly Expr[]>();
  for (const info of Object.values(kernel.tensors))
    if (info.kind === 'input' || info.declared) shapes.set(info.name, info.shape);
  const done = new Map<Step, Step>();
  const inferOne = (e: Einsum) => {
    const ranges = rangesOf(e, shapes, kernel.tensors);
    if (role(e) !== 'init' && !shapes.has(e.tensor))
      shapes.set(
        e.tensor,
        e.subs.map((s, axis) => {
          const extent = ranges.find((r) => r.name === lhsIndex(s))!.extent;
          return s.k === 'binary' && axis === kernel.tensors[e.tensor]?.iterativeAxis
            ? plusOne(extent)
            : extent;
        }),
      );
    done.set(e, { ...e, ranges });
  };
  // An iterative init learns its shape from its update, which comes later (frontend/check.ts).
  for (const s of kernel.steps) if (s.kind === 'einsum' && role(s) !== 'init') inferOne(s);
  for (const s of kernel.steps) if (s.kind === 'einsum' && role(s) === 'init') inferOne(s);
  const tensors: Record<string, TensorInfo> = {};
  for (const [name, info] of Object.entries(kernel.tensors))
    tensors[name] = shapes.has(name) ? { ...info, shape: shapes.get(name)! } : info;
  return { ...kernel, tensors, steps: kernel.steps.map((s) => done.get(s) ?? s) };
}

/** Kahn's algorithm taking the earliest ready step, as frontend/order.ts does: a valid order is kept. */
export function dependencyOrder(steps: readonly Step[]): Step[] {
  const defines = (s: Step) => (s.kind === 'call' ? s.outputs : [s.tensor]);
  const definers = new Map<string, number[]>();
  steps.forEach((s, i) => defines(s).forEach((t) => definers.set(t, [...(definers.get(t) ?? []), i])));
  const deps = steps.map((s, i) => {
    const reads = new Set<string>(s.kind === 'call' ? s.args : []);
    if (s.kind === 'einsum')
      walkExpr(s.body, (x) => {
        if (x.k === 'access') reads.add(x.tensor);
      });
    const out = [...reads].flatMap((t) => (definers.get(t) ?? []).filter((d) => d !== i));
    if (s.kind === 'einsum' && role(s) === 'update')
      out.push(...(definers.get(s.tensor) ?? []).filter((d) => d !== i));
    return new Set(out);
  });
  const order: number[] = [];
  const placed = new Set<number>();
  while (order.length < steps.length) {
    const next = steps.findIndex((_, i) => !placed.has(i) && [...deps[i]!].every((d) => placed.has(d)));
    if (next < 0) throw new Error('internal: the rewritten cascade has a cycle');
    order.push(next);
    placed.add(next);
  }
  return order.map((i) => steps[i]!);
}

/** All names a new tensor, rank or index must avoid: tensors, ranks and every index of every step. */
export function takenNames(kernel: KernelIR, globalRanks: readonly { name: string }[] = []): Set<string> {
  const taken = new Set<string>([
    kernel.name,
    ...Object.keys(kernel.tensors),
    ...kernel.ranks.map((r) => r.name),
    ...globalRanks.map((r) => r.name),
  ]);
  for (const s of kernel.steps) if (s.kind === 'einsum') s.ranges.forEach((r) => taken.add(r.name));
  return taken;
}

/** `base`, or `base_2`, `base_3`, ... — the first not taken; marks it taken. */
export function fresh(base: string, taken: Set<string>): string {
  let name = base;
  for (let n = 2; taken.has(name); n++) name = `${base}_${n}`;
  taken.add(name);
  return name;
}
