import binaryen from 'binaryen';
import type { FunctionLocals } from './function-locals.js';
import { f32x4Const, hexFloat } from './simd-constants.js';

/**
 * Vectorised f32x4 transcendental functions as binaryen expressions, following XNNPACK's
 * algorithms (design notes §7). Each emitter takes a v128 expression and returns a v128
 * expression; temporaries are allocated in the caller's function through `locals`.
 *
 * Products and sums are separate mul + add (not relaxed FMA), so results are identical on every
 * host. Error bounds below are measured by test/wasm/simdmath.test.ts against Math.* in double
 * precision over dense sweeps (ULP = spacing of f32 at the exact result).
 */
export interface SimdMathContext {
  mod: binaryen.Module;
  locals: FunctionLocals;
}

type Expr = binaryen.ExpressionRef;

/** Evaluates `value` once into a fresh v128 local; returns the set and a getter. */
function bind(ctx: SimdMathContext, value: Expr): [Expr, () => Expr] {
  const index = ctx.locals.add(binaryen.v128);
  return [ctx.mod.local.set(index, value), () => ctx.mod.local.get(index, binaryen.v128)];
}

/** Horner evaluation c[last] + ... with `x` a getter: ((c_n·x + c_{n-1})·x + ...) + c_0. */
function horner(ctx: SimdMathContext, x: () => Expr, coefficients: number[]): Expr {
  const { mod } = ctx;
  let acc = f32x4Const(mod, coefficients[coefficients.length - 1]);
  for (let i = coefficients.length - 2; i >= 0; i--)
    acc = mod.f32x4.add(mod.f32x4.mul(acc, x()), f32x4Const(mod, coefficients[i]));
  return acc;
}

/** NaN-propagating clamp: wasm pmin(a, b) = b < a ? b : a, so a NaN `x` stays NaN. */
function clamp(ctx: SimdMathContext, x: Expr, low: number, high: number): Expr {
  const { mod } = ctx;
  return mod.f32x4.pmax(mod.f32x4.pmin(x, f32x4Const(mod, high)), f32x4Const(mod, low));
}

// exp: XNNPACK src/f32-raddstoreexpminusmax/wasmsimd-rr2-p5.c.in (and f32-vsigmoid rr2-p5).
const LOG2E = hexFloat('0x1.715476p+0');
/** 1.5·2^23 + 127: adding it rounds to an integer n whose low bits, shifted left 23, are 2^n. */
const MAGIC_BIAS = hexFloat('0x1.8000FEp23');
const MINUS_LN2_HI = hexFloat('-0x1.62E400p-1');
const MINUS_LN2_LO = hexFloat('-0x1.7F7D1Cp-20');
const EXP_POLY = ['0x1.FFFFF6p-1', '0x1.FFFDC6p-2', '0x1.555A80p-3', '0x1.573A1Ap-5', '0x1.0F9F9Cp-7'].map(
  hexFloat,
);
/** Below this, e^x is subnormal in f32; XNNPACK flushes it to +0. */
const EXP_DENORMAL_CUTOFF = hexFloat('-0x1.5D589Ep6');
/** 2^n for n = round(x·log2e) only fits the exponent field up to n = 127, i.e. x < 88.03. */
const EXP_HALVE_ABOVE = 88;
/** Above ln(FLT_MAX) = 88.7228 the result is +inf; clamping just past it keeps n in range. */
const EXP_CLAMP_HIGH = 89;

/**
 * e^x. Max error 2.3 ULP for x in [-87.33, 88.72] (normal results; XNNPACK quotes 2.2); exactly +0 for
 * x < -87.336 (results that would be subnormal, < 1.2e-38, are flushed, as XNNPACK does) and for
 * -inf; +inf for x > 88.7228 and +inf; NaN for NaN.
 *
 * rr2-p5: n = round(x·log2e) by the magic bias, t = x - n·ln2 in two steps (Cody–Waite hi/lo),
 * e^t ≈ 1 + t·p(t) with p of degree 4, scaled by 2^n built from n's bits. Added here for a
 * general exp: above x = 88 the scale is built as 2^(n-1) and the result doubled, so n = 128
 * (x in [88.38, 88.72], where e^x is still finite) never overflows the exponent field.
 */
export function emitExpF32x4(ctx: SimdMathContext, x: Expr): Expr {
  return expCore(ctx, x, true);
}

function expCore(ctx: SimdMathContext, x: Expr, handleOverflow: boolean): Expr {
  const { mod } = ctx;
  const c = (value: number) => f32x4Const(mod, value);
  const [setX, getX] = bind(ctx, x);
  const [setClamped, clamped] = bind(ctx, clamp(ctx, getX(), EXP_DENORMAL_CUTOFF, EXP_CLAMP_HIGH));
  const [setBiased, biased] = bind(ctx, mod.f32x4.add(mod.f32x4.mul(clamped(), c(LOG2E)), c(MAGIC_BIAS)));
  const body: Expr[] = [setX, setClamped, setBiased];
  let exponentBits = biased();
  let getBig: (() => Expr) | undefined;
  if (handleOverflow) {
    // The mask is -1 in lanes above 88, so adding it builds 2^(n-1) there; doubled at the end.
    const [setBig, big] = bind(ctx, mod.f32x4.gt(clamped(), c(EXP_HALVE_ABOVE)));
    body.push(setBig);
    exponentBits = mod.i32x4.add(biased(), big());
    getBig = big;
  }
  const [setScale, scale] = bind(ctx, mod.i32x4.shl(exponentBits, mod.i32.const(23)));
  const [setN, n] = bind(ctx, mod.f32x4.sub(biased(), c(MAGIC_BIAS)));
  const [setT, t] = bind(ctx, mod.f32x4.add(mod.f32x4.mul(n(), c(MINUS_LN2_HI)), clamped()));
  const [setT2, t2] = bind(ctx, mod.f32x4.add(mod.f32x4.mul(n(), c(MINUS_LN2_LO)), t()));
  const [setP, p] = bind(ctx, horner(ctx, t2, EXP_POLY));
  // e^x = s + (t·s)·p(t)
  const [setF, f] = bind(ctx, mod.f32x4.add(mod.f32x4.mul(mod.f32x4.mul(t2(), scale()), p()), scale()));
  body.push(setScale, setN, setT, setT2, setP, setF);
  let result = f();
  if (getBig) result = mod.f32x4.add(result, mod.v128.and(getBig(), f()));
  const underflow = mod.f32x4.lt(getX(), c(EXP_DENORMAL_CUTOFF));
  body.push(mod.v128.andnot(result, underflow));
  return mod.block(null, body, binaryen.v128);
}

/**
 * 1 / (1 + e^-x), from XNNPACK src/f32-vsigmoid (rr2-p5-div): e = e^-|x| never overflows, then
 * f = e / (1 + e) for x < 0 and 1 - f otherwise. Max error 3.5 ULP on [-87, 87];
 * exactly 0 below -87.34 and 1 above about 17; NaN for NaN.
 */
export function emitSigmoidF32x4(ctx: SimdMathContext, x: Expr): Expr {
  const { mod } = ctx;
  const [setX, getX] = bind(ctx, x);
  const [setE, e] = bind(ctx, expCore(ctx, mod.f32x4.neg(mod.f32x4.abs(getX())), false));
  const [setF, f] = bind(ctx, mod.f32x4.div(e(), mod.f32x4.add(e(), f32x4Const(mod, 1))));
  const negative = mod.i32x4.shr_s(getX(), mod.i32.const(31));
  return mod.block(
    null,
    [setX, setE, setF, mod.v128.bitselect(f(), mod.f32x4.sub(f32x4Const(mod, 1), f()), negative)],
    binaryen.v128,
  );
}

// tanh: XNNPACK src/f32-vtanh/rational-9-8.c.in (DIV variant, no native FMA).
const TANH_CLAMP = 7.8522667885;
const TANH_NUMERATOR = [1, 1.3412411511e-1, 3.533052047e-3, 2.1235626264e-5, 1.4248920266e-8];
const TANH_DENOMINATOR = [1, 4.6745735407e-1, 2.6018999517e-2, 3.3472978976e-4, 8.136594829e-7];

/**
 * tanh(x) = x·P(x²)/Q(x²), odd degree 9 over even degree 8, one division. Inputs are clamped to
 * ±7.852, where the rational already rounds to ±1, so ±inf give ±1 without NaN. Max error
 * 4e-7 absolute and 7 ULP on [-10, 10] (XNNPACK quotes 5 ULP with FMA); NaN for NaN.
 */
export function emitTanhF32x4(ctx: SimdMathContext, x: Expr): Expr {
  const { mod } = ctx;
  const [setX, getX] = bind(ctx, clamp(ctx, x, -TANH_CLAMP, TANH_CLAMP));
  const [setX2, x2] = bind(ctx, mod.f32x4.mul(getX(), getX()));
  const numerator = mod.f32x4.mul(getX(), horner(ctx, x2, TANH_NUMERATOR));
  return mod.block(
    null,
    [setX, setX2, mod.f32x4.div(numerator, horner(ctx, x2, TANH_DENOMINATOR))],
    binaryen.v128,
  );
}

// erf: the erf(x/√2) rational of XNNPACK src/f32-vgelu/rational-12-10.c.in, applied to x·√2.
const ERF_CLAMP = 5.1158981323;
const ERF_NUMERATOR = [
  7.9788452387e-1, 6.697217375e-2, 9.3065137044e-3, 3.2973114867e-4, 1.260978388e-5, 4.5835321316e-8,
];
const ERF_DENOMINATOR = [
  1, 2.5060352683e-1, 2.8431978077e-2, 1.8622842617e-3, 7.2267655923e-5, 1.1988805682e-6,
];

/**
 * erf(x): with u = clamp(x·√2, ±5.116), erf(x) = u·P(u²)/Q(u²), odd degree 11 over even degree
 * 10. Max error 4e-7 absolute and 7 ULP on [-5, 5]; ±1 for ±inf and |x| > 3.62; NaN for NaN.
 */
export function emitErfF32x4(ctx: SimdMathContext, x: Expr): Expr {
  const { mod } = ctx;
  const [setU, u] = bind(
    ctx,
    clamp(ctx, mod.f32x4.mul(x, f32x4Const(mod, Math.SQRT2)), -ERF_CLAMP, ERF_CLAMP),
  );
  const [setU2, u2] = bind(ctx, mod.f32x4.mul(u(), u()));
  const numerator = mod.f32x4.mul(u(), horner(ctx, u2, ERF_NUMERATOR));
  return mod.block(
    null,
    [setU, setU2, mod.f32x4.div(numerator, horner(ctx, u2, ERF_DENOMINATOR))],
    binaryen.v128,
  );
}
