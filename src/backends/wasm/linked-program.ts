// Linking several compiled kernels into ONE Loop program over ONE arena, so a whole model becomes one
// WebAssembly module with one shared memory and one thread pool (buildWasmProgram then treats it as
// any other program). Each part's global buffers are renamed: a buffer the caller names as shared
// (weights, the KV cache, activations handed from one kernel to the next) gets its shared name and
// one place in the arena; every other buffer becomes `part__name`.
//
// The arena: first the resident region (every shared buffer, and every part's own inputs and outputs,
// which the host reads or writes around a call and must not be overwritten by another part), then a
// working region for intermediates that all parts overlap, since parts run one at a time and an
// intermediate dies with its call. Each part keeps its own memory plan's placement inside the working
// region, so its liveness-based reuse carries over unchanged.
import type { BufferDecl, IExpr, LoopKernel, LoopProgram, Stmt, VExpr } from '../../ir/loops.js';
import type { ArenaEntry, MemoryPlan } from '../../passes/memplan.js';

const ALIGN = 16;
const align = (n: number) => Math.ceil(n / ALIGN) * ALIGN;

export interface LinkPart {
  /** Unique among the parts; prefixes the part's kernels and private buffers. */
  readonly name: string;
  readonly loops: LoopProgram;
  readonly memory: MemoryPlan;
  /** Part buffer → shared buffer name (the same shared name in two parts is the same bytes). */
  readonly shared: ReadonlyMap<string, string>;
}

export interface LinkedProgram {
  readonly loops: LoopProgram;
  readonly memory: MemoryPlan;
  /** Part name → its buffers' names in the linked program (part buffer → linked buffer). */
  readonly names: ReadonlyMap<string, ReadonlyMap<string, string>>;
  /** Part name → its kernels' names in the linked program, in order. */
  readonly kernels: ReadonlyMap<string, readonly string[]>;
  /** Bytes of the resident region (shared buffers and every part's inputs and outputs). */
  readonly residentBytes: number;
  /** Bytes of the working region: the largest part's intermediates. */
  readonly workingBytes: number;
}

export const linkedName = (part: string, name: string) => `${part}__${name}`;

export function linkPrograms(parts: readonly LinkPart[], workers: number): LinkedProgram {
  const names = new Map<string, Map<string, string>>();
  const buffers = new Map<string, BufferDecl>();
  const entries: ArenaEntry[] = [];
  let offset = 0;
  const place = (b: BufferDecl) => {
    entries.push({ buffer: b.name, offset, bytes: b.size * 4, live: [0, 0], role: b.role });
    offset = align(offset + b.size * 4);
  };
  // Resident region.
  for (const part of parts) {
    const rename = new Map<string, string>();
    names.set(part.name, rename);
    for (const b of part.loops.buffers) {
      const name = part.shared.get(b.name) ?? linkedName(part.name, b.name);
      rename.set(b.name, name);
      const known = buffers.get(name);
      if (known) {
        if (known.size !== b.size || known.dtype !== b.dtype)
          throw new Error(`shared buffer ${name}: ${part.name}.${b.name} has another size or dtype`);
        continue;
      }
      // A shared buffer is an input of the linked program whatever its role in the part: the host
      // owns it between calls.
      const decl = { ...b, name, role: part.shared.has(b.name) ? ('input' as const) : b.role };
      buffers.set(name, decl);
      if (decl.role !== 'intermediate') place(decl);
    }
  }
  const residentBytes = offset;
  // Working region: every part's intermediates at their planned offsets, relative to its own base.
  let workingBytes = 0;
  for (const part of parts) {
    const rename = names.get(part.name)!;
    const own = part.memory.entries.filter((e) => e.role === 'intermediate' && !part.shared.has(e.buffer));
    const base = Math.min(...own.map((e) => e.offset));
    for (const e of own) {
      entries.push({
        ...e,
        buffer: rename.get(e.buffer)!,
        offset: residentBytes + e.offset - base,
        live: [0, 0],
      });
      workingBytes = Math.max(workingBytes, align(e.offset - base + e.bytes));
    }
  }
  const scratchOffset = residentBytes + workingBytes;
  const scratchBytesPerWorker = Math.max(0, ...parts.map((p) => p.memory.scratchBytesPerWorker));
  const kernels = new Map<string, string[]>();
  const linkedKernels: LoopKernel[] = [];
  for (const part of parts) {
    const rename = names.get(part.name)!;
    const own = part.loops.kernels.map((k) => renameKernel(k, linkedName(part.name, k.name), rename));
    for (const k of own)
      for (const l of k.locals)
        if (buffers.has(l.name)) throw new Error(`local ${l.name} of ${k.name} has a global buffer's name`);
    kernels.set(
      part.name,
      own.map((k) => k.name),
    );
    linkedKernels.push(...own);
  }
  const all = [...buffers.values()];
  const loops: LoopProgram = {
    name: parts.map((p) => p.name).join('+'),
    buffers: all,
    inputs: all.filter((b) => b.role === 'input').map((b) => b.name),
    outputs: all.filter((b) => b.role === 'output').map((b) => b.name),
    kernels: linkedKernels,
  };
  const memory: MemoryPlan = {
    entries,
    scratchOffset,
    scratchBytesPerWorker,
    workers,
    arenaBytes: scratchOffset + scratchBytesPerWorker * workers,
    peakBytes: workingBytes + scratchBytesPerWorker * workers,
    peakKernel: 0,
  };
  return { loops, memory, names, kernels, residentBytes, workingBytes };
}

function renameKernel(k: LoopKernel, name: string, rename: ReadonlyMap<string, string>): LoopKernel {
  // Locals keep their names: code generators resolve a name as a global buffer first, and the
  // linked globals all carry a prefix or a shared name the caller chose (checked above).
  const buffer = (b: string) => rename.get(b) ?? b;
  const int = (e: IExpr): IExpr => {
    switch (e.k) {
      case 'const':
      case 'var':
        return e;
      case 'iload':
        return { ...e, buffer: buffer(e.buffer), index: int(e.index) };
      default:
        return { ...e, a: int(e.a), b: int(e.b) };
    }
  };
  const value = (e: VExpr): VExpr => {
    switch (e.k) {
      case 'const':
      case 'reg':
        return e;
      case 'load':
        return { ...e, buffer: buffer(e.buffer), index: int(e.index) };
      case 'int':
        return { ...e, a: int(e.a) };
      case 'unary':
        return { ...e, a: value(e.a) };
      case 'binary':
        return { ...e, a: value(e.a), b: value(e.b) };
      case 'select':
        return { ...e, cond: value(e.cond), a: value(e.a), b: value(e.b) };
    }
  };
  const stmt = (s: Stmt): Stmt => {
    switch (s.k) {
      case 'for': {
        const bound = s.bound ? { bound: int(s.bound) } : {};
        return { ...s, ...bound, body: s.body.map(stmt) };
      }
      case 'if':
        return { ...s, cond: { a: int(s.cond.a), lt: int(s.cond.lt) }, body: s.body.map(stmt) };
      case 'let':
      case 'set':
      case 'reduce':
        return { ...s, value: value(s.value) };
      case 'store':
        return { ...s, buffer: buffer(s.buffer), index: int(s.index), value: value(s.value) };
      case 'barrier':
        return s;
      case 'contract':
        return {
          ...s,
          out: buffer(s.out),
          a: buffer(s.a),
          b: buffer(s.b),
          outOffset: int(s.outOffset),
          aOffset: int(s.aOffset),
          bOffset: int(s.bOffset),
        };
    }
  };
  return { ...k, name, uses: k.uses.map(buffer), body: k.body.map(stmt) };
}
