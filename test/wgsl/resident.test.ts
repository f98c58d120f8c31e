// ResidentWgslProgram (src/backends/wgsl/resident.ts): a program kept on the device between calls.
// Scalar inputs go to the uniform and may change between submissions; copies resolve packs and
// splits, including a copy between two buffers the binding limits packed into one GPUBuffer.
import { afterAll, describe, expect, it } from 'vitest';
import { withErrorScopes } from '../../src/backends/wgsl/error-scopes.js';
import { buildWgslProgram } from '../../src/backends/wgsl/program.js';
import { ResidentWgslProgram } from '../../src/backends/wgsl/resident.js';
import { effectiveLimits } from '../../src/backends/wgsl/run.js';
import { checkSource } from '../../src/frontend/index.js';
import { compileKernel } from '../../src/passes/pipeline.js';
import { gpuForTests } from './gpu-for-tests.js';

const { gpu, title } = await gpuForTests('resident WGSL program');
afterAll(() => gpu?.destroy());

// Y = A · s + B, Z = A + B: `s` is a scalar input (a uniform field), A, B, Y, Z are storage.
const SOURCE = `
kernel scaled(A: f32[N], B: f32[N], s: i32) -> (Y: f32[N], Z: f32[N]) {
  Y[n] = A[n] * s + B[n]
  Z[n] = A[n] + B[n]
}
`;

function build(maxStorageBuffersPerShaderStage: number) {
  const state = compileKernel(checkSource(SOURCE), { kernel: 'scaled', ranks: { N: 6 }, target: 'wgsl' });
  return buildWgslProgram(state.loops!, {
    limits: effectiveLimits(gpu!.limits, { maxStorageBuffersPerShaderStage }),
  });
}

const A = Float32Array.of(1, 2, 3, 4, 5, 6);
const B = Float32Array.of(10, 20, 30, 40, 50, 60);

describe.skipIf(!gpu)(title, () => {
  it('keeps buffers between submissions; a scalar set before each one applies to it', async () => {
    const program = build(8);
    expect([...program.layout.scalars.keys()]).toEqual(['s']);
    const resident = await withErrorScopes(gpu!, 'create', () => ResidentWgslProgram.create(gpu!, program));
    try {
      await withErrorScopes(gpu!, 'run', async () => {
        resident.write('A', A);
        resident.write('B', B);
        resident.setScalar('s', 2);
        resident.submitAll();
        expect(Array.from(await resident.read('Y'))).toEqual([12, 24, 36, 48, 60, 72]);
        resident.setScalar('s', -1);
        resident.submitAll();
        expect(Array.from(await resident.read('Y'))).toEqual([9, 18, 27, 36, 45, 54]);
      });
    } finally {
      resident.destroy();
    }
  });

  it('copies between buffers, also between two packed into one GPUBuffer', async () => {
    // Two storage bindings for four buffers: everything is packed, so Y and Z share a unit.
    const program = build(2);
    const unitOf = (b: string) => program.layout.segments.get(b)![0]!.unit;
    expect(unitOf('Y')).toBe(unitOf('Z'));
    const resident = await withErrorScopes(gpu!, 'create', () => ResidentWgslProgram.create(gpu!, program));
    try {
      await withErrorScopes(gpu!, 'run', async () => {
        resident.write('A', A);
        resident.write('B', B);
        resident.setScalar('s', 3);
        resident.submit([
          ...program.kernels.map((k) => ({ kernel: k.name })),
          // Z[1..4) = Y[2..5), then A[0..2) = B[4..6), in the same command buffer.
          { copy: { from: 'Y', fromStart: 2, to: 'Z', toStart: 1, length: 3 } },
          { copy: { from: 'B', fromStart: 4, to: 'A', toStart: 0, length: 2 } },
        ]);
        expect(Array.from(await resident.read('Z'))).toEqual([11, 39, 52, 65, 55, 66]);
        expect(Array.from(await resident.read('A'))).toEqual([50, 60, 3, 4, 5, 6]);
      });
    } finally {
      resident.destroy();
    }
  });
});
