// The traffic and work model of one Loop IR kernel, read off the loops themselves: flops and
// on-chip accesses by counting, global bytes by footprint (a tensor that fits the cache tier is read
// once; otherwise once per grid iteration that does not index it), and the lower bound: compulsory
// traffic, or for a contraction the red-blue pebble bound 2·m·n·k/√S (Hong & Kung 1981; the constant
// from Kwasniewski et al., "Red-blue pebbling revisited", 2019).
import type { TargetDescription } from '../backends/targets.js';
import type { BufferDecl, IExpr, LoopKernel, Stmt, VExpr } from '../ir/loops.js';

export interface KernelCost {
  readonly flops: number;
  readonly bytesMoved: { readonly global: number; readonly scratchpad: number };
  readonly lowerBoundBytes: number;
  readonly lowerBoundFormula: string;
  readonly scratchpadBytes: number;
}

function varsOf(e: IExpr, out: Set<string>): void {
  if (e.k === 'var') out.add(e.name);
  else if (e.k === 'iload') varsOf(e.index, out);
  else if (e.k !== 'const') {
    varsOf(e.a, out);
    varsOf(e.b, out);
  }
}

function opsOf(e: VExpr): number {
  switch (e.k) {
    case 'unary':
      return 1 + opsOf(e.a);
    case 'binary':
      return 1 + opsOf(e.a) + opsOf(e.b);
    case 'select':
      return 1 + opsOf(e.cond) + opsOf(e.a) + opsOf(e.b);
    default:
      return 0;
  }
}

interface Access {
  readonly buffer: string;
  readonly vars: Set<string>;
  readonly count: number;
  readonly write: boolean;
}

function collect(e: VExpr | IExpr, count: number, out: Access[]): void {
  switch (e.k) {
    case 'load':
    case 'iload': {
      const vars = new Set<string>();
      varsOf(e.index, vars);
      out.push({ buffer: e.buffer, vars, count, write: false });
      collect(e.index, count, out);
      return;
    }
    case 'unary':
      collect(e.a, count, out);
      return;
    case 'binary':
      collect(e.a, count, out);
      collect(e.b, count, out);
      return;
    case 'select':
      collect(e.cond, count, out);
      collect(e.a, count, out);
      collect(e.b, count, out);
      return;
    case 'int':
      collect(e.a, count, out);
      return;
    case 'add':
    case 'sub':
    case 'mul':
    case 'div':
    case 'mod':
    case 'min':
      collect(e.a, count, out);
      collect(e.b, count, out);
      return;
    default:
      return;
  }
}

export function kernelCost(
  kernel: LoopKernel,
  buffers: readonly BufferDecl[],
  target: TargetDescription,
  scratchpadBytes: number,
): KernelCost {
  let flops = 0;
  const accesses: Access[] = [];
  const grids: { var: string; extent: number }[] = [];
  const contracts: { m: number; n: number; k: number; count: number }[] = [];
  const walk = (stmts: readonly Stmt[], count: number): void => {
    for (const s of stmts) {
      switch (s.k) {
        case 'for':
          if (s.kind === 'grid') grids.push({ var: s.var, extent: s.extent });
          walk(s.body, count * s.extent);
          break;
        case 'if':
          walk(s.body, count);
          break;
        case 'let':
        case 'set':
          flops += count * opsOf(s.value);
          collect(s.value, count, accesses);
          break;
        case 'reduce':
          flops += count * (1 + opsOf(s.value));
          collect(s.value, count, accesses);
          break;
        case 'store': {
          flops += count * opsOf(s.value);
          collect(s.value, count, accesses);
          const vars = new Set<string>();
          varsOf(s.index, vars);
          accesses.push({ buffer: s.buffer, vars, count, write: true });
          break;
        }
        case 'contract':
          flops += count * 2 * s.m * s.n * s.kDim;
          contracts.push({ m: s.m, n: s.n, k: s.kDim, count });
          accesses.push(
            { buffer: s.a, vars: new Set(), count: 0, write: false },
            { buffer: s.b, vars: new Set(), count: 0, write: false },
            { buffer: s.out, vars: new Set(), count: 0, write: true },
          );
          break;
        default:
          break;
      }
    }
  };
  walk(kernel.body, 1);
  const local = new Set(kernel.locals.map((l) => l.name));
  const cache = target.cacheTiers[target.cacheTiers.length - 1]?.bytes ?? scratchpadBytes;
  let global = 0;
  let compulsory = 0;
  let scratchpad = 0;
  const byBuffer = new Map<string, Access[]>();
  for (const a of accesses) {
    if (local.has(a.buffer)) scratchpad += 4 * a.count;
    else byBuffer.set(a.buffer, [...(byBuffer.get(a.buffer) ?? []), a]);
  }
  for (const [name, list] of byBuffer) {
    const bytes = 4 * (buffers.find((b) => b.name === name)?.size ?? 0);
    const reads = list.filter((a) => !a.write);
    const writes = list.some((a) => a.write);
    if (writes) {
      global += bytes;
      compulsory += bytes;
    }
    // Reads of what this kernel itself wrote come back from the cache: no extra global traffic.
    if (reads.length === 0 || writes) continue;
    compulsory += bytes;
    const indexed = new Set<string>();
    for (const r of reads) for (const v of r.vars) indexed.add(v);
    // Walk the grid loops outside in: a loop that indexes the tensor narrows the slice each
    // iteration touches; a loop that does not re-reads that slice, unless it stays in cache.
    let footprint = bytes;
    let rereads = 1;
    for (const g of grids) {
      if (indexed.has(g.var)) footprint /= g.extent;
      else if (footprint > cache) rereads *= g.extent;
    }
    global += bytes * rereads;
  }
  let lowerBoundBytes = compulsory;
  let lowerBoundFormula = 'compulsory: every input read once, every output written once';
  // A blocked GEMM reuses operands from the fastest memory large enough to block for: the last
  // cache tier on WASM, the scratchpad on GPUs.
  const words = Math.max(scratchpadBytes, target.cacheTiers[target.cacheTiers.length - 1]?.bytes ?? 0) / 4;
  const pebble =
    contracts.reduce((s, c) => s + c.count * ((2 * c.m * c.n * c.k) / Math.sqrt(words) + c.m * c.n), 0) * 4;
  if (pebble > lowerBoundBytes) {
    lowerBoundBytes = pebble;
    lowerBoundFormula =
      'red-blue pebbling for matrix products: 2·m·n·k/√S + m·n words, S the on-chip memory in words (Hong & Kung 1981; Kwasniewski et al. 2019)';
  }
  global = Math.max(global, lowerBoundBytes);
  const scratchpadBytesUsed = kernel.locals.reduce((s, l) => s + l.size * 4, 0);
  return {
    flops,
    bytesMoved: { global: Math.max(global, compulsory), scratchpad },
    lowerBoundBytes,
    lowerBoundFormula,
    scratchpadBytes: scratchpadBytesUsed,
  };
}
