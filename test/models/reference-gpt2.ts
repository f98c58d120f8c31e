// An independent GPT-2 forward pass in plain TypeScript (float64), written from the model's math
// (OpenAI's gpt-2 model.py), not from any Ein code: it runs the WHOLE sequence at once with causal
// attention and no cache, so comparing it with the cached one-token-at-a-time Ein model also checks
// the KV-cache path. Weights use GPT-2's names and Conv1D layout ([in, out], y = x·W + b).

export type Gpt2Weights = ReadonlyMap<string, Float32Array>;

export interface Gpt2Shape {
  dim: number;
  nHeads: number;
  nLayers: number;
  hiddenDim: number;
  vocabSize: number;
  maxPositions: number;
}

/** Logits for every position of `tokens`. */
export function referenceGpt2(
  weights: Gpt2Weights,
  shape: Gpt2Shape,
  tokens: readonly number[],
): Float64Array[] {
  const { dim, nHeads, nLayers, vocabSize } = shape;
  const w = (name: string) => weights.get(name) ?? fail(`missing ${name}`);
  const headSize = dim / nHeads;
  const wte = w('wte.weight');
  const wpe = w('wpe.weight');
  let xs: Float64Array[] = tokens.map((token, t) => {
    const x = new Float64Array(dim);
    for (let d = 0; d < dim; d++) x[d] = wte[token * dim + d]! + wpe[t * dim + d]!;
    return x;
  });
  for (let l = 0; l < nLayers; l++) {
    const p = `h.${l}.`;
    const normed = xs.map((x) => layerNorm(x, w(p + 'ln_1.weight'), w(p + 'ln_1.bias')));
    const qkv = normed.map((a) => conv1d(a, w(p + 'attn.c_attn.weight'), w(p + 'attn.c_attn.bias')));
    const attended = qkv.map((_, t) => {
      const out = new Float64Array(dim);
      for (let h = 0; h < nHeads; h++) {
        const q = (s: number, e: number) => qkv[s]![h * headSize + e]!;
        const k = (s: number, e: number) => qkv[s]![dim + h * headSize + e]!;
        const v = (s: number, e: number) => qkv[s]![2 * dim + h * headSize + e]!;
        const scores = Array.from({ length: t + 1 }, (_, s) => {
          let dot = 0;
          for (let e = 0; e < headSize; e++) dot += q(t, e) * k(s, e);
          return dot / Math.sqrt(headSize);
        });
        const probabilities = softmax(scores);
        for (let e = 0; e < headSize; e++)
          out[h * headSize + e] = probabilities.reduce((sum, pr, s) => sum + pr * v(s, e), 0);
      }
      return out;
    });
    xs = xs.map((x, t) =>
      add(x, conv1d(attended[t]!, w(p + 'attn.c_proj.weight'), w(p + 'attn.c_proj.bias'))),
    );
    xs = xs.map((x) => {
      const a = layerNorm(x, w(p + 'ln_2.weight'), w(p + 'ln_2.bias'));
      const hidden = conv1d(a, w(p + 'mlp.c_fc.weight'), w(p + 'mlp.c_fc.bias')).map(geluTanh);
      return add(x, conv1d(hidden, w(p + 'mlp.c_proj.weight'), w(p + 'mlp.c_proj.bias')));
    });
  }
  return xs.map((x) => {
    const a = layerNorm(x, w('ln_f.weight'), w('ln_f.bias'));
    const logits = new Float64Array(vocabSize);
    for (let v = 0; v < vocabSize; v++) for (let d = 0; d < dim; d++) logits[v] += wte[v * dim + d]! * a[d]!;
    return logits;
  });
}

function layerNorm(x: Float64Array, g: Float32Array, b: Float32Array): Float64Array {
  const mean = x.reduce((s, v) => s + v, 0) / x.length;
  const variance = x.reduce((s, v) => s + (v - mean) ** 2, 0) / x.length;
  return x.map((v, i) => ((v - mean) / Math.sqrt(variance + 1e-5)) * g[i]! + b[i]!);
}

/** GPT-2's Conv1D: W is [in, out]. */
function conv1d(x: Float64Array, weight: Float32Array, bias: Float32Array): Float64Array {
  const out = Float64Array.from(bias);
  for (let i = 0; i < x.length; i++)
    for (let o = 0; o < out.length; o++) out[o] += x[i]! * weight[i * out.length + o]!;
  return out;
}

const geluTanh = (u: number): number =>
  0.5 * u * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (u + 0.044715 * u ** 3)));

function softmax(scores: number[]): number[] {
  const max = Math.max(...scores);
  const exps = scores.map((s) => Math.exp(s - max));
  const total = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / total);
}

const add = (a: Float64Array, b: Float64Array): Float64Array => a.map((v, i) => v + b[i]!);

function fail(message: string): never {
  throw new Error(message);
}
