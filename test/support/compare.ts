// How backends are compared with the reference interpreter.

/** Largest |a − b| / max(1, |b|): relative for large values, absolute near zero. */
export function maxRelativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++)
    worst = Math.max(worst, Math.abs(a[i]! - b[i]!) / Math.max(1, Math.abs(b[i]!)));
  return worst;
}

/** C = A·B in float64 for row-major A [m, k] and B [k, n]: the oracle for hand-written GPU matmuls. */
export function matmulOracle(
  a: Float32Array,
  b: Float32Array,
  m: number,
  k: number,
  n: number,
): Float64Array {
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let sum = 0;
      for (let p = 0; p < k; p++) sum += a[i * k + p]! * b[p * n + j]!;
      c[i * n + j] = sum;
    }
  return c;
}

/** Worst relative error over every output of a run against the interpreter's; a NaN counts as Infinity. */
export function worstOutputError(
  got: Readonly<Record<string, { data: ArrayLike<number> }>>,
  want: Readonly<Record<string, { data: ArrayLike<number> }>>,
): number {
  let worst = 0;
  for (const [name, w] of Object.entries(want))
    for (let i = 0; i < w.data.length; i++) {
      const e = Math.abs(got[name]!.data[i]! - w.data[i]!) / Math.max(1, Math.abs(w.data[i]!));
      worst = Math.max(worst, Number.isNaN(e) ? Infinity : e);
    }
  return worst;
}
