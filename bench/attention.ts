/**
 * Causal multi-head attention (12 heads, head size 64) at sequence 512 and 2048: Ein's fused
 * kernel (the 3-pass cascade, rewritten 1-pass by the online pass; masked blocks skipped by
 * mask-bounds.ts) against onnxruntime-web's MatMul → scale → mask add → Softmax → MatMul graph,
 * at 1 and 2 threads.
 */
import { benchBlock, type BlockBenchOptions, type BlockBenchRow } from './block-bench.js';

export function benchAttention(options: Partial<BlockBenchOptions> = {}): Promise<BlockBenchRow[]> {
  return benchBlock('attention', { sizes: [512, 2048], tolerance: 1e-4, ...options });
}
