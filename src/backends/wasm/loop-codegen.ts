// Loop IR → WebAssembly (binaryen). One exported function `(start, end)` per kernel runs the
// iterations [start, end) of its outermost grid loop, so a thread pool can split them. A call first
// claims a free scratch slot (an atomic flag per worker) for the kernel's on-chip slices.
//
// Here: statements, loops and the function itself; locals, addresses and the index and value
// expressions are emitted by the base class (loop-expressions.ts).
import binaryen from 'binaryen';
import type { BufferDecl, IExpr, LoopKernel, Stmt, VExpr } from '../../ir/loops.js';
import { loadsOf } from '../../passes/index-algebra.js';
import type { ForStmt, ScalarHooks } from './emit-hooks.js';
import { foldBoundedMasks } from './bounded-masks.js';
import { collapseLoops } from './loop-collapse.js';
import { LoopExpressionEmitter } from './loop-expressions.js';
import { invariantLoads, UNROLL_TRIPS, unrollReductions } from './loop-invariants.js';
import { rewriteForSimd } from './kernel-rewrite.js';
import type { WasmLayout } from './layout.js';
import type { ScalarMath } from './scalar-math.js';
import { LoopVectorizer } from './vectorize.js';

type X = binaryen.ExpressionRef;

export interface KernelExport {
  readonly name: string;
  /** Iterations of the outermost grid loop (1 when the kernel has none). */
  readonly count: number;
}

export interface LoopKernelOptions {
  /** Emit f32x4 code for the loops that allow it (vectorize.ts); scalar otherwise. Default on. */
  readonly simd?: boolean;
  /** The module has relaxed SIMD: vector sums of products use relaxed_madd. */
  readonly relaxedSimd?: boolean;
  /** The program's global buffers (sizes let vector code prove speculative loads in range). */
  readonly buffers?: readonly BufferDecl[];
}

const isLeaf = (s: Stmt): boolean => s.k !== 'for' && (s.k !== 'if' || s.body.every(isLeaf));

class KernelEmitter extends LoopExpressionEmitter implements ScalarHooks {
  private readonly slot: number;
  private readonly vectorizer?: LoopVectorizer;
  private readonly extents = new Map<string, number>();
  private readonly loads = new Map<string, number>();
  readonly relaxedSimd: boolean;

  constructor(
    mod: binaryen.Module,
    math: ScalarMath,
    kernel: LoopKernel,
    layout: WasmLayout,
    private readonly options: LoopKernelOptions = {},
  ) {
    super(mod, math, kernel, layout);
    this.slot = this.locals.add(binaryen.i32);
    this.relaxedSimd = options.relaxedSimd ?? false;
    this.survey(kernel.body);
    if (options.simd ?? true) this.vectorizer = new LoopVectorizer(this);
  }

  /** Loop extents and per-buffer load counts, for the vectoriser's legality checks. */
  private survey(stmts: readonly Stmt[]): void {
    const count = (buffer: string) => this.loads.set(buffer, (this.loads.get(buffer) ?? 0) + 1);
    for (const s of stmts) {
      if (s.k === 'for') this.extents.set(s.var, s.extent);
      if (s.k === 'let' || s.k === 'set' || s.k === 'reduce' || s.k === 'store') loadsOf(s.value, count);
      if (s.k === 'contract') [s.a, s.b, s.out].forEach(count);
      if (s.k === 'for' || s.k === 'if') this.survey(s.body);
    }
  }

  upperBound(s: ForStmt): binaryen.ExpressionRef {
    const m = this.mod;
    // Bounds from passes/dynamic-bounds.ts and mask-bounds.ts (bounded-masks.ts relies on them).
    const bound = s.bound;
    if (!bound) return m.i32.const(s.extent);
    const b = () => this.int(bound);
    return m.select(m.i32.lt_s(b(), m.i32.const(s.extent)), b(), m.i32.const(s.extent));
  }

  hasDynamicBound(s: ForStmt): boolean {
    return s.bound !== undefined;
  }

  bufferElements(name: string): number | undefined {
    return (
      this.kernel.locals.find((l) => l.name === name)?.size ??
      this.options.buffers?.find((b) => b.name === name)?.size
    );
  }

  isLocalBuffer(name: string): boolean {
    return this.kernel.locals.some((l) => l.name === name);
  }

  loadCount(buffer: string): number {
    return this.loads.get(buffer) ?? 0;
  }

  extentOf(name: string): number | undefined {
    return this.extents.get(name);
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
    const loads = [...this.scalarLoads.values()].map((l) =>
      m.local.set(l.local, m.i32.load(0, 4, this.address(l.buffer, m.i32.const(l.index)))),
    );
    const statements = [...loads, ...(usesScratch ? [this.claimSlot(), body, this.releaseSlot()] : [body])];
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
    const again = this.label('claim');
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

  /**
   * for v in [from, to): body — as block { loop { br_if exit (v >= to); body; v++; br loop } }, with
   * `to` computed once. A short constant trip over a body without loops is unrolled (the four
   * pairs of a rotary head, say): binaryen then folds v into the addresses.
   */
  loop(v: string, from: X, to: X, body: readonly Stmt[]): X {
    const m = this.mod;
    const i = this.intLocal(v);
    const constant = (x: X) =>
      binaryen.getExpressionId(x) === binaryen.ConstId
        ? ((binaryen.getExpressionInfo(x) as binaryen.ConstInfo).value as number)
        : undefined;
    const [first, end] = [constant(from), constant(to)];
    if (first !== undefined && end !== undefined && end - first <= UNROLL_TRIPS && body.every(isLeaf))
      return m.block(
        null,
        Array.from({ length: Math.max(0, end - first) }, (_, k) => [
          m.local.set(i, m.i32.const(first + k)),
          ...body.map((s) => this.stmt(s)),
        ]).flat(),
      );
    const flat = unrollReductions(body);
    // Invariant loads are read once, and only when the loop runs (their index may be out of range
    // when it does not); the locals hold them inside this loop only.
    const invariant = invariantLoads(flat, v);
    const outer = invariant.map((e) => this.hoisted.get(e));
    const hoisted = invariant.map((e) => {
      const r = this.locals.add(binaryen.f32);
      const set = m.local.set(r, this.value(e));
      this.hoisted.set(e, r);
      return set;
    });
    const limit = this.locals.add(binaryen.i32);
    const exit = this.label('exit');
    const next = this.label('next');
    const get = () => m.local.get(i, binaryen.i32);
    const running = () => m.i32.lt_s(get(), m.local.get(limit, binaryen.i32));
    const emitted = flat.map((s) => this.stmt(s));
    invariant.forEach((e, k) =>
      outer[k] === undefined ? this.hoisted.delete(e) : this.hoisted.set(e, outer[k]),
    );
    return m.block(exit, [
      m.local.set(limit, to),
      m.local.set(i, from),
      m.br(exit, m.i32.eqz(running())),
      ...hoisted,
      m.loop(
        next,
        m.block(null, [...emitted, m.local.set(i, m.i32.add(get(), m.i32.const(1))), m.br(next, running())]),
      ),
    ]);
  }

  stmt(s: Stmt): X {
    const m = this.mod;
    switch (s.k) {
      case 'for':
        return this.vectorizer?.loop(s) ?? this.loop(s.var, m.i32.const(0), this.upperBound(s), s.body);
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
    const id = this.label('');
    const v = (n: string) => `${s.out}_${n}_${id}`;
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
}

export function addLoopKernel(
  mod: binaryen.Module,
  math: ScalarMath,
  kernel: LoopKernel,
  layout: WasmLayout,
  options: LoopKernelOptions = {},
): KernelExport {
  const simd = options.simd ?? true;
  const bounded = collapseLoops(foldBoundedMasks(kernel));
  return new KernelEmitter(mod, math, simd ? rewriteForSimd(bounded) : bounded, layout, options).emit();
}
