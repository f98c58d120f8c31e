// hoist: a contraction nested in an elementwise expression (`U[t, h] = (sum[d] X[t, d] * W[d, h]) + b[h]`)
// becomes its own Einsum, so it can run as the `contract` intrinsic (register-blocked GEMM on WASM,
// shared-memory tiles on GPUs) and the epilogue fuses with what follows — the split TVM and XNNPACK
// make between a GEMM and its bias/activation.
import type { Einsum, KernelIR, Step, TensorInfo } from '../ir/cascade.js';
import { freeIndices, type Expr } from '../ir/expr.js';
import { evalSize } from '../ir/sizes.js';
import { matchContraction } from './contract.js';
import type { Decision } from './decisions.js';
import { fresh, takenNames } from './online-ranges.js';

export function hoistContractions(
  kernel: KernelIR,
  ranks: ReadonlyMap<string, number>,
): { kernel: KernelIR; decisions: Decision[] } {
  const taken = takenNames(kernel);
  const tensors: Record<string, TensorInfo> = { ...kernel.tensors };
  const decisions: Decision[] = [];
  const steps: Step[] = [];
  for (const step of kernel.steps) {
    if (step.kind !== 'einsum' || step.reduced.length > 0 || step.subs.some((s) => s.k !== 'index')) {
      steps.push(step);
      continue;
    }
    const hoisted: Einsum[] = [];
    const replace = (e: Expr): Expr => {
      if (e.k === 'reduce' && e.op === 'sum') {
        const free = freeIndices(e);
        const name = fresh(`${step.tensor}_sum`, taken);
        const candidate: Einsum = {
          kind: 'einsum',
          tensor: name,
          subs: free.map((i) => ({ k: 'index', name: i })),
          reduce: 'sum',
          reduced: e.indices,
          body: e.body,
          ranges: step.ranges.filter((r) => free.includes(r.name) || e.indices.includes(r.name)),
        };
        if (matchContraction(candidate, ranks)) {
          taken.add(name);
          hoisted.push(candidate);
          tensors[name] = {
            name,
            dtype: 'f32',
            kind: 'intermediate',
            declared: false,
            shape: free.map((i) => step.ranges.find((r) => r.name === i)!.extent),
          };
          return { k: 'access', tensor: name, subs: candidate.subs };
        }
        return e;
      }
      switch (e.k) {
        case 'neg':
          return { ...e, a: replace(e.a) };
        case 'binary':
          return { ...e, a: replace(e.a), b: replace(e.b) };
        case 'call':
          return { ...e, args: e.args.map(replace) };
        default:
          return e;
      }
    };
    const body = replace(step.body);
    if (hoisted.length === 0) {
      steps.push(step);
      continue;
    }
    for (const h of hoisted) {
      const size = h.ranges.reduce((n, r) => n * evalSize(r.extent, ranks), 1);
      decisions.push({
        pass: 'hoist',
        subject: step.tensor,
        choice: `contraction ${h.tensor} computed on its own`,
        why: `a plain contraction (${size} multiply-adds) runs as the contract intrinsic; ${step.tensor} keeps the elementwise rest`,
        alternativeCost:
          'left inside the expression it would run as scalar loops, re-reading its operands per element',
      });
    }
    steps.push(...hoisted, {
      ...step,
      body,
      ranges: step.ranges.filter(
        (r) =>
          freeIndices(body).includes(r.name) || step.subs.some((s) => s.k === 'index' && s.name === r.name),
      ),
    });
  }
  return decisions.length ? { kernel: { ...kernel, tensors, steps }, decisions } : { kernel, decisions };
}
