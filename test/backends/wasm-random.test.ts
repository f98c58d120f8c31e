// ≥ 200 random cascades (test/support/random-cascade.ts, fixed seeds) on the WebAssembly backend
// against the reference interpreter; every tenth on 2 threads. Tolerance: the generator's bound,
// 1e-3 · max(1, |output| bound) (f32 arithmetic and the polynomial exp/tanh/erf).
import { describe, expect, test } from 'vitest';
import { buildWasmProgram } from '../../src/backends/wasm/program.js';
import { WasmRunner } from '../../src/backends/wasm/runner.js';
import { checkSource } from '../../src/frontend/index.js';
import { bindKernel } from '../../src/ir/bind.js';
import { runBound } from '../../src/ir/interpreter.js';
import { randomInputs } from '../../src/ir/random-inputs.js';
import { compileKernel } from '../../src/passes/pipeline.js';
import { generateCascade, seededChooser } from '../support/random-cascade.js';

const RUNS = 210;

describe('random cascades on wasm', () => {
  test(`${RUNS} programs equal the interpreter`, async () => {
    for (let seed = 1000; seed < 1000 + RUNS; seed++) {
      const c = generateCascade(seededChooser(seed), { messy: false });
      const program = checkSource(c.source, `random-${seed}.ein`);
      const bound = bindKernel(program, c.kernel, { ranks: c.ranks });
      const inputs = randomInputs(bound, seed);
      const want = runBound(bound, inputs);
      const threads = seed % 10 === 0 ? 2 : 1;
      const state = compileKernel(program, { kernel: c.kernel, ranks: c.ranks, threads });
      const runner = await WasmRunner.create(buildWasmProgram(state, { threads }));
      let got;
      try {
        got = runner.run(inputs);
      } finally {
        await runner.close();
      }
      for (const o of c.outputs) {
        const tolerance = 1e-3 * Math.max(1, c.bounds[o] ?? 1);
        want[o]!.data.forEach((v, i) => {
          const g = got[o]!.data[i]!;
          if (!(Math.abs(g - v) <= tolerance || (Number.isNaN(g) && Number.isNaN(v))))
            expect.fail(`seed ${seed}, ${o}[${i}]: ${g} vs ${v}\n${c.source}`);
        });
      }
    }
  }, 240_000);
});
