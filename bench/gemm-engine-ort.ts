import { createRequire } from 'node:module';
import * as ort from 'onnxruntime-web';
import type { GemmEngine, GemmShape } from './gemm-engine.js';
import { matMulModel } from './onnx-matmul-model.js';

/**
 * onnxruntime-web's WASM execution provider (MLAS kernels). In Node, `onnxruntime-web` resolves
 * to dist/ort.node.min.mjs; the .wasm is loaded from the package's dist folder (no network).
 * B is an initializer, so ORT may pre-pack it once: its best case. Thread count is fixed per
 * process (ort.env.wasm.numThreads is read once), which is why each engine runs in its own child.
 */
export function ortEngine(threads: number): GemmEngine {
  let session: ort.InferenceSession | undefined;
  let input: ort.Tensor | undefined;
  let last: ort.Tensor | undefined;
  return {
    async prepare({ m, k, n }: GemmShape, a, b) {
      const distFolder = createRequire(import.meta.url).resolve(
        'onnxruntime-web/ort-wasm-simd-threaded.wasm',
      );
      ort.env.wasm.wasmPaths = distFolder.slice(0, distFolder.lastIndexOf('/') + 1);
      ort.env.wasm.numThreads = threads;
      await session?.release();
      session = await ort.InferenceSession.create(matMulModel(m, k, n, b), {
        executionProviders: ['wasm'],
        graphOptimizationLevel: 'all',
      });
      input = new ort.Tensor('float32', a, [m, k]);
    },
    async run() {
      if (!session || !input) throw new Error('prepare() first');
      const output = await session.run({ A: input });
      last = output.Y;
    },
    async result() {
      if (!last) throw new Error('run() first');
      return (await last.getData()) as Float32Array;
    },
    async dispose() {
      await session?.release();
      session = undefined;
    },
  };
}
