import { describe, expect, it } from 'vitest';
import { seededFloats } from '../../src/ir/tensor.js';
import { matmulOracle } from '../support/compare.js';
import { formatCudaDiagnostic } from '../../src/backends/cuda/nvcc-diagnostics.js';
import { compileWithNvcc, nvccAvailable, runEmulated } from '../../src/backends/cuda/toolchain.js';

const TILED_MATMUL = `
#define TILE 16
// C[M,N] = A[M,K] * B[K,N]; one TILE x TILE block of C per thread block, staged through shared memory.
extern "C" __global__ void matmul(const float* __restrict__ a, const float* __restrict__ b,
                                  float* __restrict__ c, int m, int k, int n) {
  __shared__ float tileA[TILE][TILE];
  __shared__ float tileB[TILE][TILE + 1];
  const int row = blockIdx.y * TILE + threadIdx.y;
  const int col = blockIdx.x * TILE + threadIdx.x;
  float sum = 0.0f;
  for (int k0 = 0; k0 < k; k0 += TILE) {
    const int ka = k0 + threadIdx.x;
    const int kb = k0 + threadIdx.y;
    tileA[threadIdx.y][threadIdx.x] = (row < m && ka < k) ? a[row * k + ka] : 0.0f;
    tileB[threadIdx.y][threadIdx.x] = (kb < k && col < n) ? b[kb * n + col] : 0.0f;
    __syncthreads();
    for (int i = 0; i < TILE; ++i) sum = fmaf(tileA[threadIdx.y][i], tileB[i][threadIdx.x], sum);
    __syncthreads();
  }
  if (row < m && col < n) c[row * n + col] = sum;
}
`;

const MATMUL_HOST = `
int main() {
  const std::vector<int32_t> dims = ein_read_i32("dims");
  const int m = dims[0], k = dims[1], n = dims[2];
  const std::vector<float> a = ein_read_f32("A"), b = ein_read_f32("B");
  std::vector<float> c(size_t(m) * n);
  float *da, *db, *dc;
  cudaMalloc(&da, a.size() * sizeof(float));
  cudaMalloc(&db, b.size() * sizeof(float));
  cudaMalloc(&dc, c.size() * sizeof(float));
  cudaMemcpy(da, a.data(), a.size() * sizeof(float), cudaMemcpyHostToDevice);
  cudaMemcpy(db, b.data(), b.size() * sizeof(float), cudaMemcpyHostToDevice);
  const dim3 grid((n + TILE - 1) / TILE, (m + TILE - 1) / TILE), block(TILE, TILE);
  EIN_LAUNCH(matmul, grid, block, da, db, dc, m, k, n);
  if (cudaGetLastError() != cudaSuccess || cudaDeviceSynchronize() != cudaSuccess) return 1;
  cudaMemcpy(c.data(), dc, c.size() * sizeof(float), cudaMemcpyDeviceToHost);
  ein_write_f32("C", c.data(), c.size());
  cudaFree(da);
  cudaFree(db);
  cudaFree(dc);
  return 0;
}
`;

/** A tree reduction in shared memory: each step reads what other threads wrote before the barrier. */
function blockSumsKernel(barrier: string): string {
  return `
extern "C" __global__ void block_sums(const float* x, float* sums, int n) {
  __shared__ float partial[256];
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  partial[threadIdx.x] = i < n ? x[i] : 0.0f;
  ${barrier}
  for (int stride = blockDim.x / 2; stride > 0; stride >>= 1) {
    if (threadIdx.x < stride) partial[threadIdx.x] += partial[threadIdx.x + stride];
    ${barrier}
  }
  if (threadIdx.x == 0) sums[blockIdx.x] = partial[0];
}
`;
}

const BLOCK_SUMS_HOST = `
int main() {
  const std::vector<float> x = ein_read_f32("x");
  const int n = int(x.size()), blocks = (n + 255) / 256;
  std::vector<float> sums(blocks);
  float *dx, *dsums;
  cudaMalloc(&dx, x.size() * sizeof(float));
  cudaMalloc(&dsums, sums.size() * sizeof(float));
  cudaMemcpy(dx, x.data(), x.size() * sizeof(float), cudaMemcpyHostToDevice);
  EIN_LAUNCH(block_sums, blocks, 256, dx, dsums, n);
  cudaMemcpy(sums.data(), dsums, sums.size() * sizeof(float), cudaMemcpyDeviceToHost);
  ein_write_f32("sums", sums.data(), sums.size());
  return 0;
}
`;

function blockSumsOracle(x: Float32Array, block: number): number[] {
  const sums: number[] = [];
  for (let start = 0; start < x.length; start += block) {
    sums.push(x.subarray(start, start + block).reduce((s, v) => s + v, 0));
  }
  return sums;
}

async function emulatedBlockSums(
  x: Float32Array,
  barrier: string,
  gxxFlags?: string[],
): Promise<Float32Array> {
  const run = await runEmulated(blockSumsKernel(barrier), BLOCK_SUMS_HOST, {
    inputs: { x },
    outputs: { sums: 'f32' },
    ...(gxxFlags ? { gxxFlags } : {}),
  });
  return run.outputs.sums as Float32Array;
}

describe('CUDA emulation with g++ and ein_cuda_emu.h', () => {
  it.each([
    [37, 29, 45],
    [70, 16, 3],
  ])('runs a tiled shared-memory matmul %ix%ix%i like the JS oracle', async (m, k, n) => {
    const a = seededFloats(m * k, m);
    const b = seededFloats(k * n, n);
    const run = await runEmulated(TILED_MATMUL, MATMUL_HOST, {
      inputs: { dims: new Int32Array([m, k, n]), A: a, B: b },
      outputs: { C: 'f32' },
    });
    const c = run.outputs.C;
    const expected = matmulOracle(a, b, m, k, n);
    expect(c.length).toBe(m * n);
    for (let i = 0; i < c.length; i++) expect(c[i]).toBeCloseTo(expected[i], 4);
  });

  it('makes __syncthreads() a real barrier: a tree reduction is right with it and wrong without', async () => {
    const x = seededFloats(1000, 7); // 4 blocks, the last one partial
    const expected = blockSumsOracle(x, 256);
    const synced = await emulatedBlockSums(x, '__syncthreads();');
    expect(Array.from(synced).map((v, i) => v - expected[i])).toEqual(
      expected.map(() => expect.closeTo(0, 4)),
    );
    const unsynced = await emulatedBlockSums(x, '');
    expect(Array.from(unsynced).some((v, i) => Math.abs(v - expected[i]) > 1e-3)).toBe(true);
  });

  it('gives the same barrier semantics with the portable ucontext fibers', async () => {
    const x = seededFloats(600, 3);
    const sums = await emulatedBlockSums(x, '__syncthreads();', ['-DEIN_EMU_USE_UCONTEXT']);
    blockSumsOracle(x, 256).forEach((s, i) => expect(sums[i]).toBeCloseTo(s, 4));
  });

  it('reports a barrier that some threads of a block skip, with the kernel line', async () => {
    const kernel = `extern "C" __global__ void early_exit(float* x, int n) {
  if (int(threadIdx.x) >= n) return;
  __syncthreads();
  x[threadIdx.x] = 1.0f;
}`;
    const host = `int main() { float* x; cudaMalloc(&x, 64 * sizeof(float)); EIN_LAUNCH(early_exit, 1, 64, x, 40); }`;
    const run = runEmulated(kernel, host, { outputs: {} });
    await expect(run).rejects.toMatchObject({ name: 'EinCudaError', kind: 'run' });
    await expect(run).rejects.toThrow(
      /divergent __syncthreads\(\).*waits at kernel\.cu:3.*\(40,0,0\) has already returned/,
    );
  });

  it('fails launches CUDA would refuse with cudaErrorInvalidConfiguration', async () => {
    const kernel = 'extern "C" __global__ void noop() {}';
    const host = `int main() {
  EIN_LAUNCH(noop, 1, 2048);
  printf("%s\\n", cudaGetErrorString(cudaGetLastError()));
  printf("%s\\n", cudaGetErrorString(cudaGetLastError()));
}`;
    const run = await runEmulated(kernel, host, { outputs: {} });
    expect(run.stdout).toBe('invalid configuration argument\nno error\n');
  });
});

const nvcc = await nvccAvailable();
describe.skipIf(!nvcc)(nvcc ? 'nvcc' : 'nvcc (skipped: nvcc is not on the PATH)', () => {
  it.each(['sm_80', 'sm_90'] as const)(
    'compiles the emulated kernels to PTX for %s with no warning',
    async (arch) => {
      for (const source of [TILED_MATMUL, blockSumsKernel('__syncthreads();')]) {
        const result = await compileWithNvcc(source, { arch, ptx: true });
        expect(result.diagnostics.map(formatCudaDiagnostic)).toEqual([]);
        expect(result.ok).toBe(true);
        expect(result.ptx).toContain(`.target ${arch}`);
        expect(result.ptx).toMatch(/bar\.sync|barrier\.sync/);
      }
    },
  );

  it('fails on a warning and reports it with its line', async () => {
    const source = 'extern "C" __global__ void k(float* x) {\n  int unused;\n  x[0] = 1.0f;\n}\n';
    const result = await compileWithNvcc(source, { arch: 'sm_80', ptx: true });
    expect(result.ok).toBe(false);
    expect(result.diagnostics).toEqual([
      expect.objectContaining({ severity: 'warning', file: 'kernel.cu', line: 2, code: '177-D' }),
    ]);
  });
});
