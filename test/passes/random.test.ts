// ≥ 200 random cascades (test/support/random-cascade.ts, fixed seeds) through the whole pipeline:
// the Loop IR, run by its own interpreter, equals the reference interpreter, for each target's
// scratchpad and thread shape; the arena never overlaps live buffers.
import { describe, expect, test } from 'vitest';
import { checkSource } from '../../src/frontend/index.js';
import { bindKernel } from '../../src/ir/bind.js';
import { runBound } from '../../src/ir/interpreter.js';
import { executeLoops } from '../../src/ir/loop-interpreter.js';
import { randomInputs } from '../../src/ir/random-inputs.js';
import { overlappingEntries } from '../../src/passes/memplan.js';
import { compileKernel } from '../../src/passes/pipeline.js';
import { generateCascade, seededChooser } from '../support/random-cascade.js';

const RUNS = 220;

describe('random cascades through the pipeline', () => {
  test(`${RUNS} programs: Loop IR equals the interpreter`, () => {
    for (let seed = 1; seed <= RUNS; seed++) {
      const c = generateCascade(seededChooser(seed), { messy: false });
      const program = checkSource(c.source, `random-${seed}.ein`);
      const bound = bindKernel(program, c.kernel, { ranks: c.ranks });
      const inputs = randomInputs(bound, seed);
      const want = runBound(bound, inputs);
      const target = (['wasm', 'wgsl', 'cuda'] as const)[seed % 3]!;
      const state = compileKernel(program, {
        kernel: c.kernel,
        ranks: c.ranks,
        target,
        scratchpadBytes: seed % 2 ? 256 : undefined,
      });
      const got = executeLoops(state.loops!, inputs);
      for (const o of c.outputs) {
        const tolerance = 1e-3 * Math.max(1, c.bounds[o] ?? 1);
        want[o]!.data.forEach((v, i) => {
          const g = got[o]!.data[i]!;
          if (!(Math.abs(g - v) <= tolerance))
            expect.fail(`seed ${seed}, ${o}[${i}]: ${g} vs ${v}\n${c.source}`);
        });
      }
      expect(overlappingEntries(state.memory!)).toEqual([]);
    }
  });
});
