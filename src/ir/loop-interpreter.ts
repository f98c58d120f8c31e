// An interpreter for the Loop IR: every loop runs in order (grid, thread and vector loops too), so
// it checks that lowering preserved meaning, independently of any backend. Loads and stores outside
// a buffer throw: a kernel must never touch memory outside its buffers.
import { UNARY_MATH } from './mathfns.js';
import type { IExpr, LoopProgram, Stmt, VExpr } from './loops.js';
import type { Tensor } from './tensor.js';

export type Buffers = Map<string, Float32Array | Int32Array>;

const UNARY: Record<string, (x: number) => number> = { ...UNARY_MATH, neg: (x) => -x };

const BINARY: Record<string, (a: number, b: number) => number> = {
  '+': (a, b) => a + b,
  '-': (a, b) => a - b,
  '*': (a, b) => a * b,
  '/': (a, b) => a / b,
  pow: Math.pow,
  max: Math.max,
  min: Math.min,
  '<': (a, b) => +(a < b),
  '<=': (a, b) => +(a <= b),
  '>': (a, b) => +(a > b),
  '>=': (a, b) => +(a >= b),
  '==': (a, b) => +(a === b),
  '!=': (a, b) => +(a !== b),
};

const REDUCE: Record<string, (a: number, b: number) => number> = {
  sum: (a, b) => a + b,
  prod: (a, b) => a * b,
  max: Math.max,
  min: Math.min,
};

class Machine {
  readonly ints = new Map<string, number>();
  readonly regs = new Map<string, number>();
  constructor(readonly buffers: Buffers) {}

  buffer(name: string): Float32Array | Int32Array {
    const b = this.buffers.get(name);
    if (!b) throw new Error(`loop IR: no buffer ${name}`);
    return b;
  }

  at(name: string, index: number): number {
    const b = this.buffer(name);
    if (!(index >= 0 && index < b.length))
      throw new Error(`loop IR: ${name}[${index}] is outside its ${b.length} elements`);
    return index;
  }

  int(e: IExpr): number {
    switch (e.k) {
      case 'const':
        return e.v;
      case 'var':
        return this.ints.get(e.name)!;
      case 'add':
        return this.int(e.a) + this.int(e.b);
      case 'sub':
        return this.int(e.a) - this.int(e.b);
      case 'mul':
        return this.int(e.a) * this.int(e.b);
      case 'div':
        return Math.floor(this.int(e.a) / this.int(e.b));
      case 'mod': {
        const b = this.int(e.b);
        return ((this.int(e.a) % b) + b) % b;
      }
      case 'min':
        return Math.min(this.int(e.a), this.int(e.b));
      case 'iload': {
        const i = this.int(e.index);
        return this.buffer(e.buffer)[this.at(e.buffer, i)]!;
      }
    }
  }

  value(e: VExpr): number {
    switch (e.k) {
      case 'const':
        return e.v;
      case 'load': {
        const i = this.int(e.index);
        return this.buffer(e.buffer)[this.at(e.buffer, i)]!;
      }
      case 'reg':
        return this.regs.get(e.name)!;
      case 'int':
        return this.int(e.a);
      case 'unary':
        return UNARY[e.fn]!(this.value(e.a));
      case 'binary':
        return BINARY[e.fn]!(this.value(e.a), this.value(e.b));
      case 'select':
        return this.value(e.cond) !== 0 ? this.value(e.a) : this.value(e.b);
    }
  }

  run(stmts: readonly Stmt[]): void {
    for (const s of stmts) this.step(s);
  }

  step(s: Stmt): void {
    switch (s.k) {
      case 'for':
        for (let i = 0, n = s.bound ? Math.min(s.extent, this.int(s.bound)) : s.extent; i < n; i++) {
          this.ints.set(s.var, i);
          this.run(s.body);
        }
        return;
      case 'if':
        if (this.int(s.cond.a) < this.int(s.cond.lt)) this.run(s.body);
        return;
      case 'let':
      case 'set':
        this.regs.set(s.name, this.value(s.value));
        return;
      case 'reduce':
        this.regs.set(s.name, REDUCE[s.op]!(this.regs.get(s.name)!, this.value(s.value)));
        return;
      case 'store': {
        const i = this.int(s.index);
        this.buffer(s.buffer)[this.at(s.buffer, i)] = this.value(s.value);
        return;
      }
      case 'barrier':
        return;
      case 'contract': {
        const [out, a, b] = [this.buffer(s.out), this.buffer(s.a), this.buffer(s.b)];
        const [oo, ao, bo] = [this.int(s.outOffset), this.int(s.aOffset), this.int(s.bOffset)];
        for (let m = 0; m < s.m; m++)
          for (let n = 0; n < s.n; n++) {
            let acc = 0;
            for (let k = 0; k < s.kDim; k++)
              acc +=
                a[this.at(s.a, ao + m * s.aStride[0] + k * s.aStride[1])]! *
                b[this.at(s.b, bo + k * s.bStride[0] + n * s.bStride[1])]!;
            const o = this.at(s.out, oo + m * s.outStride[0] + n * s.outStride[1]);
            out[o] = (s.accumulate ? out[o]! : 0) + s.scale * acc;
          }
        return;
      }
    }
  }
}

/** Run every kernel of `program` in order over `buffers` (globals); locals are allocated per kernel. */
export function runLoopProgram(program: LoopProgram, buffers: Buffers): void {
  for (const k of program.kernels) {
    const scoped: Buffers = new Map(buffers);
    for (const l of k.locals) scoped.set(l.name, new Float32Array(l.size));
    new Machine(scoped).run(k.body);
  }
}

/** Allocate the program's global buffers, copy the inputs in, run, and return the outputs. */
export function executeLoops(
  program: LoopProgram,
  inputs: Readonly<Record<string, Tensor>>,
): Record<string, Tensor> {
  const buffers: Buffers = new Map();
  for (const b of program.buffers) {
    const given = inputs[b.name];
    buffers.set(
      b.name,
      given ? given.data.slice() : b.dtype === 'i32' ? new Int32Array(b.size) : new Float32Array(b.size),
    );
  }
  runLoopProgram(program, buffers);
  return Object.fromEntries(
    program.outputs.map((o) => {
      const b = program.buffers.find((x) => x.name === o)!;
      return [o, { dtype: b.dtype, shape: b.shape, data: buffers.get(o)! }];
    }),
  );
}
