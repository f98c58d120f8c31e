// Small llama2.c checkpoints with seeded random weights, for testing the Ein model without the real
// files: any head layout (multi-head or grouped-query), shared or separate classifier.
import { memoryByteSource } from '../../src/runtime/byte-source.js';
import { seededRandom } from '../../src/ir/tensor.js';
import { Llama2cCheckpoint } from '../../src/runtime/llama2c.js';
import { writeCheckpoint, type TinyLlamaConfig } from '../runtime/fixtures.js';

export type RandomLlamaShape = TinyLlamaConfig;

/** The bytes of a legacy llama2.c checkpoint (header, weights in run.c's order, RoPE tables). */
export function randomLlamaCheckpoint(shape: RandomLlamaShape, seed = 1): Uint8Array {
  const random = seededRandom(seed);
  // Matrices scaled like a trained model's (entries ~ 1/sqrt(fan-in)); norm weights near 1.
  const matrix = (fanIn: number) => ((random() * 2 - 1) * 1.7) / Math.sqrt(fanIn);
  return writeCheckpoint(shape, (array) => {
    if (array === 'token_embedding_table') return random() * 2 - 1;
    if (array.startsWith('rms_')) return 0.5 + random();
    if (array === 'rope') return 0; // the legacy RoPE tables, which the runtime skips
    return matrix(array === 'w2' ? shape.hiddenDim : shape.dim);
  });
}

export function openRandomLlama(shape: RandomLlamaShape, seed = 1): Promise<Llama2cCheckpoint> {
  return Llama2cCheckpoint.open(memoryByteSource(randomLlamaCheckpoint(shape, seed), 'random-llama.bin'));
}
