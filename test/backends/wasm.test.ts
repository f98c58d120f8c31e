// The WebAssembly backend against the reference interpreter: every example at several sizes (1,
// primes, non-multiples of the GEMM tile), on 1 and 2 threads. Tolerance: 1e-5 relative to
// max(1, |expected|) — f32 arithmetic in a different order than the float64 interpreter.
import { describe, expect, test } from 'vitest';
import { maxRelativeError } from '../support/compare.js';
import { buildWasmProgram } from '../../src/backends/wasm/program.js';
import { WasmRunner } from '../../src/backends/wasm/runner.js';
import { checkFile } from '../../src/frontend/index.js';
import { bindKernel } from '../../src/ir/bind.js';
import { interpret } from '../../src/ir/interpreter.js';
import { randomInputs } from '../../src/ir/random-inputs.js';
import { compileKernel } from '../../src/passes/pipeline.js';

const CASES: [string, Record<string, number>][] = [
  ['matmul', { M: 1, K: 1, N: 1 }],
  ['matmul', { M: 5, K: 7, N: 9 }],
  ['matmul', { M: 37, K: 29, N: 45 }],
  ['softmax', { R: 3, C: 17 }],
  ['layernorm', { T: 3, D: 31 }],
  ['rmsnorm', { T: 1, D: 64 }],
  ['mlp', { T: 3, D: 8, H: 13 }],
  ['conv1d', { I: 2, L: 11, O: 3, R: 3 }],
  ['attention', { P: 3, M: 7, E: 5, F: 2 }],
  ['attention_1pass', { P: 5, M: 12, E: 3, F: 3 }],
  ['causal_attention', { P: 3, M: 8, E: 4, F: 2 }],
];

describe('wasm equals the interpreter', () => {
  test.each(CASES)('%s %o on 1 and 2 threads', async (name, ranks) => {
    const program = checkFile(`examples/${name}.ein`);
    const kernel = program.kernels[program.kernels.length - 1]!.name;
    const inputs = randomInputs(bindKernel(program, kernel, { ranks }), 5);
    const want = interpret(program, kernel, inputs, { ranks });
    const results = [];
    for (const threads of [1, 2]) {
      const runner = await WasmRunner.create(
        buildWasmProgram(compileKernel(program, { ranks, threads }), { threads }),
      );
      try {
        results.push(runner.run(inputs));
      } finally {
        await runner.close();
      }
    }
    for (const got of results)
      for (const o of Object.keys(want))
        expect(maxRelativeError(got[o]!.data, want[o]!.data)).toBeLessThan(1e-5);
    for (const o of Object.keys(want)) expect(results[1]![o]!.data).toEqual(results[0]![o]!.data);
  });
});
