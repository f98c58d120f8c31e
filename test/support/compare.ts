// How backends are compared with the reference interpreter.

/** Largest |a − b| / max(1, |b|): relative for large values, absolute near zero. */
export function maxRelativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++)
    worst = Math.max(worst, Math.abs(a[i]! - b[i]!) / Math.max(1, Math.abs(b[i]!)));
  return worst;
}
