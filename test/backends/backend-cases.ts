// Shared by the WGSL and CUDA backend tests: the example programs at small sizes (1, primes, and
// non-multiples of the workgroup tile and of the 16-deep GEMM slices), the random cascades, and the
// comparison against the reference interpreter.
import { expect } from 'vitest';
import type { TargetName } from '../../src/backends/targets.js';
import { checkFile, checkSource } from '../../src/frontend/index.js';
import type { CascadeProgram } from '../../src/ir/cascade.js';
import { bindKernel } from '../../src/ir/bind.js';
import { runBound } from '../../src/ir/interpreter.js';
import { executeLoops } from '../../src/ir/loop-interpreter.js';
import type { LoopProgram } from '../../src/ir/loops.js';
import { randomInputs } from '../../src/ir/random-inputs.js';
import type { Tensor } from '../../src/ir/tensor.js';
import { compileKernel } from '../../src/passes/pipeline.js';
import { generateCascade, seededChooser } from '../support/random-cascade.js';

/** [file, kernel (default: the last), ranks] */
export const EXAMPLE_CASES: readonly [string, string | undefined, Record<string, number>][] = [
  ['matmul', undefined, { M: 1, K: 1, N: 1 }],
  ['matmul', undefined, { M: 5, K: 7, N: 9 }],
  ['matmul', undefined, { M: 37, K: 29, N: 45 }],
  ['matmul', undefined, { M: 1, K: 33, N: 300 }],
  ['softmax', undefined, { R: 3, C: 17 }],
  ['softmax', undefined, { R: 67, C: 5 }],
  ['layernorm', undefined, { T: 3, D: 31 }],
  ['rmsnorm', undefined, { T: 1, D: 64 }],
  ['rmsnorm', undefined, { T: 13, D: 7 }],
  ['mlp', undefined, { T: 3, D: 8, H: 13 }],
  ['conv1d', undefined, { I: 2, L: 11, O: 3, R: 3 }],
  ['conv1d', undefined, { I: 3, L: 70, O: 5, R: 2 }],
  ['attention', undefined, { P: 3, M: 7, E: 5, F: 2 }],
  ['attention', undefined, { P: 1, M: 1, E: 1, F: 1 }],
  ['attention_1pass', undefined, { P: 5, M: 12, E: 3, F: 3 }],
  ['causal_attention', undefined, { P: 3, M: 8, E: 4, F: 2 }],
  ['causal_attention', undefined, { P: 67, M: 67, E: 3, F: 2 }],
  ['gpt2', 'layernorm', { D: 7 }],
  ['gpt2', 'embed', { V: 11, P: 5, D: 6 }],
  ['gpt2', 'gpt2_block', { D: 6, H: 2, E: 3, F: 11, S: 5 }],
  ['gpt2', 'classify', { D: 6, V: 13 }],
  ['llama', 'rmsnorm', { D: 7 }],
  ['llama', 'embed', { V: 11, D: 6 }],
  ['llama', 'rope', { J: 3, S: 5 }],
  ['llama', 'llama_layer', { D: 8, L: 2, G: 2, R: 1, J: 2, H: 5, S: 5 }],
  ['llama', 'classify', { D: 6, V: 13 }],
];

export interface Case {
  readonly title: string;
  readonly loops: LoopProgram;
  readonly inputs: Record<string, Tensor>;
  /** Undefined when the Loop IR itself is wrong (see LOWERING_MISMATCHES). */
  readonly want: Record<string, Tensor> | undefined;
  /** |got - want| may reach this per output. */
  readonly tolerance: Readonly<Record<string, number>>;
}

function prepare(
  title: string,
  program: CascadeProgram,
  kernel: string,
  ranks: Record<string, number>,
  seed: number,
  target: TargetName,
  tolerance: (output: string, want: Tensor) => number,
): Case {
  const bound = bindKernel(program, kernel, { ranks });
  const inputs = randomInputs(bound, seed);
  const reference = runBound(bound, inputs);
  const loops = compileKernel(program, { kernel, ranks: Object.fromEntries(bound.ranks), target }).loops!;
  const tol = Object.fromEntries(Object.entries(reference).map(([o, t]) => [o, tolerance(o, t)]));
  // A backend can only be as right as the Loop IR it prints: where the Loop IR interpreter already
  // disagrees with the reference (a lowering bug, reported separately), there is nothing to check.
  const viaLoops = executeLoops(loops, inputs);
  const loopsWrong = Object.entries(reference).some(([o, t]) => !close(viaLoops[o]!, t, tol[o]!));
  if (loopsWrong) LOWERING_MISMATCHES.add(title.split('\n')[0]!);
  return { title, loops, inputs, want: loopsWrong ? undefined : reference, tolerance: tol };
}

/** Cases whose Loop IR differs from the reference interpreter: lowering bugs, not backend bugs. */
export const LOWERING_MISMATCHES = new Set<string>();

const close = (got: Tensor, want: Tensor, tolerance: number) =>
  want.data.every(
    (v, i) => Math.abs(got.data[i]! - v) <= tolerance || (Number.isNaN(v) && Number.isNaN(got.data[i]!)),
  );

/**
 * Examples: 1e-4 · max(1, max |expected|) — f32 arithmetic in another order than the float64
 * interpreter, and WGSL's erf helper (absolute error < 5e-7).
 */
export function exampleCases(target: TargetName): Case[] {
  return EXAMPLE_CASES.map(([file, kernel, ranks], i) => {
    const program = checkFile(`examples/${file}.ein`);
    const name = kernel ?? program.kernels[program.kernels.length - 1]!.name;
    const scale = (t: Tensor) => Math.max(1, ...Array.from(t.data, Math.abs));
    return prepare(
      `${file}:${name} ${JSON.stringify(ranks)}`,
      program,
      name,
      ranks,
      5 + i,
      target,
      (_, t) => 1e-4 * scale(t),
    );
  });
}

/** Random cascades of test/support/random-cascade.ts; tolerance: its bound, 1e-3 · max(1, bound). */
export function randomCases(target: TargetName, count: number, firstSeed = 7000): Case[] {
  const cases: Case[] = [];
  for (let seed = firstSeed; seed < firstSeed + count; seed++) {
    const c = generateCascade(seededChooser(seed), { messy: false });
    const program = checkSource(c.source, `random-${seed}.ein`);
    cases.push(
      prepare(
        `seed ${seed}\n${c.source}`,
        program,
        c.kernel,
        { ...c.ranks },
        seed,
        target,
        (o) => 1e-3 * Math.max(1, c.bounds[o] ?? 1),
      ),
    );
  }
  return cases;
}

/** Fails with the case, the output, the first differing element and both values. */
export function expectClose(c: Case, got: Record<string, Tensor>): void {
  for (const [name, want] of Object.entries(c.want ?? {})) {
    const data = got[name]?.data;
    if (!data) expect.fail(`${c.title}: no output ${name}`);
    expect(data.length).toBe(want.data.length);
    want.data.forEach((v, i) => {
      const g = data[i]!;
      if (!(Math.abs(g - v) <= c.tolerance[name]! || (Number.isNaN(g) && Number.isNaN(v))))
        expect.fail(`${c.title}: ${name}[${i}] is ${g}, the interpreter says ${v}`);
    });
  }
}
