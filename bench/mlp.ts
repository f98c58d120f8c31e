/**
 * GPT-2 small's LayerNorm + MLP block (T = 128, 768 → 3072 → 768, erf GELU): Ein's kernels (SIMD
 * LayerNorm and GELU, register-blocked GEMMs) against onnxruntime-web, at 1 and 2 threads.
 */
import { benchBlock, type BlockBenchOptions, type BlockBenchRow } from './block-bench.js';

export function benchMlp(options: Partial<BlockBenchOptions> = {}): Promise<BlockBenchRow[]> {
  return benchBlock('mlp', { sizes: [128], tolerance: 1e-4, ...options });
}
