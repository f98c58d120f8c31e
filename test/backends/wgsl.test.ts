// The WGSL backend on a WebGPU device (lavapipe in CI) against the reference interpreter: every
// example at small sizes, 100 random cascades, every module validating with no diagnostic at all,
// and the storage layout under forced binding limits (packing and splitting). Tolerances: see
// backend-cases.ts. Skips only outside CI when there is no adapter (gpuForTests).
import { afterAll, describe, expect, test } from 'vitest';
import { validateWgsl } from '../../src/backends/wgsl/index.js';
import { splitDispatch } from '../../src/backends/c-launch.js';
import {
  buildWgslProgram,
  WEBGPU_DEFAULT_LIMITS,
  type WgslProgramLimits,
} from '../../src/backends/wgsl/program.js';
import { effectiveLimits, runWgslProgram } from '../../src/backends/wgsl/run.js';
import { main } from '../../src/cli/main.js';
import { gpuForTests } from '../wgsl/gpu-for-tests.js';
import { exampleCases, expectClose, LOWERING_MISMATCHES, randomCases, type Case } from './backend-cases.js';

const { gpu, title } = await gpuForTests('WGSL backend');
afterAll(() => gpu?.destroy());

/** Runs `c` printed for the device's limits lowered to `limits`; compileWgsl fails on any warning. */
async function run(c: Case, limits: Partial<WgslProgramLimits> = {}): Promise<void> {
  const program = buildWgslProgram(c.loops, { limits: effectiveLimits(gpu!.limits, limits) });
  expectClose(c, await runWgslProgram(gpu!, program, c.inputs));
}

describe.skipIf(!gpu)(title, () => {
  test('every example equals the interpreter; every module validates with no diagnostic at all', async () => {
    for (const c of exampleCases('wgsl')) {
      for (const k of buildWgslProgram(c.loops).kernels) {
        const diagnostics = await validateWgsl(gpu!, k.source);
        if (diagnostics.length > 0)
          expect.fail(`${c.title} ${k.name}:\n${JSON.stringify(diagnostics)}\n${k.source}`);
      }
      await run(c);
    }
  }, 120_000);

  test('within the WebGPU default limits (256 invocations, 8 bindings, 16 KiB workgroup memory)', async () => {
    for (const c of exampleCases('wgsl').filter((x) => /matmul|block|layer/.test(x.title)))
      await run(c, WEBGPU_DEFAULT_LIMITS);
  }, 60_000);

  test('100 random cascades equal the interpreter', async () => {
    for (const c of randomCases('wgsl', 100)) await run(c);
    // Known: seed 7031 (a per-thread local read at another thread's index; see the backend report).
    if (LOWERING_MISMATCHES.size)
      console.warn(`Loop IR differs from the interpreter: ${[...LOWERING_MISMATCHES].join(', ')}`);
    expect(LOWERING_MISMATCHES.size).toBeLessThan(5);
  }, 120_000);

  test('packs buffers into fewer bindings and splits buffers larger than a binding', async () => {
    // mlp (T 3, D 8, H 13) binds X 24, W1 104, b1 13, W2 104, b2 8 and Y 24 floats in one kernel.
    const [c] = exampleCases('wgsl').filter((x) => x.title.startsWith('mlp'));
    const limits = { maxStorageBuffersPerShaderStage: 6, maxStorageBufferBindingSize: 256 };
    const built = buildWgslProgram(c!.loops, { limits: effectiveLimits(gpu!.limits, limits) });
    const units = built.layout.units.map((u) => u.name);
    expect(units.filter((u) => u.startsWith('ein_pack')).length).toBeGreaterThan(0);
    expect(units.filter((u) => u.startsWith('ein_part')).sort()).toEqual([
      'ein_part0_W1',
      'ein_part0_W2',
      'ein_part1_W1',
      'ein_part1_W2',
    ]);
    for (const k of built.kernels) expect(k.bindings.length).toBeLessThanOrEqual(6);
    expect(built.layout.units.every((u) => u.elements * 4 <= 256)).toBe(true);
    await run(c!, limits);
    await run(c!, { maxStorageBuffersPerShaderStage: 2 }); // packing alone: everything in two packs
    await run(c!, { maxStorageBufferBindingSize: 128 }); // splitting alone: parts of 32 floats
    expect(() =>
      buildWgslProgram(c!.loops, {
        limits: { maxStorageBuffersPerShaderStage: 2, maxStorageBufferBindingSize: 64 },
      }),
    ).toThrow(/maxStorageBuffersPerShaderStage = 2/);
  }, 60_000);

  test('splits a dispatch larger than maxComputeWorkgroupsPerDimension', async () => {
    const [c] = exampleCases('wgsl').filter((x) => x.title.includes('"M":37'));
    const built = buildWgslProgram(c!.loops, {
      limits: effectiveLimits(gpu!.limits, { maxComputeWorkgroupsPerDimension: 4 }),
    });
    expect(built.kernels[0]!.workgroups).toEqual([4, 3, 1]); // 9 workgroups of 16 × 16, padded to 12
    await run(c!, { maxComputeWorkgroupsPerDimension: 4 });
    expect(splitDispatch(5, 2)).toEqual([2, 2, 2]);
    expect(splitDispatch(70000, 65535)).toEqual([65535, 2, 1]);
  });

  test('ein run --target wgsl', async () => {
    const io = { out: [] as string[], err: [] as string[] };
    const code = await main(
      ['run', 'examples/softmax.ein', '-t', 'wgsl', '--random-inputs', '--rank', 'R=2', '--rank', 'C=3'],
      {
        out: (s) => io.out.push(s),
        err: (s) => io.err.push(s),
      },
    );
    expect(io.err).toEqual([]);
    expect(code).toBe(0);
    expect(io.out.join('')).toMatch(/Y: f32\[2, 3\]/);
  });
});
