// The CUDA backend: the kernels and host launcher, compiled with g++ through ein_cuda_emu.h and run
// on the CPU, against the reference interpreter (every example at small sizes, 100 random
// cascades; several programs per g++ run, since the build dominates); every generated kernel
// compiled by nvcc for sm_80 and sm_90 without a single warning. Tolerances: backend-cases.ts.
import { readFile } from 'node:fs/promises';
import { describe, expect, test } from 'vitest';
import { formatCudaDiagnostic } from '../../src/backends/cuda/nvcc-diagnostics.js';
import { batchSources, runCudaEmulated } from '../../src/backends/cuda/run.js';
import { compileWithNvcc, emulatorHeaderPath, nvccAvailable } from '../../src/backends/cuda/toolchain.js';
import { main } from '../../src/cli/main.js';
import { exampleCases, expectClose, LOWERING_MISMATCHES, randomCases, type Case } from './backend-cases.js';

const examples = exampleCases('cuda');
const random = randomCases('cuda', 100);

async function runBatch(cases: readonly Case[]): Promise<void> {
  const results = await runCudaEmulated(
    cases.map((c) => ({ loops: c.loops, inputs: c.inputs })),
    { timeoutMs: 300_000 },
  );
  cases.forEach((c, i) => expectClose(c, results[i]!));
}

describe('CUDA on the CPU emulator', () => {
  test('every example equals the interpreter', () => runBatch(examples), 300_000);

  test('100 random cascades equal the interpreter', async () => {
    // Two binaries, built in parallel.
    await Promise.all([runBatch(random.slice(0, 50)), runBatch(random.slice(50))]);
    if (LOWERING_MISMATCHES.size)
      console.warn(`Loop IR differs from the interpreter: ${[...LOWERING_MISMATCHES].join(', ')}`);
    expect(LOWERING_MISMATCHES.size).toBeLessThan(5);
  }, 300_000);

  test('ein run --target cuda-emu', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await main(
      ['run', 'examples/softmax.ein', '-t', 'cuda-emu', '--random-inputs', '--rank', 'R=2', '--rank', 'C=3'],
      {
        out: (s) => out.push(s),
        err: (s) => err.push(s),
      },
    );
    expect(err).toEqual([]);
    expect(code).toBe(0);
    expect(out.join('')).toMatch(/Y: f32\[2, 3\]/);
  }, 120_000);
});

describe.skipIf(!(await nvccAvailable()))('nvcc', () => {
  test.each(['sm_80', 'sm_90'] as const)(
    'compiles every generated kernel and launcher for %s with no warning',
    async (arch) => {
      const { kernels, host } = batchSources(
        [...examples, ...random].map((c) => ({ loops: c.loops, inputs: c.inputs })),
      );
      // The launcher as nvcc sees it: tensor I/O inlined, kernels launched with <<<grid, block>>>.
      const io = await readFile(
        `${emulatorHeaderPath().replace(/ein_cuda_emu\.h$/, '')}ein_tensor_io.h`,
        'utf8',
      );
      const result = await compileWithNvcc(`${kernels}\n${io}\n${host}`, {
        arch,
        ptx: true,
        timeoutMs: 300_000,
      });
      if (!result.ok) expect.fail(result.diagnostics.map(formatCudaDiagnostic).join('\n'));
    },
    300_000,
  );
});
