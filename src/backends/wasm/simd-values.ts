// Loop IR values as f32x4 expressions: four consecutive iterations of the vectorised loop variable
// (the "lane" variable) at once, for lane group g (iterations lane + 4g .. lane + 4g + 3), and
// optionally for a shifted row of a jammed outer loop (var := var + r). Loads that are unit-stride
// in the lane variable become one v128.load, lane-invariant ones a load32_splat (one vbroadcastss,
// notes §3); the shifts become constant memarg offsets, which fold into the x86 displacement
// (notes §2). Transcendentals inline simdmath's XNNPACK algorithms, bit-identical to the scalar path.
import binaryen from 'binaryen';
import { printIndex } from '../../ir/loop-print.js';
import type { IExpr, VExpr } from '../../ir/loops.js';
import { affineForm } from '../../passes/index-algebra.js';
import type { ScalarHooks, X } from './emit-hooks.js';
import { emitErfF32x4, emitExpF32x4, emitSigmoidF32x4, emitTanhF32x4 } from './simdmath.js';
import { f32x4Const } from './simd-constants.js';

export interface LanePosition {
  /** The vectorised loop variable; its local holds the first iteration of lane group 0. */
  readonly lane: string;
  readonly group: number;
  /** Evaluate with `var := var + by` (row `by` of a jammed loop). */
  readonly shift?: { readonly var: string; readonly by: number };
}

const VECTOR_MATH = { exp: emitExpF32x4, tanh: emitTanhF32x4, erf: emitErfF32x4, sigmoid: emitSigmoidF32x4 };
const COMPARISONS = new Set(['<', '<=', '>', '>=', '==', '!=']);

export class VectorValues {
  /** Registers defined per lane (a `let` inside the vectorised loop): one v128 local per position. */
  private readonly laneRegs = new Set<string>();
  private readonly vlocals = new Map<string, number>();
  /** Per-iteration scratch cells kept in registers instead (see vectorize.ts). */
  private readonly privateCells = new Map<string, string>();
  private readonly scopes: { cache: Map<string, number>; sets: X[] }[] = [];

  constructor(private readonly h: ScalarHooks) {}

  declareLaneReg(name: string): void {
    this.laneRegs.add(name);
  }

  /** Forget the lane registers and private cells of the loop just emitted. */
  reset(): void {
    this.laneRegs.clear();
    this.privateCells.clear();
  }

  isLaneReg(name: string): boolean {
    return this.laneRegs.has(name);
  }

  /** A store/load of `buffer[index]` that lives in the lane register `reg` instead of memory. */
  privatize(buffer: string, index: IExpr, reg: string): void {
    this.privateCells.set(`${buffer}[${printIndex(index)}]`, reg);
    this.laneRegs.add(reg);
  }

  privateReg(buffer: string, index: IExpr): string | undefined {
    return this.privateCells.get(`${buffer}[${printIndex(index)}]`);
  }

  /** The v128 local of a lane register at a position. */
  vreg(name: string, pos: LanePosition): number {
    const key = `${name}#${pos.group}#${pos.shift?.by ?? 0}`;
    let i = this.vlocals.get(key);
    if (i === undefined) this.vlocals.set(key, (i = this.h.locals.add(binaryen.v128)));
    return i;
  }

  /** Loads emitted inside a scope are shared by equal addresses; `end` returns their local.sets. */
  beginScope(): void {
    this.scopes.push({ cache: new Map(), sets: [] });
  }

  endScope(): X[] {
    return this.scopes.pop()!.sets;
  }

  /** Element offset of an index at a position, and its lane coefficient. */
  private placement(index: IExpr, pos: LanePosition): { laneCoef: number; offset: number } {
    const f = affineForm(index);
    const laneCoef = f.terms.get(pos.lane) ?? 0;
    const shiftCoef = pos.shift ? (f.terms.get(pos.shift.var) ?? 0) : 0;
    return { laneCoef, offset: laneCoef * 4 * pos.group + shiftCoef * (pos.shift?.by ?? 0) };
  }

  private load(buffer: string, index: IExpr, pos: LanePosition): X {
    const m = this.h.mod;
    const { laneCoef, offset } = this.placement(index, pos);
    const make = (): X => {
      let address = this.h.address(buffer, this.h.int(index));
      let bytes = 4 * offset;
      if (bytes < 0) {
        address = m.i32.add(address, m.i32.const(bytes));
        bytes = 0;
      }
      return laneCoef === 0 ? m.v128.load32_splat(bytes, 4, address) : m.v128.load(bytes, 4, address);
    };
    const scope = this.scopes[this.scopes.length - 1];
    if (!scope) return make();
    const key = `${buffer}[${printIndex(index)}]@${offset}${laneCoef === 0 ? 's' : 'v'}`;
    let local = scope.cache.get(key);
    if (local === undefined) {
      local = this.h.locals.add(binaryen.v128);
      scope.cache.set(key, local);
      scope.sets.push(m.local.set(local, make()));
    }
    return m.local.get(local, binaryen.v128);
  }

  /** An integer expression as four f32 lanes. */
  private intLanes(a: IExpr, pos: LanePosition): X {
    const m = this.h.mod;
    const { laneCoef, offset } = this.placement(a, pos);
    if (laneCoef === 0)
      return m.f32x4.splat(m.f32.convert_s.i32(m.i32.add(this.h.int(a), m.i32.const(offset))));
    const lanes = new Int32Array([0, 1, 2, 3].map((i) => offset + laneCoef * i));
    const step = m.v128.const(Array.from(new Uint8Array(lanes.buffer)));
    return m.f32x4.convert_i32x4_s(m.i32x4.add(m.i32x4.splat(this.h.int(a)), step));
  }

  value(e: VExpr, pos: LanePosition): X {
    const m = this.h.mod;
    switch (e.k) {
      case 'const':
        return f32x4Const(m, e.v);
      case 'load': {
        const reg = this.privateReg(e.buffer, e.index);
        if (reg) return m.local.get(this.vreg(reg, pos), binaryen.v128);
        return this.load(e.buffer, e.index, pos);
      }
      case 'reg':
        return this.laneRegs.has(e.name)
          ? m.local.get(this.vreg(e.name, pos), binaryen.v128)
          : m.f32x4.splat(m.local.get(this.h.regLocal(e.name), binaryen.f32));
      case 'int':
        return this.intLanes(e.a, pos);
      case 'unary':
        return this.unary(e.fn, this.value(e.a, pos));
      case 'binary':
        if (e.fn === 'pow') return this.pow(e.a, e.b, pos);
        if (COMPARISONS.has(e.fn)) return m.v128.and(this.mask(e, pos), f32x4Const(m, 1));
        return this.arithmetic(e.fn, this.value(e.a, pos), this.value(e.b, pos));
      case 'select':
        // Both sides run (vectorize.ts only allows loads proven in range there); bitselect keeps
        // the lanes of `a` where the condition holds, like the scalar `if`.
        return m.v128.bitselect(this.value(e.a, pos), this.value(e.b, pos), this.mask(e.cond, pos));
    }
  }

  /** All-ones lanes where `cond != 0` (a comparison gives its mask directly). */
  mask(cond: VExpr, pos: LanePosition): X {
    const m = this.h.mod;
    if (cond.k === 'binary' && COMPARISONS.has(cond.fn)) {
      const a = this.value(cond.a, pos);
      const b = this.value(cond.b, pos);
      const f = m.f32x4;
      const ops = { '<': f.lt, '<=': f.le, '>': f.gt, '>=': f.ge, '==': f.eq, '!=': f.ne } as const;
      return ops[cond.fn as keyof typeof ops](a, b);
    }
    return m.f32x4.ne(this.value(cond, pos), f32x4Const(m, 0));
  }

  arithmetic(fn: string, a: X, b: X): X {
    const f = this.h.mod.f32x4;
    switch (fn) {
      case '+':
        return f.add(a, b);
      case '-':
        return f.sub(a, b);
      case '*':
        return f.mul(a, b);
      case '/':
        return f.div(a, b);
      case 'max':
        // f32x4.max is IEEE max with NaN propagation and -0 < +0, exactly f32.max per lane.
        return f.max(a, b);
      case 'min':
        return f.min(a, b);
      default:
        throw new Error(`internal: no vector form of ${fn}`);
    }
  }

  private unary(fn: string, a: X): X {
    const m = this.h.mod;
    const ctx = { mod: m, locals: this.h.locals };
    switch (fn) {
      case 'neg':
        return m.f32x4.neg(a);
      case 'abs':
        return m.f32x4.abs(a);
      case 'sqrt':
        return m.f32x4.sqrt(a);
      case 'rsqrt':
        return m.f32x4.div(f32x4Const(m, 1), m.f32x4.sqrt(a));
      case 'log':
        return this.perLane('log', a);
      default:
        return VECTOR_MATH[fn as keyof typeof VECTOR_MATH](ctx, a);
    }
  }

  /** A function with no vector form (log), lane by lane through the scalar helper. */
  private perLane(fn: 'log', a: X): X {
    const m = this.h.mod;
    const t = this.h.locals.add(binaryen.v128);
    const get = () => m.local.get(t, binaryen.v128);
    let out: X = get();
    for (let lane = 0; lane < 4; lane++)
      out = m.f32x4.replace_lane(out, lane, this.h.math.call(fn, m.f32x4.extract_lane(get(), lane)));
    return m.block(null, [m.local.set(t, a), out], binaryen.v128);
  }

  /** As the scalar emitter: small whole exponents multiply, 0.5 is sqrt, others exp(b·ln a). */
  private pow(base: VExpr, exponent: VExpr, pos: LanePosition): X {
    const m = this.h.mod;
    if (exponent.k === 'const' && Number.isInteger(exponent.v) && Math.abs(exponent.v) <= 4) {
      const t = this.h.locals.add(binaryen.v128);
      const get = () => m.local.get(t, binaryen.v128);
      let product: X = f32x4Const(m, 1);
      for (let i = 0; i < Math.abs(exponent.v); i++) product = i === 0 ? get() : m.f32x4.mul(product, get());
      const value = exponent.v < 0 ? m.f32x4.div(f32x4Const(m, 1), product) : product;
      return m.block(null, [m.local.set(t, this.value(base, pos)), value], binaryen.v128);
    }
    if (exponent.k === 'const' && exponent.v === 0.5) return m.f32x4.sqrt(this.value(base, pos));
    const logBase = this.perLane('log', this.value(base, pos));
    return emitExpF32x4({ mod: m, locals: this.h.locals }, m.f32x4.mul(this.value(exponent, pos), logBase));
  }
}
