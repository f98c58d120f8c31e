// Independent oracles for the examples: plain loops over plain arrays, written from the math, not
// from the Ein source. Inputs and outputs are row-major Float32Arrays.
export type F = Float32Array;

const at =
  (shape: number[]) =>
  (...i: number[]) =>
    i.reduce((o, v, k) => o * shape[k]! + v, 0);

export function matmul(A: F, B: F, M: number, K: number, N: number): F {
  const C = new Float32Array(M * N);
  for (let m = 0; m < M; m++)
    for (let n = 0; n < N; n++) {
      let s = 0;
      for (let k = 0; k < K; k++) s += A[m * K + k]! * B[k * N + n]!;
      C[m * N + n] = s;
    }
  return C;
}

export function softmaxRows(X: F, R: number, C: number): F {
  const Y = new Float32Array(R * C);
  for (let r = 0; r < R; r++) {
    let mx = -Infinity;
    for (let c = 0; c < C; c++) mx = Math.max(mx, X[r * C + c]!);
    let s = 0;
    for (let c = 0; c < C; c++) s += Math.exp(X[r * C + c]! - mx);
    for (let c = 0; c < C; c++) Y[r * C + c] = Math.exp(X[r * C + c]! - mx) / s;
  }
  return Y;
}

export function layernorm(X: F, g: F, b: F, T: number, D: number): F {
  const Y = new Float32Array(T * D);
  for (let t = 0; t < T; t++) {
    let mu = 0;
    for (let d = 0; d < D; d++) mu += X[t * D + d]!;
    mu /= D;
    let v = 0;
    for (let d = 0; d < D; d++) v += (X[t * D + d]! - mu) ** 2;
    v /= D;
    for (let d = 0; d < D; d++) Y[t * D + d] = ((X[t * D + d]! - mu) / Math.sqrt(v + 1e-5)) * g[d]! + b[d]!;
  }
  return Y;
}

export function rmsnorm(X: F, w: F, T: number, D: number): F {
  const Y = new Float32Array(T * D);
  for (let t = 0; t < T; t++) {
    let ms = 0;
    for (let d = 0; d < D; d++) ms += X[t * D + d]! ** 2;
    ms /= D;
    for (let d = 0; d < D; d++) Y[t * D + d] = (X[t * D + d]! / Math.sqrt(ms + 1e-5)) * w[d]!;
  }
  return Y;
}

/** GELU with erf computed by an independent method (Abramowitz–Stegun 7.1.26 is too coarse; use Simpson). */
export function erfBySimpson(x: number): number {
  const n = 2000;
  const h = x / n;
  let s = 1 + Math.exp(-x * x);
  for (let i = 1; i < n; i++) s += (i % 2 ? 4 : 2) * Math.exp(-((i * h) ** 2));
  return (2 / Math.sqrt(Math.PI)) * (h / 3) * s;
}

export function mlp(X: F, W1: F, b1: F, W2: F, b2: F, T: number, D: number, H: number): F {
  const U = matmul(X, W1, T, D, H);
  const G = new Float32Array(T * H);
  for (let t = 0; t < T; t++)
    for (let h = 0; h < H; h++) {
      const u = U[t * H + h]! + b1[h]!;
      G[t * H + h] = 0.5 * u * (1 + erfBySimpson(u / Math.SQRT2));
    }
  const Y = matmul(G, W2, T, H, D);
  for (let t = 0; t < T; t++) for (let d = 0; d < D; d++) Y[t * D + d] = Y[t * D + d]! + b2[d]!;
  return Y;
}

export function conv1d(X: F, W: F, I: number, L: number, O: number, R: number): F {
  const Lo = L - R + 1;
  const Y = new Float32Array(O * Lo);
  const x = at([I, L]);
  const w = at([O, I, R]);
  for (let o = 0; o < O; o++)
    for (let t = 0; t < Lo; t++) {
      let s = 0;
      for (let i = 0; i < I; i++) for (let r = 0; r < R; r++) s += X[x(i, t + r)]! * W[w(o, i, r)]!;
      Y[o * Lo + t] = s;
    }
  return Y;
}

/** softmax(Q Kᵀ / √E, masked) V; `causal` lets query p see keys m ≤ p + M − P. */
export function attention(Q: F, K: F, V: F, P: number, M: number, E: number, Fd: number, causal = false): F {
  const out = new Float32Array(P * Fd);
  for (let p = 0; p < P; p++) {
    const scores = new Array<number>(M).fill(-Infinity);
    for (let m = 0; m < M; m++) {
      if (causal && m > p + M - P) continue;
      let s = 0;
      for (let e = 0; e < E; e++) s += Q[p * E + e]! * K[m * E + e]!;
      scores[m] = s / Math.sqrt(E);
    }
    const mx = Math.max(...scores);
    const w = scores.map((s) => Math.exp(s - mx));
    const total = w.reduce((a, b) => a + b, 0);
    for (let f = 0; f < Fd; f++) {
      let s = 0;
      for (let m = 0; m < M; m++) s += w[m]! * V[m * Fd + f]!;
      out[p * Fd + f] = s / total;
    }
  }
  return out;
}
