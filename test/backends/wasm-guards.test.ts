// Guard regions (guard-regions.ts) on every example: each buffer between guard bytes, filled with a
// pattern before the run and checked after it, so no kernel — scalar, SIMD lane loop, row jam,
// reduction tail, mask-bounded loop or GEMM — writes outside its buffers. Results still equal the
// interpreter. Sizes are primes and non-multiples of 4 and 16 so every vector tail runs.
import { describe, expect, test } from 'vitest';
import { checkGuards, fillGuards, isGuarded } from '../../src/backends/wasm/guard-regions.js';
import { buildWasmProgram } from '../../src/backends/wasm/program.js';
import { WasmRunner } from '../../src/backends/wasm/runner.js';
import { checkFile } from '../../src/frontend/index.js';
import { bindKernel } from '../../src/ir/bind.js';
import { interpret } from '../../src/ir/interpreter.js';
import { randomInputs } from '../../src/ir/random-inputs.js';
import type { Tensor } from '../../src/ir/tensor.js';
import { compileKernel } from '../../src/passes/pipeline.js';

const i32 = (v: number): Tensor => ({ dtype: 'i32', shape: [], data: new Int32Array([v]) });

/** [example, kernel (default: the last), ranks, i32 scalars to fix]. */
const CASES: [string, string | undefined, Record<string, number>, Record<string, number>][] = [
  ['matmul', undefined, { M: 37, K: 29, N: 45 }, {}],
  ['softmax', undefined, { R: 3, C: 37 }, {}],
  ['layernorm', undefined, { T: 3, D: 71 }, {}],
  ['rmsnorm', undefined, { T: 2, D: 67 }, {}],
  ['mlp', undefined, { T: 5, D: 19, H: 37 }, {}],
  ['conv1d', undefined, { I: 3, L: 23, O: 5, R: 3 }, {}],
  ['attention', undefined, { P: 7, M: 37, E: 19, F: 21 }, {}],
  ['attention_1pass', undefined, { P: 9, M: 24, E: 13, F: 18 }, {}],
  ['causal_attention', undefined, { P: 13, M: 37, E: 19, F: 21 }, {}],
  ['causal_attention', undefined, { P: 70, M: 70, E: 17, F: 22 }, {}],
  ['gpt2', 'gpt2_block', { D: 12, H: 2, E: 6, F: 20, S: 9 }, { pos: 5 }],
  ['gpt2', 'classify', { D: 12, V: 29 }, {}],
  ['llama', 'llama_layer', { D: 16, G: 1, R: 2, J: 4, L: 2, H: 23, S: 7 }, { layer: 1, pos: 4 }],
];

describe('wasm kernels stay inside their buffers', () => {
  test.each(CASES)('%s %s %o', async (name, kernelName, ranks, scalars) => {
    const program = checkFile(`examples/${name}.ein`);
    const kernel = kernelName ?? program.kernels[program.kernels.length - 1]!.name;
    const bound = bindKernel(program, kernel, { ranks });
    const inputs: Record<string, Tensor> = { ...randomInputs(bound, 3) };
    for (const [k, v] of Object.entries(scalars)) inputs[k] = i32(v);
    const want = interpret(program, kernel, inputs, { ranks });
    for (const threads of [1, 2]) {
      const state = compileKernel(program, { kernel, ranks, threads });
      const built = buildWasmProgram(state, { threads, guardBytes: 64 });
      const layout = built.layout;
      if (!isGuarded(layout)) throw new Error('expected a guarded layout');
      const runner = await WasmRunner.create(built);
      try {
        fillGuards(runner.memory, layout);
        const got = runner.run(inputs);
        expect(checkGuards(runner.memory, layout)).toEqual([]);
        for (const o of Object.keys(want))
          want[o]!.data.forEach((v, i) => {
            const g = got[o]!.data[i]!;
            if (!(Math.abs(g - v) <= 1e-4 * Math.max(1, Math.abs(v))))
              expect.fail(`${o}[${i}] = ${g}, expected ${v} (${threads} threads)`);
          });
      } finally {
        await runner.close();
      }
    }
  });

  test('a stray write is caught', async () => {
    const program = checkFile('examples/softmax.ein');
    const state = compileKernel(program, { ranks: { R: 2, C: 9 }, threads: 1 });
    const built = buildWasmProgram(state, { threads: 1, guardBytes: 64 });
    const layout = built.layout;
    if (!isGuarded(layout)) throw new Error('expected a guarded layout');
    const runner = await WasmRunner.create(built);
    try {
      fillGuards(runner.memory, layout);
      const y = layout.offsets.get('Y')!;
      new Float32Array(runner.memory.buffer, y + 4 * 18, 1)[0] = 1; // one element past Y
      expect(checkGuards(runner.memory, layout)).toHaveLength(1);
    } finally {
      await runner.close();
    }
  });
});
