import { assertLittleEndianHost, type ByteSource } from './byte-source.js';
import { EinRuntimeError } from './errors.js';
import { formatShape, shapeElementCount } from './shape.js';

// Reader for llama2.c "legacy" checkpoints (run.c's read_checkpoint / memory_map_weights): a header of
// 7 little-endian int32, then float32 arrays back to back. Tensors are read one at a time from the
// source, so the host never holds more than the tensor being handed out.

const headerBytes = 7 * 4;

export interface Llama2cConfig {
  readonly dim: number;
  readonly hiddenDim: number;
  readonly nLayers: number;
  readonly nHeads: number;
  readonly nKvHeads: number;
  readonly vocabSize: number;
  readonly seqLen: number;
  /** run.c: a positive vocab_size in the header means the classifier reuses the token embedding. */
  readonly sharedClassifier: boolean;
  readonly headSize: number;
  readonly kvDim: number;
}

/** Tensor names as in run.c's TransformerWeights. `wcls` exists only when not shared. */
export type Llama2cTensorName =
  | 'token_embedding_table'
  | 'rms_att_weight'
  | 'wq'
  | 'wk'
  | 'wv'
  | 'wo'
  | 'rms_ffn_weight'
  | 'w1'
  | 'w2'
  | 'w3'
  | 'rms_final_weight'
  | 'wcls';

export interface Llama2cTensorInfo {
  readonly name: Llama2cTensorName;
  /** Row-major; per-layer tensors lead with n_layers; matrices are [out, in] (y = W·x). */
  readonly shape: readonly number[];
  readonly byteOffset: number;
  readonly byteLength: number;
}

export interface Llama2cTensor {
  readonly name: Llama2cTensorName;
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

export class Llama2cCheckpoint {
  private constructor(
    readonly source: ByteSource,
    readonly config: Llama2cConfig,
    readonly tensors: readonly Llama2cTensorInfo[],
  ) {}

  /** Reads and validates the header; the file size must match the layout it implies exactly. */
  static async open(source: ByteSource): Promise<Llama2cCheckpoint> {
    assertLittleEndianHost();
    if (source.size < headerBytes) {
      throw new EinRuntimeError(
        `${source.name}: not a llama2.c checkpoint: ${source.size} bytes, shorter than the ${headerBytes}-byte header`,
      );
    }
    const header = new Uint8Array(headerBytes);
    await source.readInto(0, header);
    const config = parseConfig(source.name, new Int32Array(header.buffer));
    const segments = layoutFile(config);
    checkFileSize(source, config, segments);
    const tensors = segments.filter(
      (segment): segment is Llama2cTensorInfo => segment.name !== 'legacy RoPE tables',
    );
    return new Llama2cCheckpoint(source, config, tensors);
  }

  info(name: Llama2cTensorName): Llama2cTensorInfo {
    const info = this.tensors.find((tensor) => tensor.name === name);
    if (!info) {
      const why = name === 'wcls' ? ' (the classifier is shared with token_embedding_table)' : '';
      throw new EinRuntimeError(`${this.source.name}: has no tensor '${name}'${why}`);
    }
    return info;
  }

  /**
   * Lazily reads one tensor, or with `layer` one layer's slice of a per-layer tensor (its shape
   * then drops the leading n_layers), which keeps the peak at a single layer's weights.
   */
  async readTensor(name: Llama2cTensorName, options: { layer?: number } = {}): Promise<Llama2cTensor> {
    const info = this.info(name);
    if (options.layer === undefined) {
      return { name, shape: info.shape, data: await this.readFloats(info.byteOffset, info.byteLength) };
    }
    const { layer } = options;
    const layers = this.config.nLayers;
    if (!perLayerTensors.has(name)) {
      throw new EinRuntimeError(`${this.source.name}: tensor '${name}' is not a per-layer tensor`);
    }
    if (!Number.isInteger(layer) || layer < 0 || layer >= layers) {
      throw new EinRuntimeError(`${this.source.name}: layer ${layer} is out of range (0..${layers - 1})`);
    }
    const layerBytes = info.byteLength / layers;
    const data = await this.readFloats(info.byteOffset + layer * layerBytes, layerBytes);
    return { name, shape: info.shape.slice(1), data };
  }

  /** Yields every tensor in file order; each is read only when the consumer asks for the next. */
  async *streamTensors(): AsyncGenerator<Llama2cTensor> {
    for (const info of this.tensors) yield await this.readTensor(info.name);
  }

  close(): Promise<void> {
    return this.source.close();
  }

  private async readFloats(byteOffset: number, byteLength: number): Promise<Float32Array> {
    // Read straight into the Float32Array's own storage: one allocation per tensor, no staging copy.
    const data = new Float32Array(byteLength / 4);
    await this.source.readInto(byteOffset, new Uint8Array(data.buffer));
    return data;
  }
}

const perLayerTensors: ReadonlySet<Llama2cTensorName> = new Set([
  'rms_att_weight',
  'wq',
  'wk',
  'wv',
  'wo',
  'rms_ffn_weight',
  'w1',
  'w2',
  'w3',
]);

function parseConfig(name: string, header: Int32Array): Llama2cConfig {
  const [dim, hiddenDim, nLayers, nHeads, nKvHeads, signedVocabSize, seqLen] = header;
  const fields = {
    dim,
    hidden_dim: hiddenDim,
    n_layers: nLayers,
    n_heads: nHeads,
    n_kv_heads: nKvHeads,
    seq_len: seqLen,
  };
  const described = `dim ${dim}, hidden_dim ${hiddenDim}, n_layers ${nLayers}, n_heads ${nHeads}, n_kv_heads ${nKvHeads}, vocab_size ${signedVocabSize}, seq_len ${seqLen}`;
  const bad = (why: string) =>
    new EinRuntimeError(`${name}: not a valid llama2.c checkpoint header (${described}): ${why}`);
  for (const [field, value] of Object.entries(fields)) {
    if (value <= 0) throw bad(`${field} must be positive`);
  }
  if (signedVocabSize === 0) throw bad('vocab_size must not be 0');
  if (dim % nHeads !== 0) throw bad('dim must be a multiple of n_heads');
  if (nHeads % nKvHeads !== 0) throw bad('n_heads must be a multiple of n_kv_heads');
  const headSize = dim / nHeads;
  if (headSize % 2 !== 0) throw bad('the head size dim / n_heads must be even for rotary embeddings');
  return {
    dim,
    hiddenDim,
    nLayers,
    nHeads,
    nKvHeads,
    vocabSize: Math.abs(signedVocabSize),
    seqLen,
    sharedClassifier: signedVocabSize > 0,
    headSize,
    kvDim: headSize * nKvHeads,
  };
}

interface FileSegment {
  readonly name: Llama2cTensorName | 'legacy RoPE tables';
  readonly shape: readonly number[];
  readonly byteOffset: number;
  readonly byteLength: number;
}

/** run.c memory_map_weights: the arrays' order and sizes, including the two skipped RoPE tables. */
function layoutFile(config: Llama2cConfig): FileSegment[] {
  const { dim, hiddenDim, nLayers, nHeads, kvDim, vocabSize, seqLen, headSize } = config;
  const qDim = nHeads * headSize;
  const entries: [FileSegment['name'], number[]][] = [
    ['token_embedding_table', [vocabSize, dim]],
    ['rms_att_weight', [nLayers, dim]],
    ['wq', [nLayers, qDim, dim]],
    ['wk', [nLayers, kvDim, dim]],
    ['wv', [nLayers, kvDim, dim]],
    ['wo', [nLayers, dim, qDim]],
    ['rms_ffn_weight', [nLayers, dim]],
    ['w1', [nLayers, hiddenDim, dim]],
    ['w2', [nLayers, dim, hiddenDim]],
    ['w3', [nLayers, hiddenDim, dim]],
    ['rms_final_weight', [dim]],
    // freq_cis_real and freq_cis_imag, seq_len * head_size / 2 floats each: RoPE is computed instead.
    ['legacy RoPE tables', [2, seqLen, headSize / 2]],
  ];
  if (!config.sharedClassifier) entries.push(['wcls', [vocabSize, dim]]);
  let byteOffset = headerBytes;
  return entries.map(([name, shape]) => {
    const segment = { name, shape, byteOffset, byteLength: shapeElementCount(shape) * 4 };
    byteOffset += segment.byteLength;
    return segment;
  });
}

function checkFileSize(source: ByteSource, config: Llama2cConfig, segments: readonly FileSegment[]): void {
  const last = segments[segments.length - 1];
  const expected = last.byteOffset + last.byteLength;
  if (source.size === expected) return;
  const header = `dim ${config.dim}, hidden_dim ${config.hiddenDim}, n_layers ${config.nLayers}, vocab_size ${config.vocabSize}, seq_len ${config.seqLen}`;
  const sizes = `file is ${source.size} bytes but its header (${header}) implies ${expected}`;
  if (source.size > expected) {
    throw new EinRuntimeError(
      `${source.name}: ${sizes}: ${source.size - expected} unexpected trailing bytes`,
    );
  }
  const cut = segments.find((segment) => segment.byteOffset + segment.byteLength > source.size) ?? last;
  const found = Math.max(0, source.size - cut.byteOffset);
  throw new EinRuntimeError(
    `${source.name}: truncated: ${sizes}; '${cut.name}' ${formatShape(cut.shape)} needs ` +
      `${cut.byteLength} bytes at offset ${cut.byteOffset}, found ${found}`,
  );
}
