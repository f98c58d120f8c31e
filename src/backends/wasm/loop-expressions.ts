// The scalar half of Loop IR → WebAssembly (loop-codegen.ts): the function locals of a kernel
// (loop variables, registers, its scratch base), buffer addresses, and the i32 index and f32 value
// expressions. Statements, loops and the exported function are emitted by the subclass in
// loop-codegen.ts; vector code by vectorize.ts.
import binaryen from 'binaryen';
import type { IExpr, LoopKernel, VExpr } from '../../ir/loops.js';
import { asInt } from '../../passes/mask-bounds.js';
import { FunctionLocals } from './function-locals.js';
import type { WasmLayout } from './layout.js';
import type { ScalarMath } from './scalar-math.js';

type X = binaryen.ExpressionRef;

const INT_COMPARE = { '<': 'lt_s', '<=': 'le_s', '>': 'gt_s', '>=': 'ge_s', '==': 'eq', '!=': 'ne' } as const;
const F32_COMPARE = { '<': 'lt', '<=': 'le', '>': 'gt', '>=': 'ge', '==': 'eq', '!=': 'ne' } as const;

/** Locals, addresses and scalar expressions of one kernel function. */
export class LoopExpressionEmitter {
  readonly locals = new FunctionLocals(2);
  private readonly ints = new Map<string, number>();
  private readonly regs = new Map<string, number>();
  /** The i32 local holding the base of the scratch slot this call claimed (loop-codegen.ts). */
  protected readonly scratch: number;
  private labelCount = 0;
  /**
   * Global i32 scalars (`pos[0]`, `layer[0]`) read once at entry: kernels never store i32 buffers,
   * and V8 cannot hoist a memory load out of a loop that also stores.
   */
  protected readonly scalarLoads = new Map<string, { local: number; buffer: string; index: number }>();
  /** Loads read once before their loop (loop-invariants.ts) → the f32 local holding them. */
  protected readonly hoisted = new Map<VExpr, number>();

  constructor(
    readonly mod: binaryen.Module,
    readonly math: ScalarMath,
    protected readonly kernel: LoopKernel,
    protected readonly layout: WasmLayout,
  ) {
    this.scratch = this.locals.add(binaryen.i32);
  }

  label(prefix: string): string {
    return `${prefix}${this.labelCount++}`;
  }

  intLocal(name: string): number {
    let i = this.ints.get(name);
    if (i === undefined) this.ints.set(name, (i = this.locals.add(binaryen.i32)));
    return i;
  }

  regLocal(name: string): number {
    let i = this.regs.get(name);
    if (i === undefined) this.regs.set(name, (i = this.locals.add(binaryen.f32)));
    return i;
  }

  address(buffer: string, index: X): X {
    const m = this.mod;
    const global = this.layout.offsets.get(buffer);
    const base =
      global !== undefined
        ? m.i32.const(global)
        : m.i32.add(
            m.local.get(this.scratch, binaryen.i32),
            m.i32.const(this.layout.localOffsets.get(this.kernel.name)!.get(buffer)!),
          );
    return m.i32.add(base, m.i32.shl(index, m.i32.const(2)));
  }

  int(e: IExpr): X {
    const m = this.mod;
    switch (e.k) {
      case 'const':
        return m.i32.const(e.v);
      case 'var':
        return m.local.get(this.intLocal(e.name), binaryen.i32);
      case 'add':
        return m.i32.add(this.int(e.a), this.int(e.b));
      case 'sub':
        return m.i32.sub(this.int(e.a), this.int(e.b));
      case 'mul':
        return m.i32.mul(this.int(e.a), this.int(e.b));
      case 'div':
        return m.i32.div_s(this.int(e.a), this.int(e.b));
      case 'mod':
        return m.i32.rem_s(this.int(e.a), this.int(e.b));
      case 'min': {
        const [a, b] = [this.int(e.a), this.int(e.b)];
        return m.select(m.i32.lt_s(a, b), this.int(e.a), this.int(e.b));
      }
      case 'iload': {
        if (e.index.k !== 'const' || !this.layout.offsets.has(e.buffer))
          return m.i32.load(0, 4, this.address(e.buffer, this.int(e.index)));
        const key = `${e.buffer}[${e.index.v}]`;
        let cached = this.scalarLoads.get(key);
        if (!cached) {
          cached = { local: this.locals.add(binaryen.i32), buffer: e.buffer, index: e.index.v };
          this.scalarLoads.set(key, cached);
        }
        return m.local.get(cached.local, binaryen.i32);
      }
    }
  }

  value(e: VExpr): X {
    const m = this.mod;
    switch (e.k) {
      case 'const':
        return m.f32.const(e.v);
      case 'load': {
        const hoisted = this.hoisted.get(e);
        if (hoisted !== undefined) return m.local.get(hoisted, binaryen.f32);
        return m.f32.load(0, 4, this.address(e.buffer, this.int(e.index)));
      }
      case 'reg':
        return m.local.get(this.regLocal(e.name), binaryen.f32);
      case 'int':
        return m.f32.convert_s.i32(this.int(e.a));
      case 'unary': {
        const a = this.value(e.a);
        switch (e.fn) {
          case 'neg':
            return m.f32.neg(a);
          case 'abs':
            return m.f32.abs(a);
          case 'sqrt':
            return m.f32.sqrt(a);
          case 'rsqrt':
            return m.f32.div(m.f32.const(1), m.f32.sqrt(a));
          default:
            return this.math.call(e.fn, a);
        }
      }
      case 'binary':
        return this.binary(e);
      case 'select':
        // An `if` rather than `select`: only the chosen side runs, as in the interpreter (a masked
        // branch may hold a gather that is out of range there).
        return m.if(this.condition(e.cond), this.value(e.a), this.value(e.b));
    }
  }

  /** `e != 0` as an i32; a comparison is tested directly, between integers when both sides are. */
  private condition(e: VExpr): X {
    const m = this.mod;
    if (e.k !== 'binary' || !(e.fn in INT_COMPARE)) return m.f32.ne(this.value(e), m.f32.const(0));
    // Integer-valued sides (`f32(s_1) * 64 + f32(s_0) <= f32(pos)`) compare as i32: the same result
    // while they are below 2^24, exact beyond, and no conversions in the loop.
    const a = asInt(e.a);
    const b = asInt(e.b);
    if (a && b) return m.i32[INT_COMPARE[e.fn as keyof typeof INT_COMPARE]](this.int(a), this.int(b));
    const [x, y] = [this.value(e.a), this.value(e.b)];
    return m.f32[F32_COMPARE[e.fn as keyof typeof F32_COMPARE]](x, y);
  }

  private binary(e: Extract<VExpr, { k: 'binary' }>): X {
    const m = this.mod;
    if (e.fn === 'pow') return this.pow(e.a, e.b);
    if (e.fn in INT_COMPARE) return m.f32.convert_u.i32(this.condition(e));
    const a = this.value(e.a);
    const b = this.value(e.b);
    switch (e.fn) {
      case '+':
        return m.f32.add(a, b);
      case '-':
        return m.f32.sub(a, b);
      case '*':
        return m.f32.mul(a, b);
      case '/':
        return m.f32.div(a, b);
      case 'max':
        return m.f32.max(a, b);
      default:
        return m.f32.min(a, b);
    }
  }

  /** Small whole exponents multiply (x^2 is common and exact); others go through exp(b·ln a). */
  private pow(base: VExpr, exponent: VExpr): X {
    const m = this.mod;
    if (exponent.k === 'const' && Number.isInteger(exponent.v) && Math.abs(exponent.v) <= 4) {
      const r = this.regLocal(this.label('pow'));
      const get = () => m.local.get(r, binaryen.f32);
      let product: X = m.f32.const(1);
      for (let i = 0; i < Math.abs(exponent.v); i++) product = i === 0 ? get() : m.f32.mul(product, get());
      const value = exponent.v < 0 ? m.f32.div(m.f32.const(1), product) : product;
      return m.block(null, [m.local.set(r, this.value(base)), value], binaryen.f32);
    }
    if (exponent.k === 'const' && exponent.v === 0.5) return m.f32.sqrt(this.value(base));
    return this.math.call('exp', m.f32.mul(this.value(exponent), this.math.call('log', this.value(base))));
  }
}
