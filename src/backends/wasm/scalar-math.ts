// Scalar f32 math for kernels: helper functions added once per module. exp, tanh, erf and sigmoid
// reuse the vector emitters (simdmath.ts) on a splat and take lane 0, so scalar and vector code
// agree bit for bit; log is its own (range reduction to [√½, √2) and the atanh series).
import binaryen from 'binaryen';
import { FunctionLocals } from './function-locals.js';
import { emitErfF32x4, emitExpF32x4, emitSigmoidF32x4, emitTanhF32x4 } from './simdmath.js';

export type ScalarFn = 'exp' | 'tanh' | 'erf' | 'sigmoid' | 'log';

const VECTOR = { exp: emitExpF32x4, tanh: emitTanhF32x4, erf: emitErfF32x4, sigmoid: emitSigmoidF32x4 };

export class ScalarMath {
  private readonly added = new Set<ScalarFn>();
  constructor(private readonly mod: binaryen.Module) {}

  call(fn: ScalarFn, x: binaryen.ExpressionRef): binaryen.ExpressionRef {
    const name = `ein_${fn}`;
    if (!this.added.has(fn)) {
      this.added.add(fn);
      const locals = new FunctionLocals(1);
      const arg = () => this.mod.local.get(0, binaryen.f32);
      const body =
        fn === 'log'
          ? this.log(locals, arg)
          : this.mod.f32x4.extract_lane(
              VECTOR[fn]({ mod: this.mod, locals }, this.mod.f32x4.splat(arg())),
              0,
            );
      this.mod.addFunction(name, binaryen.createType([binaryen.f32]), binaryen.f32, locals.varTypes, body);
    }
    return this.mod.call(name, [x], binaryen.f32);
  }

  /**
   * ln x: x = m·2^e with m in [√½, √2); ln m = 2·atanh(s), s = (m−1)/(m+1), |s| ≤ 0.1716, by its
   * series to s⁹ (truncation < 3e-9, below f32 rounding). Subnormals are scaled by 2^23 first;
   * x < 0 and NaN give NaN, 0 gives −inf, +inf gives +inf.
   */
  private log(locals: FunctionLocals, x: () => binaryen.ExpressionRef): binaryen.ExpressionRef {
    const m = this.mod;
    const f32 = binaryen.f32;
    const i32 = binaryen.i32;
    const [xs, e, mant, s, s2] = [
      locals.add(f32),
      locals.add(i32),
      locals.add(f32),
      locals.add(f32),
      locals.add(f32),
    ];
    const get = (i: number, t: binaryen.Type) => m.local.get(i, t);
    const c = (v: number) => m.f32.const(v);
    const tiny = () => m.f32.lt(x(), c(1.1754943508222875e-38));
    const series = [1, 1 / 3, 1 / 5, 1 / 7, 1 / 9].reduceRight<binaryen.ExpressionRef>(
      (acc, coef) => m.f32.add(m.f32.mul(acc, get(s2, f32)), c(coef)),
      c(0),
    );
    return m.block(
      null,
      [
        m.if(m.f32.ne(x(), x()), m.return(x())),
        m.if(m.f32.lt(x(), c(0)), m.return(c(NaN))),
        m.if(m.f32.eq(x(), c(0)), m.return(c(-Infinity))),
        m.if(m.f32.eq(x(), c(Infinity)), m.return(x())),
        m.local.set(xs, m.select(tiny(), m.f32.mul(x(), c(8388608)), x())),
        m.local.set(
          e,
          m.i32.sub(
            m.i32.shr_u(m.i32.reinterpret(get(xs, f32)), m.i32.const(23)),
            m.select(tiny(), m.i32.const(127 + 23), m.i32.const(127)),
          ),
        ),
        m.local.set(
          mant,
          m.f32.reinterpret(
            m.i32.or(
              m.i32.and(m.i32.reinterpret(get(xs, f32)), m.i32.const(0x7fffff)),
              m.i32.const(0x3f800000),
            ),
          ),
        ),
        m.if(
          m.f32.gt(get(mant, f32), c(Math.SQRT2)),
          m.block(null, [
            m.local.set(mant, m.f32.mul(get(mant, f32), c(0.5))),
            m.local.set(e, m.i32.add(get(e, i32), m.i32.const(1))),
          ]),
        ),
        m.local.set(s, m.f32.div(m.f32.sub(get(mant, f32), c(1)), m.f32.add(get(mant, f32), c(1)))),
        m.local.set(s2, m.f32.mul(get(s, f32), get(s, f32))),
        m.f32.add(
          m.f32.mul(m.f32.convert_s.i32(get(e, i32)), c(Math.LN2)),
          m.f32.mul(c(2), m.f32.mul(get(s, f32), series)),
        ),
      ],
      f32,
    );
  }
}
