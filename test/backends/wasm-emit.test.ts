// `ein compile --target wasm -o DIR` writes a module, its text and a standalone loader; the loader,
// imported as a user would, gives the interpreter's results.
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { expect, test } from 'vitest';
import { main } from '../../src/cli/main.js';
import { checkFile } from '../../src/frontend/index.js';
import { bindKernel } from '../../src/ir/bind.js';
import { interpret } from '../../src/ir/interpreter.js';
import { randomInputs } from '../../src/ir/random-inputs.js';

test('the emitted loader runs causal attention like the interpreter', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ein-emit-'));
  const ranks = { P: 5, M: 12, E: 4, F: 3 };
  const args = Object.entries(ranks).flatMap(([k, v]) => ['--rank', `${k}=${v}`]);
  const out: string[] = [];
  const code = await main(
    ['compile', 'examples/causal_attention.ein', '--target', 'wasm', '-o', dir, ...args],
    {
      out: (t) => out.push(t),
      err: (t) => out.push(t),
    },
  );
  expect(code, out.join('\n')).toBe(0);
  for (const ext of ['wasm', 'wat', 'js', 'd.ts'])
    expect(existsSync(join(dir, `causal_attention.${ext}`))).toBe(true);
  const loader = (await import(pathToFileURL(join(dir, 'causal_attention.js')).href)) as {
    load(): Promise<{ run(inputs: Record<string, Float32Array>): Record<string, Float32Array> }>;
  };
  const kernel = await loader.load();
  const program = checkFile('examples/causal_attention.ein');
  const inputs = randomInputs(bindKernel(program, 'causal_attention', { ranks }), 2);
  const got = kernel.run(
    Object.fromEntries(Object.entries(inputs).map(([k, t]) => [k, t.data as Float32Array])),
  );
  const want = interpret(program, 'causal_attention', inputs).AV!.data;
  want.forEach((v, i) => expect(Math.abs(got.AV![i]! - v)).toBeLessThan(1e-5 * Math.max(1, Math.abs(v))));
});
