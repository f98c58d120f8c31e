// docs/api.md is executable: every ```js block runs, top to bottom, with `import … from 'ein'` bound
// to src/index.ts and `assert` to node:assert/strict. Then the template's rules on their edges.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import * as einModule from '../src/index.js';
import { analyzeTemplate } from '../src/api/template-kernel.js';
import { KernelCache } from '../src/api/cache.js';
import { clearCache, compile, ein, EinError, toNested } from '../src/index.js';
import { extractBlocks } from './support/docs-blocks.js';

const DOC = 'docs/api.md';
const blocks = extractBlocks(readFileSync(DOC, 'utf8')).filter((b) => b.lang === 'js');

type AsyncBody = (ein: typeof einModule, assertion: typeof assert) => Promise<void>;
const AsyncFunction = Object.getPrototypeOf(async () => undefined).constructor as new (
  ...args: string[]
) => AsyncBody;

/** The block as the body of an async function: its imports become bindings of the arguments. */
function runnable(code: string): AsyncBody {
  const body = code
    .replace(/^import\s*\{([^}]*)\}\s*from\s*'ein';?$/gm, (_, names: string) => `const {${names}} = __ein;`)
    .replace(/^import\s+assert\s+from\s+'node:assert\/strict';?$/gm, '');
  if (/^\s*import\s/m.test(body)) throw new Error('a docs block imports something other than ein');
  return new AsyncFunction('__ein', 'assert', body);
}

afterAll(() => clearCache());

describe(DOC, () => {
  test('has examples', () => expect(blocks.length).toBeGreaterThanOrEqual(6));
  test.each(blocks.map((b) => [`${DOC}:${b.line}`, b] as const))('%s runs', async (_, block) => {
    await runnable(block.code)(einModule, assert);
  });
});

describe('the ein template', () => {
  test('parameters in order of first use, outputs are the unread definitions', () => {
    const a = analyzeTemplate('T[i, j] = Y[j] * X[i, j]\nZ[i] = sum[j] T[i, j] + W[i]');
    expect(a.params.map((p) => p.name)).toEqual(['Y', 'X', 'W']);
    expect(a.outputs).toEqual(['Z']);
    // Y's axis and X's second axis are both j: one rank; W's is X's first through T and Z.
    expect(a.params.map((p) => p.ranks)).toEqual([['J'], ['I', 'J'], ['I']]);
  });

  test('a rank name never collides with a tensor', () => {
    const a = analyzeTemplate('Y[a] = A[a] * B[b]');
    const [ranksA, ranksB] = a.params.map((p) => p.ranks);
    expect(ranksA![0]).not.toBe('A');
    expect(ranksB![0]).not.toBe('B');
    expect(ranksA![0]).not.toBe(ranksB![0]);
  });

  test('an iterative statement reading itself is still an output', () => {
    const a = analyzeTemplate('S[0, r] = 0\nS[k + 1, r] = S[k, r] + X[k, r]');
    expect(a.params.map((p) => p.name)).toEqual(['X']);
    expect(a.outputs).toEqual(['S']);
  });

  test('i32 arguments, several outputs, and the compiled kernel is cached by shape', async () => {
    const f = ein.with({ target: 'interp' })`
      G[t, d] = E[tok[t], d]
      N[t] = sum[d] G[t, d] * G[t, d]`;
    expect(f.params).toEqual(['E', 'tok']);
    expect(f.outputs).toEqual(['N']);
    const E = [
      [1, 2],
      [3, 4],
      [5, 6],
    ];
    const tok = { data: new Int32Array([2, 0]), shape: [2] };
    expect(toNested((await f(E, tok)).N!)).toEqual([61, 5]);
    expect(await f.kernel(E, tok)).toBe(await f.kernel(E, tok));
    expect(await f.kernel(E, tok)).not.toBe(await f.kernel([...E, [7, 8]], tok));
  });

  test('the wrong number of arguments, ragged arrays and bad interpolations are EinErrors', async () => {
    const mm = ein`C[m, n] = A[m, k] * B[k, n]`;
    await expect(mm([[1]])).rejects.toThrow(/reads A, B but was called with 1 argument/);
    await expect(mm([[1, 2], [3]], [[1], [2]])).rejects.toThrow(/A is ragged/);
    expect(() => ein`Y[i] = X[i] * ${{} as unknown as number}`).toThrow(EinError);
  });

  test('a syntax error throws where the template is written, pointing into it', () => {
    let error: unknown;
    try {
      ein`Y[i] = X[i] *`;
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(EinError);
    expect((error as EinError).line).toBe(1);
    expect((error as EinError).format()).toContain('<ein template>:1:');
  });
});

describe('compile', () => {
  test('wasm with threads matches the interpreter, and runs again after close', async () => {
    const source = 'kernel k(X: f32[R, C]) -> Y {\n  Y[r, c] = exp(X[r, c]) / sum[c2] exp(X[r, c2])\n}\n';
    const inputs = {
      X: { data: Float32Array.from({ length: 64 * 33 }, (_, i) => Math.sin(i)), shape: [64, 33] },
    };
    const wasm = await compile(source, { ranks: { R: 64, C: 33 }, threads: 3 });
    const interp = await compile(source, { ranks: { R: 64, C: 33 }, target: 'interp' });
    const want = (await interp.run(inputs)).Y!.data;
    for (let round = 0; round < 2; round++) {
      const got = (await wasm.run(inputs)).Y!.data;
      got.forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 5));
      await wasm.close();
    }
  });

  test('input errors name the parameter', async () => {
    const k = await compile('kernel k(X: f32[N]) -> Y {\n  Y[n] = X[n]\n}\n', {
      ranks: { N: 2 },
      target: 'interp',
    });
    await expect(k.run({})).rejects.toThrow('input X of k was not given');
    await expect(k.run({ X: [1, 2], Z: [1] })).rejects.toThrow('k has no input named Z');
    await expect(k.run({ X: [1, 2, 3] })).rejects.toThrow('input X axis 0 has size 3, but N = 2');
    await expect(
      compile('kernel k(X: f32[N]) -> Y {\n  Y[n] = X[n]\n}\n', { target: 'gpu' as 'wasm' }),
    ).rejects.toThrow("unknown target 'gpu'");
  });

  test('the cache keeps the most recent and evicts the oldest', () => {
    const evicted: number[] = [];
    const cache = new KernelCache<number>(2, (v) => evicted.push(v));
    cache.get('a', () => 1);
    cache.get('b', () => 2);
    cache.get('a', () => 99);
    cache.get('c', () => 3);
    expect(evicted).toEqual([2]);
    expect(cache.get('a', () => 99)).toBe(1);
  });
});

/** Modules `file` imports statically (type-only imports are erased, `import()` is lazy). */
function staticImports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [
    ...text.matchAll(/^(?:import|export)(?!\s+type\b)[^;]*?\sfrom\s+'([^']+)'|^import\s+'([^']+)'/gm),
  ].map((m) => (m[1] ?? m[2])!);
}

test('nothing src/index.ts loads statically is a node:* module (one bundle for Node and browsers)', () => {
  const seen = new Set<string>();
  const offenders: string[] = [];
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const spec of staticImports(file)) {
      if (spec.startsWith('node:')) offenders.push(`${file} imports ${spec}`);
      else if (spec.startsWith('.')) visit(resolve(dirname(file), spec.replace(/\.js$/, '.ts')));
    }
  };
  visit(resolve('src/index.ts'));
  expect(seen.size).toBeGreaterThan(30);
  expect(offenders).toEqual([]);
});
