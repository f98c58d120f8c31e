// AutoChunk's regions (Zhao et al., "AutoChunk", §4.1): a run of consecutive Einsums of the kernel,
// cut out as a kernel of its own so it can be compiled — and chunked — independently of the rest.
// Its parameters are the tensors it reads but does not write (kernel inputs, or intermediates an
// earlier region produces); its outputs are the tensors it writes that the kernel returns or a
// later Einsum reads. Between regions those tensors are materialized whole.
import { EinError } from '../frontend/diagnostics.js';
import { bindKernel } from '../ir/bind.js';
import { einsums, type Einsum, type KernelIR, type TensorInfo } from '../ir/cascade.js';
import { walkExpr } from '../ir/expr.js';
import { chunkDimensions, type ChunkDimension } from './chunk-candidates.js';
import type { CompileState, PassContext } from './state.js';

/** Einsums [start, end) of the kernel; chunked along `dimension` by `size` when present. */
export interface Segment {
  readonly start: number;
  readonly end: number;
  readonly chunk?: { readonly dimension: ChunkDimension; readonly extent: number; readonly size: number };
}

export interface CompiledSegment {
  readonly segment: Segment;
  readonly kernel: KernelIR;
  /** fusion → memplan of the region at its own ranks (the chunked rank bound to the chunk size). */
  readonly state: CompileState;
  /** How many times the runner runs it: the number of chunks, or 1. */
  readonly count: number;
}

/** Runs fusion → memplan on a trial state, as the pipeline would (size limits included). */
export type EvaluateMemory = (state: CompileState) => CompileState;

function readsOf(e: Einsum): Set<string> {
  const read = new Set<string>();
  walkExpr(e.body, (x) => {
    if (x.k === 'access') read.add(x.tensor);
  });
  return read;
}

/** The kernel of Einsums [start, end), named `${kernel}_${start}_${end}`. */
export function regionKernel(kernel: KernelIR, start: number, end: number): KernelIR {
  const all = einsums(kernel);
  const inside = all.slice(start, end);
  const written = new Set(inside.map((e) => e.tensor));
  const read = new Set(inside.flatMap((e) => [...readsOf(e)]));
  const laterReads = new Set(all.slice(end).flatMap((e) => [...readsOf(e)]));
  const params = [...read].filter((t) => !written.has(t));
  const outputs = [...written].filter((t) => kernel.outputs.includes(t) || laterReads.has(t));
  const info = (name: string, kind: TensorInfo['kind']): TensorInfo => ({
    ...kernel.tensors[name]!,
    kind,
    declared: kind !== 'intermediate' || kernel.tensors[name]!.declared,
  });
  const tensors = Object.fromEntries([
    ...params.map((t) => [t, info(t, 'input')] as const),
    ...[...written].map((t) => [t, info(t, outputs.includes(t) ? 'output' : 'intermediate')] as const),
  ]);
  return { ...kernel, name: `${kernel.name}_${start}_${end}`, params, outputs, tensors, steps: inside };
}

/** The dimensions region [start, end) can be chunked along (chunk-candidates.ts on its kernel). */
export function regionDimensions(kernel: KernelIR, start: number, end: number): ChunkDimension[] {
  return chunkDimensions(regionKernel(kernel, start, end));
}

/**
 * Compiles a segment: its region kernel bound at the kernel's ranks, the chunked one at the chunk
 * size. Null when the trial fails a size limit (a candidate that does not fit, not a user error).
 */
export function compileSegment(
  state: CompileState,
  ctx: PassContext,
  evaluate: EvaluateMemory,
  segment: Segment,
): CompiledSegment | null {
  const kernel = regionKernel(state.kernel, segment.start, segment.end);
  const program = { ...state.program, kernels: [...state.program.kernels, kernel] };
  const ranks = Object.fromEntries(state.ranks);
  if (segment.chunk) ranks[segment.chunk.dimension.rank] = segment.chunk.size;
  try {
    const bound = bindKernel(program, kernel.name, {
      ranks,
      limits: ctx.limits,
      intermediatesMaterialized: false,
    });
    const compiled = evaluate({
      program: bound.program,
      kernel,
      ranks: bound.ranks,
      shapes: bound.shapes,
      decisions: [],
    });
    const count = segment.chunk ? segment.chunk.extent / segment.chunk.size : 1;
    return { segment, kernel, state: compiled, count };
  } catch (e) {
    if (e instanceof EinError) return null;
    throw e;
  }
}
