import { hasRelaxedSimd } from '../src/backends/wasm/features.js';
import { addGemm, runGemm, type GemmKernel, type GemmSpec } from '../src/backends/wasm/gemm.js';
import { gemmScratchBytes } from '../src/backends/wasm/gemm-plan.js';
import { buildKernelModule, createKernelMemory } from '../src/backends/wasm/kernel-module.js';
import { WasmThreadPool } from '../src/backends/wasm/threads.js';
import type { GemmEngine, GemmShape } from './gemm-engine.js';

/** Ein's generated kernels: B is re-packed on every run (it is not treated as a constant). */
export function einEngine(threads: number, relaxed: boolean): GemmEngine {
  if (relaxed && !hasRelaxedSimd()) throw new Error('relaxed SIMD requested but this host lacks it');
  let pool: WasmThreadPool | undefined;
  let kernel: GemmKernel | undefined;
  let memory: WebAssembly.Memory | undefined;
  let cView: Float32Array | undefined;
  return {
    async prepare({ m, k, n }: GemmShape, a, b) {
      const align = (bytes: number) => Math.ceil(bytes / 16) * 16;
      const cOffset = align(4 * (m * k + k * n));
      const spec: GemmSpec = {
        name: 'gemm',
        m,
        n,
        k,
        a: { offset: 0, strideM: k, strideK: 1 },
        b: { offset: 4 * m * k, strideK: n, strideN: 1 },
        c: { offset: cOffset, strideM: n, strideN: 1 },
        scratchOffset: align(cOffset + 4 * m * n),
        relaxedSimd: relaxed,
      };
      const options = {
        memoryPages: Math.ceil((spec.scratchOffset + gemmScratchBytes(spec)) / 65536),
        shared: true,
        relaxedSimd: relaxed,
      };
      const bytes = buildKernelModule(options, (mod) => {
        kernel = addGemm(mod, spec);
      });
      memory = createKernelMemory(options);
      const heap = new Float32Array(memory.buffer);
      heap.set(a, 0);
      heap.set(b, m * k);
      cView = new Float32Array(memory.buffer, cOffset, m * n);
      pool = await WasmThreadPool.create({ module: await WebAssembly.compile(bytes), memory, threads });
    },
    run() {
      if (!pool || !kernel) throw new Error('prepare() first');
      runGemm(pool, kernel);
    },
    async result() {
      if (!cView) throw new Error('prepare() first');
      return cView.slice();
    },
    async dispose() {
      await pool?.close();
      pool = undefined;
    },
  };
}
