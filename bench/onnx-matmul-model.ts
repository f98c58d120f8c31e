/**
 * The ONNX model of the GEMM benchmark: Y[M, N] = MatMul(A[M, K], B[K, N]) with B stored as an
 * initializer (so onnxruntime can pre-pack it, its best case), encoded by onnx-graph.ts.
 */
import { encodeModel } from './onnx-graph.js';

export function matMulModel(m: number, k: number, n: number, weights: Float32Array): Uint8Array {
  return encodeModel({
    nodes: [{ op: 'MatMul', inputs: ['A', 'B'], outputs: ['Y'] }],
    initializers: [{ name: 'B', dims: [k, n], data: weights }],
    inputs: [{ name: 'A', dims: [m, k] }],
    outputs: [{ name: 'Y', dims: [m, n] }],
    opset: 13,
  });
}
