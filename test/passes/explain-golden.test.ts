// Golden `ein compile --explain` output for attention and the MLP: stable and readable. To update
// after an intended change: EIN_UPDATE_GOLDEN=1 npx vitest run test/passes/explain-golden.test.ts
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { main } from '../../src/cli/main.js';

const CASES: [string, string[]][] = [
  [
    'attention',
    ['examples/attention.ein', '--rank', 'P=4096', '--rank', 'M=4096', '--rank', 'E=64', '--rank', 'F=64'],
  ],
  ['mlp', ['examples/mlp.ein', '--rank', 'T=128', '--rank', 'D=768', '--rank', 'H=3072']],
];

describe('golden --explain', () => {
  test.each(CASES)('%s', async (name, args) => {
    let out = '';
    const code = await main(['compile', ...args, '--explain'], {
      out: (t) => (out += t.endsWith('\n') ? t : t + '\n'),
      err: (t) => (out += t),
    });
    expect(code).toBe(0);
    const path = `test/golden/${name}.explain.txt`;
    if (process.env['EIN_UPDATE_GOLDEN'] || !existsSync(path)) writeFileSync(path, out);
    expect(out).toBe(readFileSync(path, 'utf8'));
  });
});
