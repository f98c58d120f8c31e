// What COSMA's operator graph (COSMA §III-A) is built from: the global buffers each Loop IR kernel
// reads and writes (cosma-tiling.ts turns kernels into tile operators and buffers into tiles). A
// buffer a kernel both writes and reads back (an accumulating contraction, a running state) is that
// kernel's output only, since the operator runs as a whole and COSMA never sees its inside.
import type { IExpr, LoopKernel, LoopProgram, Stmt, VExpr } from '../ir/loops.js';

export interface KernelAccess {
  readonly reads: ReadonlySet<string>;
  readonly writes: ReadonlySet<string>;
}

/** Which global buffers a kernel loads and which it stores (locals are not global and are skipped). */
export function kernelAccess(kernel: LoopKernel, globals: ReadonlySet<string>): KernelAccess {
  const reads = new Set<string>();
  const writes = new Set<string>();
  const read = (buffer: string) => void (globals.has(buffer) && reads.add(buffer));
  const int = (e: IExpr): void => {
    if (e.k === 'iload') {
      read(e.buffer);
      int(e.index);
    } else if (e.k !== 'const' && e.k !== 'var') {
      int(e.a);
      int(e.b);
    }
  };
  const value = (e: VExpr): void => {
    switch (e.k) {
      case 'load':
        read(e.buffer);
        return int(e.index);
      case 'int':
        return int(e.a);
      case 'unary':
        return value(e.a);
      case 'binary':
        value(e.a);
        return value(e.b);
      case 'select':
        value(e.cond);
        value(e.a);
        return value(e.b);
      default:
        return;
    }
  };
  const stmt = (s: Stmt): void => {
    switch (s.k) {
      case 'for':
        return s.body.forEach(stmt);
      case 'if':
        int(s.cond.a);
        int(s.cond.lt);
        return s.body.forEach(stmt);
      case 'let':
      case 'set':
      case 'reduce':
        return value(s.value);
      case 'store':
        if (globals.has(s.buffer)) writes.add(s.buffer);
        int(s.index);
        return value(s.value);
      case 'contract':
        read(s.a);
        read(s.b);
        if (globals.has(s.out)) writes.add(s.out);
        [s.outOffset, s.aOffset, s.bOffset].forEach(int);
        return;
      case 'barrier':
        return;
    }
  };
  kernel.body.forEach(stmt);
  for (const w of writes) reads.delete(w);
  return { reads, writes };
}

/**
 * Every kernel with the global buffers it reads and writes, in program order. Throws when a buffer
 * has two writers: COSMA's tensors are immutable (Eq. 8), so a buffer rewritten by a later kernel
 * cannot be modelled as one tensor.
 */
export function kernelOperands(
  loops: LoopProgram,
): { readonly name: string; readonly reads: string[]; readonly writes: string[] }[] {
  const globals = new Set(loops.buffers.map((b) => b.name));
  const writer = new Map<string, string>();
  return loops.kernels.map((k) => {
    const { reads, writes } = kernelAccess(k, globals);
    for (const w of writes) {
      const other = writer.get(w);
      if (other) throw new Error(`internal error: buffer ${w} is written by both ${other} and ${k.name}`);
      writer.set(w, k.name);
    }
    return { name: k.name, reads: [...reads], writes: [...writes] };
  });
}
