// Scalar math shared by the reference interpreter and tests, in float64.

/**
 * erf in float64: the Maclaurin series for |x| < 3 (largest term ≈ e^9, so ≥ 11 correct digits
 * survive), and the Laplace continued fraction for erfc beyond (converges fast there).
 */
export function erf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const ax = Math.abs(x);
  if (ax < 3) {
    let term = ax;
    let sum = ax;
    for (let n = 1; n < 200 && Math.abs(term) > 1e-17 * Math.abs(sum); n++) {
      term *= (-ax * ax) / n;
      sum += term / (2 * n + 1);
    }
    return Math.sign(x) * ((2 / Math.sqrt(Math.PI)) * sum);
  }
  if (ax > 6) return Math.sign(x);
  // erfc(x) = exp(-x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + 2/(x + ...))))), evaluated bottom-up.
  let f = ax;
  for (let n = 60; n >= 1; n--) f = ax + n / 2 / f;
  const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / f;
  return Math.sign(x) * (1 - erfc);
}

export const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));
export const rsqrt = (x: number): number => 1 / Math.sqrt(x);

/** The unary builtins of the language, in float64: shared by both interpreters. */
export const UNARY_MATH: Readonly<Record<string, (x: number) => number>> = {
  exp: Math.exp,
  log: Math.log,
  sqrt: Math.sqrt,
  rsqrt,
  tanh: Math.tanh,
  erf,
  sigmoid,
  abs: Math.abs,
};
