// Every example through the whole pipeline: the Loop IR, run by its own interpreter, equals the
// reference interpreter on the Cascade IR; the arena never overlaps two live buffers.
import { describe, expect, test } from 'vitest';
import { maxRelativeError } from '../support/compare.js';
import { checkFile } from '../../src/frontend/index.js';
import { bindKernel } from '../../src/ir/bind.js';
import { interpret } from '../../src/ir/interpreter.js';
import { executeLoops } from '../../src/ir/loop-interpreter.js';
import { randomInputs } from '../../src/ir/random-inputs.js';
import { overlappingEntries } from '../../src/passes/memplan.js';
import { compileKernel, PIPELINE } from '../../src/passes/pipeline.js';

const EXAMPLES: [string, Record<string, number>][] = [
  ['matmul', { M: 5, K: 7, N: 9 }],
  ['matmul', { M: 1, K: 13, N: 1 }],
  ['softmax', { R: 3, C: 5 }],
  ['layernorm', { T: 3, D: 5 }],
  ['rmsnorm', { T: 2, D: 3 }],
  ['mlp', { T: 3, D: 4, H: 5 }],
  ['conv1d', { I: 2, L: 7, O: 3, R: 3 }],
  ['attention', { P: 3, M: 8, E: 4, F: 2 }],
  ['attention', { P: 1, M: 1, E: 1, F: 1 }],
  ['attention_1pass', { P: 3, M: 8, E: 4, F: 2 }],
  ['attention_1pass', { P: 5, M: 12, E: 3, F: 3 }],
  ['causal_attention', { P: 3, M: 8, E: 4, F: 2 }],
];

describe('pipeline preserves meaning', () => {
  test.each(EXAMPLES)('%s %o', (name, ranks) => {
    for (const target of ['wasm', 'wgsl', 'cuda'] as const) {
      const program = checkFile(`examples/${name}.ein`);
      const seen: string[] = [];
      const state = compileKernel(program, { ranks, target, onPass: (p) => seen.push(p.name) });
      expect(seen).toEqual(PIPELINE.map((p) => p.name));
      const inputs = randomInputs(bindKernel(program, state.kernel.name, { ranks }), 3);
      const want = interpret(program, state.kernel.name, inputs, { ranks });
      const got = executeLoops(state.loops!, inputs);
      for (const o of Object.keys(want))
        expect(maxRelativeError(got[o]!.data, want[o]!.data)).toBeLessThan(1e-5);
      expect(overlappingEntries(state.memory!)).toEqual([]);
    }
  });

  test('the 1-pass attention streams its key blocks: on-chip state does not grow with M', () => {
    const program = checkFile('examples/attention_1pass.ein');
    const small = compileKernel(program, { ranks: { P: 8, M: 64, E: 8, F: 8 } });
    const large = compileKernel(program, { ranks: { P: 8, M: 1024, E: 8, F: 8 } });
    expect(small.groups).toHaveLength(1);
    expect(small.groups![0]!.stream).toBeDefined();
    expect(large.groups![0]!.localBytesPerSlot).toBe(small.groups![0]!.localBytesPerSlot);
  });
});
