// The WASM backend's Loop IR clean-ups before emission: masks decided by a loop's bound and the
// peeled diagonal iteration (bounded-masks.ts), and collapsed row-major loop nests (loop-collapse.ts).
// Each is checked on the Loop IR it produces and against the interpreter, at the edges of the range.
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { foldBoundedMasks } from '../../src/backends/wasm/bounded-masks.js';
import { collapseLoops } from '../../src/backends/wasm/loop-collapse.js';
import { buildWasmProgram } from '../../src/backends/wasm/program.js';
import { WasmRunner } from '../../src/backends/wasm/runner.js';
import { checkSource } from '../../src/frontend/index.js';
import { bindKernel } from '../../src/ir/bind.js';
import { interpret } from '../../src/ir/interpreter.js';
import { printIndex, printLoopKernel } from '../../src/ir/loop-print.js';
import type { IExpr, LoopKernel, Stmt } from '../../src/ir/loops.js';
import { randomInputs } from '../../src/ir/random-inputs.js';
import { simplifyIndex } from '../../src/passes/index-algebra.js';
import { maskBounds } from '../../src/passes/mask-bounds.js';
import { compileKernel } from '../../src/passes/pipeline.js';
import { worstOutputError } from '../support/compare.js';

// One decode step of attention over a KV cache, as examples/llama.ein writes it: positions t < pos
// come from the cache, t == pos from the new key and value, t > pos are masked.
const DECODE = `kernel decode(q: f32[E], kc: f32[S, E], vc: f32[S, F], k_new: f32[E], v_new: f32[F], pos: i32) -> O {
  SC[t] = where(t <= pos, (sum[e] q[e] * where(t == pos, k_new[e], kc[t, e])) / sqrt(E), -inf)
  MX[] = max[t] SC[t]
  P[t] = exp(SC[t] - MX[])
  PS[] = sum[t] P[t]
  O[f] = (sum[t] where(t <= pos, P[t] * where(t == pos, v_new[f], vc[t, f]), 0)) / PS[]
}
`;

// A sum over a head split in (a, b) that reads one contiguous row: collapsible. TRANSPOSED reads the
// row with b major: not row-major in (a, b), so it must stay two loops.
const ROWS = `kernel rows(W: f32[D, A * B], X: f32[A, B]) -> Y {
  Y[d] = sum[a, b] W[d, a * B + b] * X[a, b]
}
`;
const TRANSPOSED = `kernel rows(W: f32[D, A * B], X: f32[A, B]) -> Y {
  Y[d] = sum[a, b] W[d, b * A + a] * X[a, b]
}
`;

async function wasmError(
  source: string,
  ranks: Record<string, number>,
  fix: Record<string, Int32Array> = {},
  kernelName?: string,
) {
  const program = checkSource(source, 't.ein');
  const kernel = kernelName ?? program.kernels[0]!.name;
  const inputs = randomInputs(bindKernel(program, kernel, { ranks }), 3);
  for (const [name, data] of Object.entries(fix)) inputs[name] = { dtype: 'i32', shape: [], data };
  const want = interpret(program, kernel, inputs, { ranks });
  const runner = await WasmRunner.create(
    buildWasmProgram(compileKernel(program, { kernel, ranks, threads: 1 }), { threads: 1 }),
  );
  try {
    return worstOutputError(runner.run(inputs), want);
  } finally {
    await runner.close();
  }
}

function loopKernels(source: string, ranks: Record<string, number>, kernel?: string): readonly LoopKernel[] {
  return compileKernel(checkSource(source, 't.ein'), { kernel, ranks, threads: 1 }).loops!.kernels;
}

const loopsOf = (list: readonly Stmt[]): Extract<Stmt, { k: 'for' }>[] =>
  list.flatMap((s) => (s.k === 'for' ? [s, ...loopsOf(s.body)] : s.k === 'if' ? loopsOf(s.body) : []));

describe('masks decided by loop bounds', () => {
  const ranks = { S: 128, E: 8, F: 8 };

  test('the cache loop loses its masks and the new position is peeled after it', () => {
    const folded = loopKernels(DECODE, ranks).map(foldBoundedMasks);
    const bounded = folded.flatMap((k) => loopsOf(k.body)).filter((l) => l.bound);
    expect(bounded.length).toBeGreaterThan(0);
    // Inside the bounded loops no comparison with pos is left: they read only the cache.
    for (const loop of bounded) {
      const body = printLoopKernel({ ...folded[0]!, body: loop.body, info: { statements: [], tiles: {} } });
      expect(body).not.toMatch(/==|<=|v_new/);
    }
    // The peeled iteration, guarded by `if`, reads the new value.
    expect(folded.map(printLoopKernel).join('\n')).toMatch(/if -1 < [^\n]*\n[^\n]*v_new\[/);
  });

  test.each([0, 1, 2, 63, 64, 65, 126, 127])('equals the interpreter at pos %i', async (pos) => {
    expect(await wasmError(DECODE, ranks, { pos: Int32Array.of(pos) })).toBeLessThan(1e-5);
  });
});

// GPT-2's decode attention at its default tiles: the cache is cut in blocks of 64 rows, as many as
// the head size E, so loops over e sit beside the loops over cache rows with the same extent.
const GPT2 = readFileSync(new URL('../../examples/gpt2.ein', import.meta.url), 'utf8');

describe('dynamic bounds when the cache block equals the head size', () => {
  const ranks = { H: 2, E: 64, S: 256, L: 2 };
  const loops = loopKernels(GPT2, ranks, 'gpt2_attend_step').flatMap((k) => loopsOf(k.body));

  test('every loop over cache rows in a block stops at pos + 1; loops over e do not', () => {
    const rows = loops.filter((l) => /^s_0/.test(l.var));
    expect(rows.length).toBeGreaterThanOrEqual(5);
    for (const l of rows) expect(l.extent).toBe(ranks.E);
    for (const l of rows) expect(l.bound && printIndex(l.bound)).toBe('1 + -64 * s_1 + pos[0]');
    for (const l of loops.filter((x) => /^e/.test(x.var))) expect(l.bound).toBeUndefined();
  });

  test.each([0, 1, 63, 64, 65, 200, 255])('equals the interpreter at pos %i', async (pos) => {
    const fix = { pos: Int32Array.of(pos), layer: Int32Array.of(1) };
    expect(await wasmError(GPT2, ranks, fix, 'gpt2_attend_step')).toBeLessThan(1e-5);
  });
});

// A mask reading the i32 scalar `pos` over a global SC (read by a later kernel): the max after it
// stops at pos + 1 by mask-bounds.ts, with pos read from memory at run time.
const SCALAR_MASK = `kernel m(x: f32[S], v: f32[S, F], pos: i32) -> O {
  SC[t] = where(t <= pos, x[t], -inf)
  MX[] = max[t] SC[t]
  P[t] = exp(SC[t] - MX[])
  PS[] = sum[t] P[t]
  O[f] = (sum[t] P[t] * v[t, f]) / PS[]
}
`;

describe('a mask reading a scalar input', () => {
  const ranks = { S: 64, F: 4 };
  const hasLoad = (e: IExpr): boolean =>
    e.k === 'iload' || (e.k !== 'const' && e.k !== 'var' && (hasLoad(e.a) || hasLoad(e.b)));

  test('the bound keeps pos[0] a load, not a variable of that name', () => {
    const bounds = loopKernels(SCALAR_MASK, ranks).flatMap((k) => [...maskBounds(k).values()]);
    expect(bounds.length).toBeGreaterThan(0);
    for (const b of bounds) expect(hasLoad(b)).toBe(true);
  });

  test('simplifyIndex keeps a gather a gather', () => {
    const pos: IExpr = { k: 'iload', buffer: 'pos', index: { k: 'const', v: 0 } };
    const index: IExpr = {
      k: 'add',
      a: { k: 'mul', a: { k: 'const', v: 2 }, b: pos },
      b: { k: 'const', v: 1 },
    };
    const simple = simplifyIndex({ k: 'sub', a: index, b: pos });
    expect(simple).toEqual({ k: 'add', a: pos, b: { k: 'const', v: 1 } });
  });

  test.each([0, 1, 31, 62, 63, 64])('equals the interpreter at pos %i', async (pos) => {
    expect(await wasmError(SCALAR_MASK, ranks, { pos: Int32Array.of(pos) })).toBeLessThan(1e-5);
  });
});

describe('collapsed loop nests', () => {
  const ranks = { D: 5, A: 4, B: 2 };

  test('a row-major pair of loops becomes one loop over A·B', () => {
    const [kernel] = loopKernels(ROWS, ranks).map(collapseLoops);
    const extents = loopsOf(kernel!.body).map((l) => l.extent);
    expect(extents).toContain(8);
    expect(extents).not.toContain(2);
    expect(loopsOf(kernel!.body).map((l) => l.var)).toContain('a_b');
  });

  test('a transposed read keeps both loops', () => {
    const [kernel] = loopKernels(TRANSPOSED, ranks).map(collapseLoops);
    const extents = loopsOf(kernel!.body).map((l) => l.extent);
    expect(extents).not.toContain(8);
  });

  test.each([
    ['row-major', ROWS],
    ['transposed', TRANSPOSED],
  ])('%s equals the interpreter', async (_, source) => {
    expect(await wasmError(source, { D: 7, A: 8, B: 3 })).toBeLessThan(1e-5);
  });
});
