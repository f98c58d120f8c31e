// The `bounds` pass (dynamic-bounds.ts with mask-bounds.ts) sets every masked loop's trip count in
// the pipeline, so each backend gets it, not just WASM: causal attention's loops over keys stop at
// the query's position on WGSL and CUDA too, and the Loop IR they print still equals the interpreter.
import { describe, expect, test } from 'vitest';
import type { TargetName } from '../../src/backends/targets.js';
import { checkFile } from '../../src/frontend/index.js';
import { bindKernel } from '../../src/ir/bind.js';
import { runBound } from '../../src/ir/interpreter.js';
import { executeLoops } from '../../src/ir/loop-interpreter.js';
import type { Stmt } from '../../src/ir/loops.js';
import { randomInputs } from '../../src/ir/random-inputs.js';
import { compileKernel } from '../../src/passes/pipeline.js';

const loopsOf = (list: readonly Stmt[]): Extract<Stmt, { k: 'for' }>[] =>
  list.flatMap((s) => (s.k === 'for' ? [s, ...loopsOf(s.body)] : s.k === 'if' ? loopsOf(s.body) : []));

describe('the bounds pass on every target', () => {
  const program = checkFile('examples/causal_attention.ein');

  test.each([
    ['wasm', { P: 3, M: 8, E: 4, F: 2 }],
    ['wgsl', { P: 3, M: 8, E: 4, F: 2 }],
    ['cuda', { P: 3, M: 8, E: 4, F: 2 }],
    ['wgsl', { P: 67, M: 67, E: 3, F: 2 }],
    ['cuda', { P: 64, M: 256, E: 16, F: 8 }],
  ] as [TargetName, Record<string, number>][])(
    '%s %o: key loops bounded, equal to the interpreter',
    (target, ranks) => {
      const state = compileKernel(program, { ranks, target, threads: 2 });
      const loops = state.loops!.kernels.flatMap((k) => loopsOf(k.body));
      const bounded = loops.filter((l) => l.bound);
      expect(bounded.length).toBeGreaterThan(0);
      // Only loops over keys (m) stop early; whole-grid and thread loops keep their static extents.
      for (const l of bounded) expect([l.var.charAt(0), l.kind]).toEqual(['m', 'serial']);
      const bound = bindKernel(program, program.kernels.at(-1)!.name, { ranks });
      const inputs = randomInputs(bound, 7);
      const want = runBound(bound, inputs);
      const got = executeLoops(state.loops!, inputs);
      for (const [o, t] of Object.entries(want))
        t.data.forEach((v, i) =>
          expect(Math.abs(got[o]!.data[i]! - v)).toBeLessThan(1e-5 * Math.max(1, Math.abs(v))),
        );
    },
  );
});
