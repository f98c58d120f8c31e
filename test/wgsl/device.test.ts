import { afterAll, describe, expect, it } from 'vitest';
import { seededFloats } from '../../src/ir/tensor.js';
import { matmulOracle } from '../support/compare.js';
import {
  EinGpuError,
  acquireGpu,
  compileWgsl,
  runCompute,
  validateWgsl,
} from '../../src/backends/wgsl/index.js';
import { gpuForTests } from './gpu-for-tests.js';

const { gpu, title } = await gpuForTests('WebGPU device');

const TILE = 8;
/** C[M,N] = A[M,K] · B[K,N] with TILE×TILE tiles staged in workgroup memory. */
const TILED_MATMUL = /* wgsl */ `
struct Dims { m: u32, k: u32, n: u32 }
@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read_write> c: array<f32>;
@group(0) @binding(3) var<uniform> dims: Dims;

const TILE = ${TILE}u;
var<workgroup> tileA: array<array<f32, TILE>, TILE>;
var<workgroup> tileB: array<array<f32, TILE>, TILE>;

@compute @workgroup_size(TILE, TILE)
fn matmul(@builtin(workgroup_id) group: vec3u, @builtin(local_invocation_id) local: vec3u) {
  let row = group.y * TILE + local.y;
  let col = group.x * TILE + local.x;
  var sum = 0.0;
  for (var k0 = 0u; k0 < dims.k; k0 += TILE) {
    let ka = k0 + local.x;
    let kb = k0 + local.y;
    tileA[local.y][local.x] = select(0.0, a[row * dims.k + ka], row < dims.m && ka < dims.k);
    tileB[local.y][local.x] = select(0.0, b[kb * dims.n + col], kb < dims.k && col < dims.n);
    workgroupBarrier();
    for (var k = 0u; k < TILE; k++) {
      sum += tileA[local.y][k] * tileB[k][local.x];
    }
    workgroupBarrier();
  }
  if (row < dims.m && col < dims.n) {
    c[row * dims.n + col] = sum;
  }
}
`;

describe.skipIf(!gpu)(title, () => {
  const device = gpu!;
  afterAll(() => device.destroy());

  it('reads the adapter and the limits Ein lowers with', () => {
    expect(device.adapter.description.length + device.adapter.device.length).toBeGreaterThan(0);
    expect(device.limits.maxStorageBuffersPerShaderStage).toBeGreaterThanOrEqual(8);
    expect(device.limits.maxStorageBufferBindingSize).toBeGreaterThanOrEqual(128 << 20);
    expect(device.limits.maxComputeWorkgroupStorageSize).toBeGreaterThanOrEqual(16 << 10);
    expect(device.limits.maxComputeInvocationsPerWorkgroup).toBeGreaterThanOrEqual(256);
  });

  it('runs a tiled matmul with workgroup memory and barriers like the JS oracle', async () => {
    const [m, k, n] = [37, 29, 45]; // no multiple of the tile, so every edge guard matters
    const a = seededFloats(m * k, 1);
    const b = seededFloats(k * n, 2);
    const result = await runCompute(device, {
      wgsl: TILED_MATMUL,
      entryPoint: 'matmul',
      storage: [
        { name: 'a', binding: 0, access: 'read', data: a },
        { name: 'b', binding: 1, access: 'read', data: b },
        { name: 'c', binding: 2, access: 'read_write', byteLength: m * n * 4 },
      ],
      uniform: { binding: 3, data: new Uint32Array([m, k, n]) },
      workgroups: [Math.ceil(n / TILE), Math.ceil(m / TILE)],
    });
    const c = new Float32Array(result.c);
    const expected = matmulOracle(a, b, m, k, n);
    expect(c.length).toBe(m * n);
    for (let i = 0; i < c.length; i++) expect(c[i]).toBeCloseTo(expected[i], 4);
  });

  it('turns a WGSL syntax error into an EinGpuError that quotes the line', async () => {
    const source = '@compute @workgroup_size(1)\nfn main() {\n  let x = 1 +;\n}\n';
    const error = await compileWgsl(device, source, 'broken').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EinGpuError);
    const gpuError = error as EinGpuError;
    expect(gpuError.kind).toBe('compilation');
    expect(gpuError.diagnostics[0]).toMatchObject({ severity: 'error', line: 3 });
    expect(gpuError.message).toContain('3:');
    expect(gpuError.message).toContain('let x = 1 +;');
  });

  it('reports warnings with line:column, and refuses to compile a shader that has one', async () => {
    const source = '@compute @workgroup_size(1)\nfn main() {\n  return;\n  let unreachable = 1;\n}\n';
    const diagnostics = await validateWgsl(device, source);
    expect(diagnostics).toEqual([expect.objectContaining({ severity: 'warning', line: 4, column: 3 })]);
    expect(diagnostics[0].message).toMatch(/unreachable/);
    await expect(compileWgsl(device, source)).rejects.toThrow(/4:3 warning/);
  });

  it('reports the uniformity error of a barrier under non-uniform control flow', async () => {
    const source = [
      '@group(0) @binding(0) var<storage, read_write> data: array<f32>;',
      '@compute @workgroup_size(64)',
      'fn main(@builtin(local_invocation_index) i: u32) {',
      '  if (data[i] > 0.0) { workgroupBarrier(); }',
      '}',
    ].join('\n');
    const diagnostics = await validateWgsl(device, source);
    expect(diagnostics.find((d) => d.severity === 'error')).toMatchObject({ line: 4 });
    expect(diagnostics.map((d) => d.message).join('\n')).toMatch(/uniform control flow/);
  });

  it('turns a binding that does not match the shader into a validation EinGpuError', async () => {
    const run = runCompute(device, {
      wgsl: '@group(0) @binding(0) var<storage, read_write> x: array<f32>;\n@compute @workgroup_size(1) fn main() { x[0] = 1.0; }',
      entryPoint: 'main',
      storage: [{ name: 'x', binding: 0, access: 'read', data: new Float32Array(1) }],
      workgroups: [1],
    });
    await expect(run).rejects.toMatchObject({ name: 'EinGpuError', kind: 'validation' });
  });

  it('names the limit when a kernel binds more storage buffers than the device allows', async () => {
    const count = device.limits.maxStorageBuffersPerShaderStage + 1;
    const storage = Array.from({ length: count }, (_, i) => ({
      name: `t${i}`,
      binding: i,
      access: 'read' as const,
      byteLength: 4,
    }));
    const run = runCompute(device, { wgsl: '', entryPoint: 'main', storage, workgroups: [1] });
    await expect(run).rejects.toThrow(/maxStorageBuffersPerShaderStage/);
  });

  it('can keep the WebGPU default limits to check portability', async () => {
    const portable = await acquireGpu({ limits: 'default' });
    if (!portable.ok) throw new Error(portable.reason);
    try {
      expect(portable.gpu.limits.maxComputeInvocationsPerWorkgroup).toBe(256);
      expect(portable.gpu.limits.maxComputeWorkgroupStorageSize).toBe(16384);
    } finally {
      portable.gpu.destroy();
    }
  });
});
