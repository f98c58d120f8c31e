// Where the Loop IR's global buffers live on a WebGPU device, within the binding limits.
//
// Normally every buffer is its own GPUBuffer and binding (`X` in the WGSL is the tensor X). Two
// limits can break that, and both are handled here, for the whole program at once since buffers
// outlive kernels:
//  - maxStorageBufferBindingSize: a larger buffer is split into parts of at most that size, each
//    its own GPUBuffer and binding; accessor functions pick the part from the index;
//  - maxStorageBuffersPerShaderStage: while some kernel needs more bindings than allowed, the two
//    smallest buffers (or packs) it uses are packed into one GPUBuffer, each at an element offset.
//    A pack of one element type keeps it; a mixed pack holds u32 bits and bitcasts.
// Scalar inputs no kernel writes (a decode step's `pos`, a layer index) are not storage at all: they
// are the fields of one uniform struct, so a host sets them with one small write per call and they
// count against no storage limit. A uniform value is also uniform for WGSL's uniformity analysis,
// so a loop bound read from it (dynamic-bounds.ts) may enclose workgroup barriers.
import type { DType } from '../../ir/cascade.js';
import type { LoopKernel, LoopProgram } from '../../ir/loops.js';
import { referencedBuffers } from '../c-launch.js';
import { EinGpuError } from './gpu-error.js';
import { WGSL_RESERVED } from './reserved.js';

export interface BindingLimits {
  readonly maxStorageBuffersPerShaderStage: number;
  readonly maxStorageBufferBindingSize: number;
}

/** One GPUBuffer: bound as one `var<storage>` by every kernel that touches what it holds. */
export interface StorageUnit {
  /** The WGSL identifier and GPUBuffer label: the tensor's name, or ein_pack0 / ein_part0_X. */
  readonly name: string;
  readonly element: 'f32' | 'i32' | 'u32';
  readonly elements: number;
  /** The logical buffers it holds (one, unless packed), with where each starts. */
  readonly members: readonly { readonly buffer: string; readonly offset: number }[];
}

/** A run of a logical buffer's elements [start, start + length) at `offset` in `unit`. */
export interface Segment {
  readonly unit: string;
  readonly offset: number;
  readonly start: number;
  readonly length: number;
}

/** A scalar input held in the uniform struct: field `field` at byte `offset`. */
export interface UniformScalar {
  readonly buffer: string;
  readonly element: 'f32' | 'i32';
  readonly field: string;
  readonly offset: number;
}

/** The WGSL names of the uniform struct of scalar inputs and of its binding. */
export const UNIFORM_STRUCT = 'EinScalars';
export const UNIFORM_VAR = 'ein_scalars';

export interface StorageLayout {
  readonly units: readonly StorageUnit[];
  /** Per logical buffer, its segments in order of `start` (several only when split). */
  readonly segments: ReadonlyMap<string, readonly Segment[]>;
  /** Scalar inputs no kernel writes, as the fields of the uniform struct (in field order). */
  readonly scalars: ReadonlyMap<string, UniformScalar>;
  /** Bytes of the uniform struct (a multiple of 16; 0 without scalars). */
  readonly uniformBytes: number;
}

interface Draft {
  name: string;
  dtypes: Set<DType>;
  elements: number;
  members: { buffer: string; offset: number }[];
  split: boolean;
}

/** The global buffers a kernel reads or writes. */
export function kernelBuffers(kernel: LoopKernel, globals: ReadonlySet<string>): Set<string> {
  return new Set([...referencedBuffers(kernel.body).keys()].filter((b) => globals.has(b)));
}

/** The global buffers some kernel stores to. */
function writtenBuffers(program: LoopProgram): Set<string> {
  const written = new Set<string>();
  for (const k of program.kernels)
    for (const [b, use] of referencedBuffers(k.body)) if (use.written) written.add(b);
  return written;
}

/** Scalar inputs no kernel writes become fields of the uniform struct, 4 bytes each. */
function planScalars(program: LoopProgram): Map<string, UniformScalar> {
  const written = writtenBuffers(program);
  const scalars = new Map<string, UniformScalar>();
  const fields = new Set<string>();
  for (const b of program.buffers) {
    if (b.level !== 'global' || b.role !== 'input' || b.size !== 1 || written.has(b.name)) continue;
    let field = b.name.replace(/[^A-Za-z0-9_]/g, '_').replace(/^(?=[0-9_])/, 'v');
    while (fields.has(field) || WGSL_RESERVED.has(field) || field.startsWith('ein_')) field += '_';
    fields.add(field);
    scalars.set(b.name, { buffer: b.name, element: b.dtype, field, offset: 4 * scalars.size });
  }
  return scalars;
}

export function planStorage(program: LoopProgram, limits: BindingLimits): StorageLayout {
  const maxElements = Math.floor(limits.maxStorageBufferBindingSize / 4);
  if (maxElements < 1)
    throw new EinGpuError('limit', 'maxStorageBufferBindingSize is smaller than one element');
  const scalars = planScalars(program);
  const drafts: Draft[] = [];
  const unitsOf = new Map<string, Draft[]>();
  for (const b of program.buffers) {
    if (b.level !== 'global' || scalars.has(b.name)) continue;
    const parts = Math.max(1, Math.ceil(b.size / maxElements));
    const list: Draft[] = [];
    for (let p = 0; p < parts; p++) {
      const elements = parts === 1 ? b.size : Math.min(maxElements, b.size - p * maxElements);
      const name = parts === 1 ? b.name : `ein_part${p}_${b.name}`;
      list.push({
        name,
        dtypes: new Set([b.dtype]),
        elements,
        members: [{ buffer: b.name, offset: 0 }],
        split: parts > 1,
      });
    }
    drafts.push(...list);
    unitsOf.set(b.name, list);
  }
  const globals = new Set(unitsOf.keys());
  const kernelUses = program.kernels.map((k) => [...kernelBuffers(k, globals)]);
  let packs = 0;
  for (;;) {
    const unitsPerKernel = kernelUses.map((uses) => new Set(uses.flatMap((b) => unitsOf.get(b)!)));
    const worst = unitsPerKernel.reduce<Set<Draft> | undefined>(
      (w, u) => (!w || u.size > w.size ? u : w),
      undefined,
    );
    if (!worst || worst.size <= limits.maxStorageBuffersPerShaderStage) break;
    const packable = [...worst].filter((d) => !d.split).sort((a, b) => a.elements - b.elements);
    const [x, y] = packable;
    if (!x || !y || x.elements + y.elements > maxElements)
      throw new EinGpuError(
        'limit',
        `a kernel needs ${worst.size} storage bindings (${[...worst].map((d) => d.name).join(', ')}); ` +
          `maxStorageBuffersPerShaderStage = ${limits.maxStorageBuffersPerShaderStage} and no two of them fit ` +
          `one binding of maxStorageBufferBindingSize = ${limits.maxStorageBufferBindingSize} bytes`,
      );
    const merged: Draft = {
      name: `ein_pack${packs++}`,
      dtypes: new Set([...x.dtypes, ...y.dtypes]),
      elements: x.elements + y.elements,
      members: [...x.members, ...y.members.map((m) => ({ buffer: m.buffer, offset: m.offset + x.elements }))],
      split: false,
    };
    drafts.splice(drafts.indexOf(x), 1);
    drafts.splice(drafts.indexOf(y), 1, merged);
    for (const m of merged.members) unitsOf.set(m.buffer, [merged]);
  }
  const units: StorageUnit[] = drafts.map((d) => ({
    name: d.name,
    element: d.dtypes.size === 1 ? [...d.dtypes][0]! : 'u32',
    elements: d.elements,
    members: d.members,
  }));
  const segments = new Map<string, Segment[]>();
  for (const [buffer, list] of unitsOf) {
    let start = 0;
    segments.set(
      buffer,
      list.map((d) => {
        const member = d.members.find((m) => m.buffer === buffer)!;
        const length = d.split ? d.elements : program.buffers.find((b) => b.name === buffer)!.size;
        const segment = { unit: d.name, offset: member.offset, start, length };
        start += length;
        return segment;
      }),
    );
  }
  return { units, segments, scalars, uniformBytes: Math.ceil(scalars.size / 4) * 16 };
}
