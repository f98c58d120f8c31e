import type { ByteSource } from '../../src/runtime/byte-source.js';
import { memoryByteSource } from '../../src/runtime/byte-source.js';
import type { Llama2cConfig } from '../../src/runtime/llama2c.js';

// Builders of small synthetic model files, and a ByteSource that records how it is read.

/** A checkpoint header's fields (the derived head sizes left out). */
export type TinyLlamaConfig = Omit<Llama2cConfig, 'headSize' | 'kvDim'>;

export const tinyConfig: TinyLlamaConfig = {
  dim: 8,
  hiddenDim: 12,
  nLayers: 2,
  nHeads: 2,
  nKvHeads: 1,
  vocabSize: 6,
  seqLen: 4,
  sharedClassifier: true,
};

/** Float counts of each array in llama2.c file order, the RoPE tables included. */
export function tinyLayout(c: TinyLlamaConfig): [string, number][] {
  const head = c.dim / c.nHeads;
  const kvDim = head * c.nKvHeads;
  const layout: [string, number][] = [
    ['token_embedding_table', c.vocabSize * c.dim],
    ['rms_att_weight', c.nLayers * c.dim],
    ['wq', c.nLayers * c.dim * c.dim],
    ['wk', c.nLayers * kvDim * c.dim],
    ['wv', c.nLayers * kvDim * c.dim],
    ['wo', c.nLayers * c.dim * c.dim],
    ['rms_ffn_weight', c.nLayers * c.dim],
    ['w1', c.nLayers * c.hiddenDim * c.dim],
    ['w2', c.nLayers * c.dim * c.hiddenDim],
    ['w3', c.nLayers * c.hiddenDim * c.dim],
    ['rms_final_weight', c.dim],
    ['rope', c.seqLen * head],
  ];
  if (!c.sharedClassifier) layout.push(['wcls', c.vocabSize * c.dim]);
  return layout;
}

/** A llama2.c checkpoint: the header, then `fill(array, i, k)` for float k of array i, in file order. */
export function writeCheckpoint(
  c: TinyLlamaConfig,
  fill: (array: string, i: number, k: number) => number,
): Uint8Array {
  const layout = tinyLayout(c);
  const floats = layout.reduce((sum, [, count]) => sum + count, 0);
  const bytes = new Uint8Array(28 + floats * 4);
  const view = new DataView(bytes.buffer);
  const header = [
    c.dim,
    c.hiddenDim,
    c.nLayers,
    c.nHeads,
    c.nKvHeads,
    c.sharedClassifier ? c.vocabSize : -c.vocabSize,
    c.seqLen,
  ];
  header.forEach((value, i) => view.setInt32(i * 4, value, true));
  let offset = 28;
  layout.forEach(([name, count], i) => {
    for (let k = 0; k < count; k++, offset += 4) view.setFloat32(offset, fill(name, i, k), true);
  });
  return bytes;
}

/** A llama2.c checkpoint whose float k of array i holds i * 1000 + k, so reads are checkable. */
export function buildCheckpoint(c: TinyLlamaConfig): Uint8Array {
  return writeCheckpoint(c, (_, i, k) => i * 1000 + k);
}

/** A tokenizer.bin: int32 max_token_length, then per token float32 score, int32 length, bytes. */
export function buildTokenizerFile(
  tokens: readonly { piece: string | Uint8Array; score: number }[],
): Uint8Array {
  const encoded = tokens.map(({ piece }) =>
    typeof piece === 'string' ? new TextEncoder().encode(piece) : piece,
  );
  const maxLength = Math.max(...encoded.map((bytes) => bytes.length));
  const bytes = new Uint8Array(4 + encoded.reduce((sum, piece) => sum + 8 + piece.length, 0));
  const view = new DataView(bytes.buffer);
  view.setInt32(0, maxLength, true);
  let offset = 4;
  tokens.forEach(({ score }, i) => {
    view.setFloat32(offset, score, true);
    view.setInt32(offset + 4, encoded[i].length, true);
    bytes.set(encoded[i], offset + 8);
    offset += 8 + encoded[i].length;
  });
  return bytes;
}

/** The llama2.c vocabulary shape: <unk>, <s>, </s>, 256 byte tokens, then the given merges. */
export function llamaStyleVocab(extra: readonly { piece: string; score: number }[]) {
  const bytes = Array.from({ length: 256 }, (_, b) => ({
    piece: `<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`,
    score: 0,
  }));
  return [
    { piece: '<unk>', score: 0 },
    { piece: '\n<s>\n', score: 0 },
    { piece: '\n</s>\n', score: 0 },
    ...bytes,
    ...extra,
  ];
}

/** Wraps bytes as a ByteSource that logs every read (offset, length) in order. */
export function recordingSource(bytes: Uint8Array, name: string): ByteSource & { reads: [number, number][] } {
  const inner = memoryByteSource(bytes, name);
  const reads: [number, number][] = [];
  return {
    ...inner,
    reads,
    async readInto(offset, target) {
      reads.push([offset, target.length]);
      await inner.readInto(offset, target);
    },
  };
}
