import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs-core';
import { setThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import type { GemmEngine, GemmShape } from './gemm-engine.js';

/**
 * @tensorflow/tfjs-backend-wasm (XNNPACK kernels), .wasm files from the package's dist folder.
 * tfjs disables its threaded build under Node (flag WASM_HAS_MULTITHREAD_SUPPORT returns false
 * when IS_NODE, tensorflow/tfjs#3830), so this engine only exists at 1 thread here. XNNPACK caches
 * the packed weights of a reused B tensor, its best case.
 */
export async function tfjsEngine(threads: number): Promise<GemmEngine> {
  if (threads !== 1)
    throw new Error('tfjs-backend-wasm runs single-threaded under Node (tensorflow/tfjs#3830)');
  const wasmFile = createRequire(import.meta.url).resolve(
    '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm',
  );
  setWasmPaths(wasmFile.slice(0, wasmFile.lastIndexOf('/') + 1));
  setThreadsCount(threads);
  if (!(await tf.setBackend('wasm'))) throw new Error('tfjs wasm backend failed to initialise');
  await tf.ready();
  let a: tf.Tensor2D | undefined;
  let b: tf.Tensor2D | undefined;
  let last: tf.Tensor | undefined;
  const disposeAll = () => {
    for (const tensor of [a, b, last]) tensor?.dispose();
    last = undefined;
  };
  return {
    async prepare({ m, k, n }: GemmShape, aData, bData) {
      disposeAll();
      a = tf.tensor2d(aData, [m, k]);
      b = tf.tensor2d(bData, [k, n]);
    },
    run() {
      if (!a || !b) throw new Error('prepare() first');
      last?.dispose();
      last = tf.matMul(a, b);
      // Force completion (the wasm backend is synchronous, but keep the contract explicit).
      last.dataSync();
    },
    async result() {
      if (!last) throw new Error('run() first');
      return last.dataSync() as Float32Array;
    },
    async dispose() {
      disposeAll();
    },
  };
}
