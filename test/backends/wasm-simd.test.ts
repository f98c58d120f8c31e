// The SIMD paths of the Loop IR code generator (vectorize.ts, simd-reduce.ts) against the
// interpreter at sizes that exercise every vector tail, with and without relaxed SIMD (the relaxed
// build runs in a child process: vitest's Node 20 lacks --experimental-wasm-relaxed-simd), plus
// checks that the vector forms are really chosen and that causal masks stop loops early.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import binaryen from 'binaryen';
import { describe, expect, test } from 'vitest';
import { buildWasmProgram } from '../../src/backends/wasm/program.js';
import { checkFile, checkSource } from '../../src/frontend/index.js';
import { maskBounds } from '../../src/passes/mask-bounds.js';
import { compileKernel } from '../../src/passes/pipeline.js';
import { HEADED_CAUSAL, SIMD_CASES, simdError } from '../wasm/simd-cases.js';

const run = promisify(execFile);
const repositoryRoot = fileURLToPath(new URL('../..', import.meta.url));

function moduleText(source: string, ranks: Record<string, number>): string {
  const program = checkSource(source, 't.ein');
  const built = buildWasmProgram(compileKernel(program, { ranks, threads: 1 }), { threads: 1 });
  const mod = binaryen.readBinary(built.bytes);
  try {
    mod.setFeatures(binaryen.Features.All);
    return mod.emitText();
  } finally {
    mod.dispose();
  }
}

describe('SIMD kernels equal the interpreter', () => {
  test.each(SIMD_CASES)('%s %o', async (example, ranks) => {
    for (const threads of [1, 2])
      expect(await simdError({ example }, ranks, threads, false)).toBeLessThan(1e-5);
  });

  test('causal attention with heads, 2 threads', async () => {
    expect(
      await simdError({ text: HEADED_CAUSAL }, { H: 2, P: 67, M: 131, E: 64, F: 64 }, 2, false),
    ).toBeLessThan(1e-5);
  });

  test('with relaxed_madd (child node --experimental-wasm-relaxed-simd)', async () => {
    const { stdout } = await run(
      process.execPath,
      [
        '--experimental-wasm-relaxed-simd',
        '--import',
        'binaryen',
        '--import',
        'tsx',
        'test/wasm/simd-relaxed-check.ts',
      ],
      { cwd: repositoryRoot, timeout: 120_000 },
    );
    const result = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as {
      checked: number;
      failures: string[];
    };
    expect(result.failures).toEqual([]);
    expect(result.checked).toBe(SIMD_CASES.length + 1);
  }, 150_000);
});

describe('vector forms are chosen', () => {
  test('elementwise and reductions use f32x4 with scalar tails', () => {
    const text = moduleText(
      `kernel k(X: f32[T, D]) -> Y {
  MU[t] = sum[d] X[t, d] / D
  Y[t, d] = exp(X[t, d] - MU[t])
}`,
      { T: 3, D: 37 },
    );
    expect(text).toContain('f32x4.add');
    expect(text).toContain('v128.load');
    expect(text).toContain('v128.store');
    expect(text).toContain('i8x16.shuffle'); // the horizontal sum
  });

  test('a per-iteration scratch cell becomes a lane register', () => {
    const text = moduleText(
      `kernel k(X: f32[T, H], b: f32[H]) -> G {
  U[t, h] = X[t, h] + b[h]
  G[t, h] = U[t, h] * erf(U[t, h])
}`,
      { T: 2, H: 29 },
    );
    expect(text).toContain('v128.store');
  });
});

describe('causal masks stop loops early (mask-bounds.ts)', () => {
  test('every per-block loop of the fused causal attention gets a bound', () => {
    const program = checkFile('examples/causal_attention.ein');
    const state = compileKernel(program, { ranks: { P: 64, M: 256, E: 16, F: 16 } });
    const bounded: string[] = [];
    for (const k of state.loops!.kernels) for (const loop of maskBounds(k).keys()) bounded.push(loop.var);
    // The dot products, the mask, the max, exp, the sum and the weighted sum of V.
    expect(bounded.length).toBeGreaterThanOrEqual(6);
    // Never a grid loop (workers split those by their static extent).
    for (const k of state.loops!.kernels)
      for (const loop of maskBounds(k).keys()) expect(loop.kind).not.toBe('grid');
  });

  test('no bound without a mask', () => {
    const program = checkFile('examples/attention.ein');
    const state = compileKernel(program, { ranks: { P: 16, M: 64, E: 8, F: 8 } });
    for (const k of state.loops!.kernels) expect(maskBounds(k).size).toBe(0);
  });
});
