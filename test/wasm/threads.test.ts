import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { WasmThreadPool } from '../../src/backends/wasm/threads.js';
import { firstMismatch, runGemmCases, type GemmCase } from './gemm-harness.js';
import { buildPoolTestModule } from './pool-harness.js';

const run = promisify(execFile);
const repositoryRoot = fileURLToPath(new URL('../..', import.meta.url));
/** Loading binaryen before tsx keeps tsx from transpiling its 14 MB index.js (≈10 s per child). */
const CHILD_NODE_FLAGS = ['--import', 'binaryen', '--import', 'tsx'];

describe('WasmThreadPool', () => {
  it('visits every item exactly once, for many counts and chunk sizes, at 1 and 2 threads', async () => {
    const { module, memory } = buildPoolTestModule(1 << 20);
    const marks = new Int32Array(memory.buffer, 0, 20_000);
    for (const threads of [1, 2]) {
      const pool = await WasmThreadPool.create({ module, memory, threads, spinIterations: 10_000 });
      try {
        for (const [count, chunk] of [
          [1, 1],
          [2, 1],
          [97, 1],
          [1000, 7],
          [20_000, undefined],
          [5, 100],
        ] as const) {
          marks.fill(0);
          pool.parallelFor('mark', count, chunk);
          const wrong = marks.findIndex((value, index) => value !== (index < count ? 1 : 0));
          expect(wrong, `threads=${threads} count=${count} chunk=${chunk}`).toBe(-1);
        }
      } finally {
        await pool.close();
      }
    }
  });

  it('stays exact over many back-to-back small generations (late workers cannot steal items)', async () => {
    const { module, memory } = buildPoolTestModule(1 << 20);
    const marks = new Int32Array(memory.buffer, 0, 64);
    const pool = await WasmThreadPool.create({ module, memory, threads: 2, spinIterations: 50 });
    try {
      marks.fill(0);
      for (let generation = 0; generation < 2000; generation++)
        pool.parallelFor('mark', 1 + (generation % 64), 1);
      const expected = Array.from(
        { length: 64 },
        (_, index) => 2000 - [...Array(2000).keys()].filter((g) => 1 + (g % 64) <= index).length,
      );
      expect(Array.from(marks)).toEqual(expected);
    } finally {
      await pool.close();
    }
  });

  it('reports a trap from whichever thread hit it, and stays usable', async () => {
    const { module, memory } = buildPoolTestModule(999);
    const pool = await WasmThreadPool.create({ module, memory, threads: 2 });
    try {
      expect(() => pool.parallelFor('trap_at_end', 1000, 1)).toThrow();
      expect(() => pool.parallelFor('missing', 10)).toThrow(/no exported function 'missing'/);
      const marks = new Int32Array(memory.buffer, 0, 64).fill(0);
      pool.parallelFor('mark', 64, 1);
      expect(marks.every((value) => value === 1)).toBe(true);
    } finally {
      await pool.close();
    }
    expect(() => pool.parallelFor('mark', 1)).toThrow(/closed/);
  });

  it('refuses a non-shared memory for more than one thread', async () => {
    const { module } = buildPoolTestModule(0);
    const memory = new WebAssembly.Memory({ initial: 4, maximum: 4 });
    await expect(WasmThreadPool.create({ module, memory, threads: 2 })).rejects.toThrow(/shared/);
  });

  it('GEMM on 1 and 2 threads equals the oracle and the serial result bit for bit', async () => {
    const cases: GemmCase[] = [
      { m: 131, n: 67, k: 45 },
      { m: 3, n: 301, k: 17, b: { transposed: true }, accumulate: true },
      { m: 200, n: 5, k: 64, a: { transposed: true }, blockRows: 8 },
    ];
    const serial = await runGemmCases(cases, 0);
    for (const threads of [1, 2]) {
      const pooled = await runGemmCases(cases, threads);
      pooled.forEach((result, index) => {
        expect(firstMismatch(result), `threads=${threads} case ${index}`).toBe(-1);
        expect(Array.from(result.actual)).toEqual(Array.from(serial[index].actual));
      });
    }
  });

  it.each([[[]], [['--leave-open']]])('lets the process exit after use (args %o)', async (extra) => {
    const { stdout } = await run(
      process.execPath,
      [...CHILD_NODE_FLAGS, 'test/wasm/pool-exit-check.ts', ...extra],
      {
        cwd: repositoryRoot,
        timeout: 30_000,
      },
    );
    expect(JSON.parse(stdout.trim())).toEqual({ allMarkedOnce: true });
  });
});
