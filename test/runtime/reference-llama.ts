// A plain TypeScript Llama forward pass, written from the model's math (not from any Ein code): the
// test oracle for the runtime. One token at a time with a KV cache, as llama2.c's run.c does it:
// RMSNorm, rotary embeddings computed from the position, grouped-query attention, SwiGLU MLP, and a
// classifier that may share the token embedding.

import type { Llama2cCheckpoint, Llama2cConfig, Llama2cTensorName } from '../../src/runtime/llama2c.js';

export type ReferenceWeights = Record<Exclude<Llama2cTensorName, 'wcls'>, Float32Array> & {
  wcls: Float32Array;
};

export async function loadReferenceWeights(checkpoint: Llama2cCheckpoint): Promise<ReferenceWeights> {
  const tensors = new Map<string, Float32Array>();
  for await (const tensor of checkpoint.streamTensors()) tensors.set(tensor.name, tensor.data);
  const get = (name: Llama2cTensorName) => tensors.get(name) ?? fail(`missing tensor ${name}`);
  return {
    token_embedding_table: get('token_embedding_table'),
    rms_att_weight: get('rms_att_weight'),
    wq: get('wq'),
    wk: get('wk'),
    wv: get('wv'),
    wo: get('wo'),
    rms_ffn_weight: get('rms_ffn_weight'),
    w1: get('w1'),
    w2: get('w2'),
    w3: get('w3'),
    rms_final_weight: get('rms_final_weight'),
    wcls: checkpoint.config.sharedClassifier ? get('token_embedding_table') : get('wcls'),
  };
}

export class ReferenceLlama {
  private readonly keyCache: Float32Array;
  private readonly valueCache: Float32Array;

  constructor(
    readonly config: Llama2cConfig,
    private readonly weights: ReferenceWeights,
  ) {
    const cacheSize = config.nLayers * config.seqLen * config.kvDim;
    this.keyCache = new Float32Array(cacheSize);
    this.valueCache = new Float32Array(cacheSize);
  }

  /** Logits for the token after `token` at position `pos`; positions must be fed in order 0, 1, … */
  forward(token: number, pos: number): Float32Array {
    const { dim, hiddenDim, nLayers, nHeads, nKvHeads, headSize, kvDim, seqLen, vocabSize } = this.config;
    const w = this.weights;
    const x = w.token_embedding_table.slice(token * dim, (token + 1) * dim);
    const headsPerKv = nHeads / nKvHeads;

    for (let layer = 0; layer < nLayers; layer++) {
      const normed = rmsNorm(x, slice(w.rms_att_weight, layer, dim));
      const q = matVec(slice(w.wq, layer, dim * dim), normed, dim);
      const k = matVec(slice(w.wk, layer, kvDim * dim), normed, kvDim);
      const v = matVec(slice(w.wv, layer, kvDim * dim), normed, kvDim);
      for (let head = 0; head < nHeads; head++) rotate(q, head * headSize, headSize, pos);
      for (let head = 0; head < nKvHeads; head++) rotate(k, head * headSize, headSize, pos);

      const cacheBase = layer * seqLen * kvDim;
      this.keyCache.set(k, cacheBase + pos * kvDim);
      this.valueCache.set(v, cacheBase + pos * kvDim);

      const attended = new Float32Array(dim);
      for (let head = 0; head < nHeads; head++) {
        const kvOffset = Math.floor(head / headsPerKv) * headSize;
        const scores = new Float64Array(pos + 1);
        for (let t = 0; t <= pos; t++) {
          const keyBase = cacheBase + t * kvDim + kvOffset;
          let dot = 0;
          for (let i = 0; i < headSize; i++) dot += q[head * headSize + i] * this.keyCache[keyBase + i];
          scores[t] = dot / Math.sqrt(headSize);
        }
        const weights = softmax(scores);
        for (let t = 0; t <= pos; t++) {
          const valueBase = cacheBase + t * kvDim + kvOffset;
          for (let i = 0; i < headSize; i++) {
            attended[head * headSize + i] += weights[t] * this.valueCache[valueBase + i];
          }
        }
      }
      addInto(x, matVec(slice(w.wo, layer, dim * dim), attended, dim));

      const normedFfn = rmsNorm(x, slice(w.rms_ffn_weight, layer, dim));
      const gate = matVec(slice(w.w1, layer, hiddenDim * dim), normedFfn, hiddenDim);
      const up = matVec(slice(w.w3, layer, hiddenDim * dim), normedFfn, hiddenDim);
      for (let i = 0; i < hiddenDim; i++) gate[i] = (gate[i] / (1 + Math.exp(-gate[i]))) * up[i];
      addInto(x, matVec(slice(w.w2, layer, dim * hiddenDim), gate, dim));
    }
    return matVec(w.wcls, rmsNorm(x, w.rms_final_weight), vocabSize);
  }
}

function slice(stacked: Float32Array, layer: number, size: number): Float32Array {
  return stacked.subarray(layer * size, (layer + 1) * size);
}

/** y = W·x for a row-major W of shape [rows, x.length]. */
function matVec(matrix: Float32Array, x: Float32Array, rows: number): Float32Array {
  const cols = x.length;
  const y = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    let sum = 0;
    for (let c = 0; c < cols; c++) sum += matrix[r * cols + c] * x[c];
    y[r] = sum;
  }
  return y;
}

function rmsNorm(x: Float32Array, weight: Float32Array): Float32Array {
  let sumOfSquares = 0;
  for (const value of x) sumOfSquares += value * value;
  const scale = 1 / Math.sqrt(sumOfSquares / x.length + 1e-5);
  return x.map((value, i) => weight[i] * value * scale);
}

/** Rotary embedding of one head: pair (2i, 2i+1) turns by pos · 10000^(-2i/headSize). */
function rotate(vector: Float32Array, offset: number, headSize: number, pos: number): void {
  for (let i = 0; i < headSize; i += 2) {
    const angle = pos * 10000 ** (-i / headSize);
    const [cos, sin] = [Math.cos(angle), Math.sin(angle)];
    const [a, b] = [vector[offset + i], vector[offset + i + 1]];
    vector[offset + i] = a * cos - b * sin;
    vector[offset + i + 1] = a * sin + b * cos;
  }
}

function softmax(scores: Float64Array): Float64Array {
  const max = Math.max(...scores);
  const exps = scores.map((score) => Math.exp(score - max));
  const total = exps.reduce((sum, value) => sum + value, 0);
  return exps.map((value) => value / total);
}

function addInto(x: Float32Array, delta: Float32Array): void {
  for (let i = 0; i < x.length; i++) x[i] += delta[i];
}

function fail(message: string): never {
  throw new Error(message);
}
