import { describe, expect, it } from 'vitest';
import {
  emitErfF32x4,
  emitExpF32x4,
  emitSigmoidF32x4,
  emitTanhF32x4,
} from '../../src/backends/wasm/simdmath.js';
import { compileVectorMap, sweep, ulpError, type VectorEmitter } from './simdmath-harness.js';

const SWEEP_POINTS = 1 << 20;

/** erf in double precision: Maclaurin series below 2.5, Lentz-free continued fraction for erfc above. */
function erfExact(x: number): number {
  const t = Math.abs(x);
  if (t < 2.5) {
    let sum = 0;
    let term = t;
    for (let n = 0; n < 200 && Math.abs(term) > 1e-18; n++) {
      sum += term / (2 * n + 1);
      term *= (-t * t) / (n + 1);
    }
    return (Math.sign(x) * 2 * sum) / Math.sqrt(Math.PI);
  }
  let fraction = 0;
  for (let k = 60; k >= 1; k--) fraction = k / 2 / (t + fraction);
  return Math.sign(x) * (1 - Math.exp(-t * t) / Math.sqrt(Math.PI) / (t + fraction));
}

interface Bound {
  low: number;
  high: number;
  maxUlp: number;
  maxAbsolute?: number;
}

function measure(emitter: VectorEmitter, exact: (x: number) => number, bound: Bound) {
  const run = compileVectorMap(emitter, SWEEP_POINTS);
  const inputs = sweep(bound.low, bound.high, SWEEP_POINTS);
  const outputs = run(inputs);
  let maxUlp = 0;
  let maxAbsolute = 0;
  for (let i = 0; i < inputs.length; i++) {
    const reference = exact(inputs[i]);
    maxUlp = Math.max(maxUlp, ulpError(outputs[i], reference));
    maxAbsolute = Math.max(maxAbsolute, Math.abs(outputs[i] - reference));
  }
  return { run, maxUlp, maxAbsolute };
}

/** Inputs at and beyond every clamp and cut-off, plus IEEE specials (padded to 4 lanes). */
const SPECIALS = [
  Infinity,
  -Infinity,
  0,
  -0,
  1e30,
  -1e30,
  88.5,
  88.72,
  88.73,
  -87.3,
  -87.4,
  -1000,
  1e-8,
  -1e-8,
  20,
  -20,
].map(Math.fround);

describe('vectorised exp / sigmoid / tanh / erf (XNNPACK algorithms)', () => {
  it('exp: ≤ 2.5 ULP on [-87.33, 88.72]; exact 0, +inf, NaN at the edges', () => {
    const { run, maxUlp } = measure(emitExpF32x4, Math.exp, { low: -87.33, high: 88.72, maxUlp: 2.5 });
    expect(maxUlp).toBeLessThanOrEqual(2.5);
    const out = run(new Float32Array(SPECIALS));
    SPECIALS.forEach((x, i) => {
      const exact = Math.fround(Math.exp(x));
      if (x < -87.34) expect(out[i], `exp(${x})`).toBe(0);
      else if (exact === Infinity) expect(out[i], `exp(${x})`).toBe(Infinity);
      else expect(ulpError(out[i], Math.exp(x)), `exp(${x})`).toBeLessThanOrEqual(2.5);
    });
    // Softmax inputs: x - max ≤ 0 with very negative tails must give exact zeros, not garbage.
    const tail = run(sweep(-1e6, -87.34, 4096));
    expect(tail.every((value) => value === 0)).toBe(true);
    expect(Number.isNaN(run(new Float32Array([NaN, 0, 0, 0]))[0])).toBe(true);
  });

  it('sigmoid: ≤ 3.5 ULP on [-87, 87]; saturates to exactly 0 and 1', () => {
    const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
    const { run, maxUlp } = measure(emitSigmoidF32x4, sigmoid, { low: -87, high: 87, maxUlp: 3.5 });
    expect(maxUlp).toBeLessThanOrEqual(3.5);
    const out = run(new Float32Array([Infinity, -Infinity, 1e30, -1e30, 100, -100, 0, -0]));
    expect(Array.from(out)).toEqual([1, 0, 1, 0, 1, 0, 0.5, 0.5]);
    expect(Number.isNaN(run(new Float32Array([NaN, 0, 0, 0]))[0])).toBe(true);
  });

  it('tanh: ≤ 4e-7 absolute and ≤ 7 ULP on [-10, 10]; ±1 beyond the clamp without NaN', () => {
    const { run, maxUlp, maxAbsolute } = measure(emitTanhF32x4, Math.tanh, { low: -10, high: 10, maxUlp: 7 });
    expect(maxAbsolute).toBeLessThanOrEqual(4e-7);
    expect(maxUlp).toBeLessThanOrEqual(7);
    const out = run(new Float32Array(SPECIALS));
    SPECIALS.forEach((x, i) =>
      expect(Math.abs(out[i] - Math.tanh(x)), `tanh(${x})`).toBeLessThanOrEqual(4e-7),
    );
    expect(out[0]).toBe(1);
    expect(out[1]).toBe(-1);
    expect(Number.isNaN(run(new Float32Array([NaN, 0, 0, 0]))[0])).toBe(true);
  });

  it('erf: ≤ 4e-7 absolute and ≤ 7 ULP on [-5, 5]; ±1 beyond the clamp without NaN', () => {
    const { run, maxUlp, maxAbsolute } = measure(emitErfF32x4, erfExact, { low: -5, high: 5, maxUlp: 7 });
    expect(maxAbsolute).toBeLessThanOrEqual(4e-7);
    expect(maxUlp).toBeLessThanOrEqual(7);
    const out = run(new Float32Array(SPECIALS));
    SPECIALS.forEach((x, i) => expect(Math.abs(out[i] - erfExact(x)), `erf(${x})`).toBeLessThanOrEqual(4e-7));
    expect(out[0]).toBe(1);
    expect(out[1]).toBe(-1);
    expect(Number.isNaN(run(new Float32Array([NaN, 0, 0, 0]))[0])).toBe(true);
  });
});
