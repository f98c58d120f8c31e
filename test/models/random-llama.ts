// Small llama2.c checkpoints with seeded random weights, for testing the Ein model without the real
// files: any head layout (multi-head or grouped-query), shared or separate classifier.
import { memoryByteSource } from '../../src/runtime/byte-source.js';
import { seededRandom } from '../../src/ir/tensor.js';
import { Llama2cCheckpoint } from '../../src/runtime/llama2c.js';

export interface RandomLlamaShape {
  dim: number;
  hiddenDim: number;
  nLayers: number;
  nHeads: number;
  nKvHeads: number;
  vocabSize: number;
  seqLen: number;
  sharedClassifier: boolean;
}

/** The bytes of a legacy llama2.c checkpoint (header, weights in run.c's order, RoPE tables). */
export function randomLlamaCheckpoint(shape: RandomLlamaShape, seed = 1): Uint8Array {
  const { dim, hiddenDim, nLayers, nHeads, nKvHeads, vocabSize, seqLen } = shape;
  const headSize = dim / nHeads;
  const kvDim = headSize * nKvHeads;
  const random = seededRandom(seed);
  // Matrices scaled like a trained model's (entries ~ 1/sqrt(fan-in)); norm weights near 1.
  const matrix = (fanIn: number) => () => ((random() * 2 - 1) * 1.7) / Math.sqrt(fanIn);
  const norm = () => 0.5 + random();
  const arrays: [number, () => number][] = [
    [vocabSize * dim, () => random() * 2 - 1],
    [nLayers * dim, norm],
    [nLayers * dim * dim, matrix(dim)],
    [nLayers * kvDim * dim, matrix(dim)],
    [nLayers * kvDim * dim, matrix(dim)],
    [nLayers * dim * dim, matrix(dim)],
    [nLayers * dim, norm],
    [nLayers * hiddenDim * dim, matrix(dim)],
    [nLayers * dim * hiddenDim, matrix(hiddenDim)],
    [nLayers * hiddenDim * dim, matrix(dim)],
    [dim, norm],
    [seqLen * headSize, () => 0], // the legacy RoPE tables, which the runtime skips
  ];
  if (!shape.sharedClassifier) arrays.push([vocabSize * dim, matrix(dim)]);
  const floats = arrays.reduce((sum, [count]) => sum + count, 0);
  const bytes = new Uint8Array(28 + floats * 4);
  const view = new DataView(bytes.buffer);
  const vocabField = shape.sharedClassifier ? vocabSize : -vocabSize;
  [dim, hiddenDim, nLayers, nHeads, nKvHeads, vocabField, seqLen].forEach((v, i) =>
    view.setInt32(i * 4, v, true),
  );
  let offset = 28;
  for (const [count, next] of arrays)
    for (let k = 0; k < count; k++, offset += 4) view.setFloat32(offset, next(), true);
  return bytes;
}

export function openRandomLlama(shape: RandomLlamaShape, seed = 1): Promise<Llama2cCheckpoint> {
  return Llama2cCheckpoint.open(memoryByteSource(randomLlamaCheckpoint(shape, seed), 'random-llama.bin'));
}
