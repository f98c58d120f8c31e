/**
 * The two model-block workloads of the attention and MLP benchmarks, each as an Ein kernel and as
 * the ONNX graph onnxruntime-web runs, with identical deterministic inputs and a float64 reference
 * for sampled outputs:
 *  - causal multi-head attention (12 heads, head size 64): Ein's 3-pass cascade with a head index
 *    (the online pass rewrites it to the 1-pass form); ONNX MatMul, scale, mask add, Softmax, MatMul;
 *  - GPT-2 small's LayerNorm + MLP (768 → 3072 → 768, erf GELU): ONNX LayerNormalization (opset 17),
 *    MatMul + Add, Div/Erf/Add/Mul/Mul, MatMul + Add; weights are ONNX initializers (pre-packed by
 *    ORT, its best case) and Ein inputs (copied into the arena on every run, as WasmRunner does).
 */
import { seededFloats } from '../src/ir/tensor.js';
import { encodeModel, type OnnxGraph } from './onnx-graph.js';

export type WorkloadName = 'attention' | 'mlp';

export interface Workload {
  /** Display name of the shape, e.g. `H12 P2048 causal`. */
  label: string;
  einSource: string;
  ranks: Record<string, number>;
  /** Inputs in the Ein kernel's order (also the ONNX input names where they are inputs). */
  inputs: { name: string; dims: number[]; data: Float32Array }[];
  /** Names the ONNX graph takes as inputs (the rest are initializers). */
  onnxInputs: string[];
  onnx: () => Uint8Array;
  output: { name: string; dims: number[] };
  flops: number;
  /** Output positions compared between engines and with `reference`. */
  samples: number[];
  reference: (position: number) => number;
}

const ATTENTION_EIN = `kernel causal_mha(Q: f32[H, P, E], K: f32[H, M, E], V: f32[H, M, F]) -> AV {
  S[h, p, m] = Q[h, p, e] * K[h, m, e] / sqrt(E)
  QK[h, p, m] = where(m <= p + M - P, S[h, p, m], -inf)
  GM[h, p] = max[m] QK[h, p, m]
  SN[h, p, m] = exp(QK[h, p, m] - GM[h, p])
  SD[h, p] = sum[m] SN[h, p, m]
  AV[h, p, f] = SN[h, p, m] * V[h, m, f] / SD[h, p]
}
`;

const MLP_EIN = `kernel gpt2_mlp(X: f32[T, D], g: f32[D], b: f32[D], W1: f32[D, H], b1: f32[H], W2: f32[H, D], b2: f32[D]) -> Y {
  MU[t] = sum[d] X[t, d] / D
  XC[t, d] = X[t, d] - MU[t]
  VAR[t] = sum[d] XC[t, d] ^ 2 / D
  XN[t, d] = XC[t, d] * rsqrt(VAR[t] + 1e-5) * g[d] + b[d]
  U[t, h] = (sum[d] XN[t, d] * W1[d, h]) + b1[h]
  G[t, h] = 0.5 * U[t, h] * (1 + erf(U[t, h] / sqrt(2)))
  Y[t, d] = (sum[h] G[t, h] * W2[h, d]) + b2[d]
}
`;

function samplesOf(total: number, count = 48): number[] {
  const r = seededFloats(count, 11);
  return [0, total - 1, ...Array.from(r, (v) => Math.floor(((v + 1) / 2) * total) % total)];
}

const scalar = (name: string, value: number) => ({ name, dims: [], data: new Float32Array([value]) });

export function attentionWorkload(seq: number, heads = 12, head = 64): Workload {
  const [H, P, M, E] = [heads, seq, seq, head];
  const q = seededFloats(H * P * E, 21);
  const k = seededFloats(H * M * E, 22);
  const v = seededFloats(H * M * E, 23);
  const mask = new Float32Array(P * M);
  for (let p = 0; p < P; p++) for (let m = 0; m < M; m++) mask[p * M + m] = m <= p + M - P ? 0 : -Infinity;
  const graph = (): OnnxGraph => ({
    opset: 13,
    inputs: [
      { name: 'Q', dims: [H, P, E] },
      { name: 'K', dims: [H, M, E] },
      { name: 'V', dims: [H, M, E] },
    ],
    outputs: [{ name: 'AV', dims: [H, P, E] }],
    initializers: [scalar('scale', 1 / Math.sqrt(E)), { name: 'mask', dims: [P, M], data: mask }],
    nodes: [
      { op: 'Transpose', inputs: ['K'], outputs: ['KT'], attributes: { perm: [0, 2, 1] } },
      { op: 'MatMul', inputs: ['Q', 'KT'], outputs: ['S'] },
      { op: 'Mul', inputs: ['S', 'scale'], outputs: ['SS'] },
      { op: 'Add', inputs: ['SS', 'mask'], outputs: ['SM'] },
      { op: 'Softmax', inputs: ['SM'], outputs: ['PR'], attributes: { axis: -1 } },
      { op: 'MatMul', inputs: ['PR', 'V'], outputs: ['AV'] },
    ],
  });
  const reference = (position: number) => {
    const f = position % E;
    const row = Math.floor(position / E);
    const [h, p] = [Math.floor(row / P), row % P];
    const scores: number[] = [];
    for (let m = 0; m <= p + M - P && m < M; m++) {
      let s = 0;
      for (let e = 0; e < E; e++) s += q[(h * P + p) * E + e]! * k[(h * M + m) * E + e]!;
      scores.push(s / Math.sqrt(E));
    }
    const max = Math.max(...scores);
    let num = 0;
    let den = 0;
    scores.forEach((s, m) => {
      const w = Math.exp(s - max);
      den += w;
      num += w * v[(h * M + m) * E + f]!;
    });
    return num / den;
  };
  return {
    label: `H${H} P${P} E${E} causal`,
    einSource: ATTENTION_EIN,
    ranks: { H, P, M, E, F: E },
    inputs: [
      { name: 'Q', dims: [H, P, E], data: q },
      { name: 'K', dims: [H, M, E], data: k },
      { name: 'V', dims: [H, M, E], data: v },
    ],
    onnxInputs: ['Q', 'K', 'V'],
    onnx: () => encodeModel(graph()),
    output: { name: 'AV', dims: [H, P, E] },
    // Causal: only the visible half of QKᵀ and of PV is needed (what Ein computes).
    flops: 2 * 2 * H * E * ((P * (P + 1)) / 2 + P * (M - P)),
    samples: samplesOf(H * P * E),
    reference,
  };
}

export function mlpWorkload(T = 128, D = 768, H = 3072): Workload {
  const x = seededFloats(T * D, 31);
  const g = seededFloats(D, 32).map((v) => 1 + 0.1 * v);
  const b = seededFloats(D, 33).map((v) => 0.1 * v);
  const w1 = seededFloats(D * H, 34).map((v) => v / Math.sqrt(D));
  const b1 = seededFloats(H, 35).map((v) => 0.1 * v);
  const w2 = seededFloats(H * D, 36).map((v) => v / Math.sqrt(H));
  const b2 = seededFloats(D, 37).map((v) => 0.1 * v);
  const graph = (): OnnxGraph => ({
    opset: 17,
    inputs: [{ name: 'X', dims: [T, D] }],
    outputs: [{ name: 'Y', dims: [T, D] }],
    initializers: [
      { name: 'g', dims: [D], data: g },
      { name: 'b', dims: [D], data: b },
      { name: 'W1', dims: [D, H], data: w1 },
      { name: 'b1', dims: [H], data: b1 },
      { name: 'W2', dims: [H, D], data: w2 },
      { name: 'b2', dims: [D], data: b2 },
      scalar('sqrt2', Math.SQRT2),
      scalar('one', 1),
      scalar('half', 0.5),
    ],
    nodes: [
      {
        op: 'LayerNormalization',
        inputs: ['X', 'g', 'b'],
        outputs: ['XN'],
        attributes: { axis: -1, epsilon: { float: 1e-5 } },
      },
      { op: 'MatMul', inputs: ['XN', 'W1'], outputs: ['U0'] },
      { op: 'Add', inputs: ['U0', 'b1'], outputs: ['U'] },
      { op: 'Div', inputs: ['U', 'sqrt2'], outputs: ['UD'] },
      { op: 'Erf', inputs: ['UD'], outputs: ['ER'] },
      { op: 'Add', inputs: ['ER', 'one'], outputs: ['E1'] },
      { op: 'Mul', inputs: ['U', 'E1'], outputs: ['UE'] },
      { op: 'Mul', inputs: ['UE', 'half'], outputs: ['G'] },
      { op: 'MatMul', inputs: ['G', 'W2'], outputs: ['Y0'] },
      { op: 'Add', inputs: ['Y0', 'b2'], outputs: ['Y'] },
    ],
  });
  const rowCache = new Map<number, Float64Array>();
  const hiddenRow = (t: number): Float64Array => {
    let gRow = rowCache.get(t);
    if (gRow) return gRow;
    let mu = 0;
    for (let d = 0; d < D; d++) mu += x[t * D + d]! / D;
    let variance = 0;
    for (let d = 0; d < D; d++) variance += (x[t * D + d]! - mu) ** 2 / D;
    const xn = Array.from(
      { length: D },
      (_, d) => ((x[t * D + d]! - mu) / Math.sqrt(variance + 1e-5)) * g[d]! + b[d]!,
    );
    gRow = new Float64Array(H);
    for (let h = 0; h < H; h++) {
      let u = b1[h]!;
      for (let d = 0; d < D; d++) u += xn[d]! * w1[d * H + h]!;
      gRow[h] = 0.5 * u * (1 + erf(u / Math.SQRT2));
    }
    rowCache.set(t, gRow);
    return gRow;
  };
  const reference = (position: number) => {
    const [t, d] = [Math.floor(position / D), position % D];
    const gRow = hiddenRow(t);
    let y = b2[d]!;
    for (let h = 0; h < H; h++) y += gRow[h]! * w2[h * D + d]!;
    return y;
  };
  return {
    label: `T${T} D${D} H${H}`,
    einSource: MLP_EIN,
    ranks: { T, D, H },
    inputs: [
      { name: 'X', dims: [T, D], data: x },
      { name: 'g', dims: [D], data: g },
      { name: 'b', dims: [D], data: b },
      { name: 'W1', dims: [D, H], data: w1 },
      { name: 'b1', dims: [H], data: b1 },
      { name: 'W2', dims: [H, D], data: w2 },
      { name: 'b2', dims: [D], data: b2 },
    ],
    onnxInputs: ['X'],
    onnx: () => encodeModel(graph()),
    output: { name: 'Y', dims: [T, D] },
    flops: 2 * T * D * H * 2,
    samples: samplesOf(T * D, 24),
    reference,
  };
}

/** erf in float64 (Abramowitz–Stegun 7.1.26 is too coarse; this is the series / continued fraction). */
function erf(x: number): number {
  const t = Math.abs(x);
  if (t < 3) {
    let sum = 0;
    let term = t;
    for (let n = 0; n < 200; n++) {
      sum += term / (2 * n + 1);
      term *= (-t * t) / (n + 1);
      if (Math.abs(term) < 1e-17) break;
    }
    return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * sum;
  }
  // erfc continued fraction for large |x|.
  let f = 0;
  for (let n = 60; n >= 1; n--) f = n / 2 / (t + f);
  const erfc = Math.exp(-t * t) / Math.sqrt(Math.PI) / (t + f);
  return Math.sign(x) * (1 - erfc);
}

export function workload(name: WorkloadName, size: number): Workload {
  return name === 'attention' ? attentionWorkload(size) : mlpWorkload(size);
}
