import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { hasRelaxedSimd, hasSharedMemory, hasSimd128 } from '../../src/backends/wasm/features.js';

const run = promisify(execFile);
const repositoryRoot = fileURLToPath(new URL('../..', import.meta.url));
/** Loading binaryen before tsx keeps tsx from transpiling its 14 MB index.js (≈10 s per child). */
const CHILD_NODE_FLAGS = ['--import', 'binaryen', '--import', 'tsx'];

describe('feature detection', () => {
  it('sees simd128 and shared memory, and no relaxed SIMD in plain Node 20', () => {
    expect(hasSimd128()).toBe(true);
    expect(hasSharedMemory()).toBe(true);
    // vitest runs without --experimental-wasm-relaxed-simd; the child below runs with it.
    expect(hasRelaxedSimd()).toBe(false);
  });
});

describe('relaxed-SIMD GEMM (child node --experimental-wasm-relaxed-simd)', () => {
  it('matches the oracle on all shapes, layouts and with 2 threads', async () => {
    const { stdout } = await run(
      process.execPath,
      ['--experimental-wasm-relaxed-simd', ...CHILD_NODE_FLAGS, 'test/wasm/relaxed-check.ts'],
      { cwd: repositoryRoot, timeout: 50_000 },
    );
    const result = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as {
      checked: number;
      failures: string[];
    };
    expect(result.failures).toEqual([]);
    expect(result.checked).toBeGreaterThan(25);
  });
});
