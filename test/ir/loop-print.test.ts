import { expect, test } from 'vitest';
import { printLoopKernel } from '../../src/ir/loop-print.js';
import type { LoopKernel } from '../../src/ir/loops.js';

test('a loop with a dynamic bound prints the min it runs to', () => {
  const store = (index: string) => ({
    k: 'store' as const,
    buffer: 'Y',
    index: { k: 'var' as const, name: index },
    value: { k: 'const' as const, v: 0 },
  });
  const kernel: LoopKernel = {
    name: 'k',
    uses: ['Y'],
    locals: [],
    info: { statements: ['Y[t] = 0'], tiles: {} },
    body: [
      {
        k: 'for',
        var: 't',
        extent: 64,
        kind: 'serial',
        bound: {
          k: 'add',
          a: { k: 'iload', buffer: 'pos', index: { k: 'const', v: 0 } },
          b: { k: 'const', v: 1 },
        },
        body: [store('t')],
      },
      { k: 'for', var: 'u', extent: 8, kind: 'vector', body: [store('u')] },
    ],
  };
  expect(printLoopKernel(kernel).split('\n')).toEqual([
    'kernel k  # Y[t] = 0',
    '  for t in 0..min(64, pos[0] + 1) {',
    '    Y[t] = 0',
    '  }',
    '  for u in 0..8 (vector) {',
    '    Y[u] = 0',
    '  }',
  ]);
});
