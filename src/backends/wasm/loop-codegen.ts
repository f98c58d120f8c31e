// Loop IR → WebAssembly (binaryen). One exported function `(start, end)` per kernel runs the
// iterations [start, end) of its outermost grid loop, so a thread pool can split them. A call first
// claims a free scratch slot (an atomic flag per worker) for the kernel's on-chip slices.
import binaryen from 'binaryen';
import type { IExpr, LoopKernel, Stmt, VExpr } from '../../ir/loops.js';
import { FunctionLocals } from './function-locals.js';
import type { WasmLayout } from './layout.js';
import { ScalarMath } from './scalar-math.js';

type X = binaryen.ExpressionRef;

export interface KernelExport {
  readonly name: string;
  /** Iterations of the outermost grid loop (1 when the kernel has none). */
  readonly count: number;
}

class KernelEmitter {
  private readonly locals = new FunctionLocals(2);
  private readonly ints = new Map<string, number>();
  private readonly regs = new Map<string, number>();
  private readonly scratch: number;
  private readonly slot: number;
  private label = 0;

  constructor(
    private readonly mod: binaryen.Module,
    private readonly math: ScalarMath,
    private readonly kernel: LoopKernel,
    private readonly layout: WasmLayout,
  ) {
    this.scratch = this.locals.add(binaryen.i32);
    this.slot = this.locals.add(binaryen.i32);
  }

  emit(): KernelExport {
    const m = this.mod;
    const [top] = this.kernel.body;
    const split = this.kernel.body.length === 1 && top?.k === 'for' && top.kind === 'grid' ? top : undefined;
    const body = split
      ? this.loop(split.var, m.local.get(0, binaryen.i32), m.local.get(1, binaryen.i32), split.body)
      : m.if(
          m.i32.eqz(m.local.get(0, binaryen.i32)),
          m.block(
            null,
            this.kernel.body.map((s) => this.stmt(s)),
          ),
        );
    const usesScratch = this.kernel.locals.length > 0;
    const statements = usesScratch ? [this.claimSlot(), body, this.releaseSlot()] : [body];
    m.addFunction(
      this.kernel.name,
      binaryen.createType([binaryen.i32, binaryen.i32]),
      binaryen.none,
      this.locals.varTypes,
      m.block(null, statements),
    );
    m.addFunctionExport(this.kernel.name, this.kernel.name);
    return { name: this.kernel.name, count: split ? split.extent : 1 };
  }

  /** Spin over the slot flags until a compare-exchange 0 → 1 succeeds; scratch = base + slot·size. */
  private claimSlot(): X {
    const m = this.mod;
    const L = this.layout;
    const flag = () =>
      m.i32.add(
        m.i32.const(L.slotFlagsOffset),
        m.i32.mul(m.local.get(this.slot, binaryen.i32), m.i32.const(4)),
      );
    const again = `claim${this.label++}`;
    return m.block(null, [
      m.local.set(this.slot, m.i32.const(0)),
      m.loop(
        again,
        m.if(
          m.i32.ne(m.i32.atomic.rmw.cmpxchg(0, flag(), m.i32.const(0), m.i32.const(1)), m.i32.const(0)),
          m.block(null, [
            m.local.set(
              this.slot,
              m.i32.rem_u(
                m.i32.add(m.local.get(this.slot, binaryen.i32), m.i32.const(1)),
                m.i32.const(L.slots),
              ),
            ),
            m.br(again),
          ]),
        ),
      ),
      m.local.set(
        this.scratch,
        m.i32.add(
          m.i32.const(L.scratchOffset),
          m.i32.mul(m.local.get(this.slot, binaryen.i32), m.i32.const(L.scratchBytesPerWorker)),
        ),
      ),
    ]);
  }

  private releaseSlot(): X {
    const m = this.mod;
    return m.i32.atomic.store(
      0,
      m.i32.add(
        m.i32.const(this.layout.slotFlagsOffset),
        m.i32.mul(m.local.get(this.slot, binaryen.i32), m.i32.const(4)),
      ),
      m.i32.const(0),
    );
  }

  private intLocal(name: string): number {
    let i = this.ints.get(name);
    if (i === undefined) this.ints.set(name, (i = this.locals.add(binaryen.i32)));
    return i;
  }

  private regLocal(name: string): number {
    let i = this.regs.get(name);
    if (i === undefined) this.regs.set(name, (i = this.locals.add(binaryen.f32)));
    return i;
  }

  /** for v in [from, to): body — as block { loop { br_if exit (v >= to); body; v++; br loop } }. */
  private loop(v: string, from: X, to: X, body: readonly Stmt[]): X {
    const m = this.mod;
    const i = this.intLocal(v);
    const exit = `exit${this.label}`;
    const next = `next${this.label++}`;
    const get = () => m.local.get(i, binaryen.i32);
    return m.block(exit, [
      m.local.set(i, from),
      m.loop(
        next,
        m.block(null, [
          m.br(exit, m.i32.ge_s(get(), to)),
          ...body.map((s) => this.stmt(s)),
          m.local.set(i, m.i32.add(get(), m.i32.const(1))),
          m.br(next),
        ]),
      ),
    ]);
  }

  private address(buffer: string, index: X): X {
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

  private stmt(s: Stmt): X {
    const m = this.mod;
    switch (s.k) {
      case 'for':
        return this.loop(s.var, m.i32.const(0), m.i32.const(s.extent), s.body);
      case 'if':
        return m.if(
          m.i32.lt_s(this.int(s.cond.a), this.int(s.cond.lt)),
          m.block(
            null,
            s.body.map((b) => this.stmt(b)),
          ),
        );
      case 'let':
      case 'set':
        return m.local.set(this.regLocal(s.name), this.value(s.value));
      case 'reduce': {
        const r = this.regLocal(s.name);
        const acc = m.local.get(r, binaryen.f32);
        const v = this.value(s.value);
        const op = { sum: m.f32.add, prod: m.f32.mul, max: m.f32.max, min: m.f32.min }[s.op];
        return m.local.set(r, op(acc, v));
      }
      case 'store':
        return m.f32.store(0, 4, this.address(s.buffer, this.int(s.index)), this.value(s.value));
      case 'barrier':
        return m.nop();
      case 'contract':
        return this.contract(s);
    }
  }

  /** The contract intrinsic as plain loops (kernels that are a lone contract use the GEMM instead). */
  private contract(s: Extract<Stmt, { k: 'contract' }>): X {
    const v = (n: string) => `${s.out}_${n}_${this.label}`;
    const [mv, nv, kv, acc] = [v('m'), v('n'), v('k'), v('acc')];
    const at = (off: IExpr, a: number, av: string, b: number, bv: string): IExpr => ({
      k: 'add',
      a: off,
      b: {
        k: 'add',
        a: { k: 'mul', a: { k: 'var', name: av }, b: { k: 'const', v: a } },
        b: { k: 'mul', a: { k: 'var', name: bv }, b: { k: 'const', v: b } },
      },
    });
    const load = (buffer: string, index: IExpr): VExpr => ({ k: 'load', buffer, index });
    const out = at(s.outOffset, s.outStride[0], mv, s.outStride[1], nv);
    const product: VExpr = {
      k: 'binary',
      fn: '*',
      a: load(s.a, at(s.aOffset, s.aStride[0], mv, s.aStride[1], kv)),
      b: load(s.b, at(s.bOffset, s.bStride[0], kv, s.bStride[1], nv)),
    };
    const scaled: VExpr = { k: 'binary', fn: '*', a: { k: 'reg', name: acc }, b: { k: 'const', v: s.scale } };
    const result: VExpr = s.accumulate ? { k: 'binary', fn: '+', a: load(s.out, out), b: scaled } : scaled;
    const inner: Stmt[] = [
      { k: 'let', name: acc, value: { k: 'const', v: 0 } },
      {
        k: 'for',
        var: kv,
        extent: s.kDim,
        kind: 'serial',
        body: [{ k: 'reduce', name: acc, op: 'sum', value: product }],
      },
      { k: 'store', buffer: s.out, index: out, value: result },
    ];
    return this.stmt({
      k: 'for',
      var: mv,
      extent: s.m,
      kind: 'serial',
      body: [{ k: 'for', var: nv, extent: s.n, kind: 'serial', body: inner }],
    });
  }

  private int(e: IExpr): X {
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
      case 'iload':
        return m.i32.load(0, 4, this.address(e.buffer, this.int(e.index)));
    }
  }

  private value(e: VExpr): X {
    const m = this.mod;
    switch (e.k) {
      case 'const':
        return m.f32.const(e.v);
      case 'load':
        return m.f32.load(0, 4, this.address(e.buffer, this.int(e.index)));
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
        return m.if(m.f32.ne(this.value(e.cond), m.f32.const(0)), this.value(e.a), this.value(e.b));
    }
  }

  private binary(e: Extract<VExpr, { k: 'binary' }>): X {
    const m = this.mod;
    if (e.fn === 'pow') return this.pow(e.a, e.b);
    const a = this.value(e.a);
    const b = this.value(e.b);
    const flag = (x: X) => m.f32.convert_u.i32(x);
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
      case 'min':
        return m.f32.min(a, b);
      case '<':
        return flag(m.f32.lt(a, b));
      case '<=':
        return flag(m.f32.le(a, b));
      case '>':
        return flag(m.f32.gt(a, b));
      case '>=':
        return flag(m.f32.ge(a, b));
      case '==':
        return flag(m.f32.eq(a, b));
      default:
        return flag(m.f32.ne(a, b));
    }
  }

  /** Small whole exponents multiply (x^2 is common and exact); others go through exp(b·ln a). */
  private pow(base: VExpr, exponent: VExpr): X {
    const m = this.mod;
    if (exponent.k === 'const' && Number.isInteger(exponent.v) && Math.abs(exponent.v) <= 4) {
      const r = this.regLocal(`pow${this.label++}`);
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

export function addLoopKernel(
  mod: binaryen.Module,
  math: ScalarMath,
  kernel: LoopKernel,
  layout: WasmLayout,
): KernelExport {
  return new KernelEmitter(mod, math, kernel, layout).emit();
}
