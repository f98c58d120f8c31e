// Linking several compiled kernels into ONE Loop program, whatever the target: each part's global
// buffers are renamed, so a buffer the caller names as shared (weights, the KV cache, activations
// handed from one kernel to the next) gets its shared name and is one buffer of the linked program,
// and every other buffer becomes `part__name`; kernels become `part__kernel`. Where the buffers then
// live is the target's business: the WASM backend places them in one arena
// (src/backends/wasm/linked-program.ts), the WGSL one plans its storage layout over the linked program.
import type { BufferDecl, IExpr, LoopKernel, LoopProgram, Stmt, VExpr } from './loops.js';

export interface LoopLinkPart {
  /** Unique among the parts; prefixes the part's kernels and private buffers. */
  readonly name: string;
  readonly loops: LoopProgram;
  /** Part buffer → shared buffer name (the same shared name in two parts is the same bytes). */
  readonly shared: ReadonlyMap<string, string>;
}

export interface LinkedLoops {
  /** Buffers in order of first use by the parts; a shared buffer's role is `input`. */
  readonly loops: LoopProgram;
  /** Part name → its buffers' names in the linked program (part buffer → linked buffer). */
  readonly names: ReadonlyMap<string, ReadonlyMap<string, string>>;
  /** Part name → its kernels' names in the linked program, in order. */
  readonly kernels: ReadonlyMap<string, readonly string[]>;
}

export const linkedName = (part: string, name: string) => `${part}__${name}`;

export function linkLoops(parts: readonly LoopLinkPart[]): LinkedLoops {
  const names = new Map<string, Map<string, string>>();
  const buffers = new Map<string, BufferDecl>();
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
      buffers.set(name, { ...b, name, role: part.shared.has(b.name) ? 'input' : b.role });
    }
  }
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
  return { loops, names, kernels };
}

/** The linked name of a part's buffer (its shared name, or `part__buffer`). */
export function linkedBuffer(linked: LinkedLoops, part: string, name: string): string {
  const found = linked.names.get(part)?.get(name);
  if (!found) throw new Error(`part ${part} has no buffer ${name}`);
  return found;
}

/** The linked names of a part's kernels, in order. */
export function linkedKernels(linked: LinkedLoops, part: string): readonly string[] {
  const found = linked.kernels.get(part);
  if (!found) throw new Error(`no part ${part} in ${linked.loops.name}`);
  return found;
}

function renameKernel(k: LoopKernel, name: string, rename: ReadonlyMap<string, string>): LoopKernel {
  // Locals keep their names: code generators resolve a name as a global buffer first, and the
  // linked globals all carry a prefix or a shared name the caller chose (checked above).
  const buffer = (b: string) => rename.get(b) ?? b;
  // Integer loads, value loads and stores alike: the buffer renamed, the index walked.
  const access = <E extends { readonly buffer: string; readonly index: IExpr }>(e: E): E => ({
    ...e,
    buffer: buffer(e.buffer),
    index: int(e.index),
  });
  const int = (e: IExpr): IExpr => {
    if (e.k === 'iload') return access(e);
    return e.k === 'const' || e.k === 'var' ? e : { ...e, a: int(e.a), b: int(e.b) };
  };
  const value = (e: VExpr): VExpr => {
    switch (e.k) {
      case 'const':
      case 'reg':
        return e;
      case 'load':
        return access(e);
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
        return { ...access(s), value: value(s.value) };
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
