// The parts of a persistent model, whatever device runs it (wasm-model.ts, wgsl-model.ts): a part is
// a kernel of the Ein program compiled at its own ranks and options and linked under its own name,
// so one kernel can serve several parts. GPT-2 needs this where Llama does not: its block runs at two
// sizes (T new tokens for a prompt, 1 for a decode step), and its per-layer weight products are GEMMs,
// which address their weights at constant offsets, so each layer is its own part over that layer's
// weights. Parts that compile the same kernel at the same ranks and options share one compilation;
// only linking and code generation see each copy.
import type { CascadeProgram } from '../ir/cascade.js';
import type { LoopProgram } from '../ir/loops.js';
import type { MemoryPlan } from '../passes/memplan.js';
import { compileKernel, type CompileOptions } from '../passes/pipeline.js';
import type { CompileState } from '../passes/state.js';

export interface ModelPartSpec {
  /** Unique among the parts (an identifier): prefixes the part's kernels and private buffers. */
  readonly name: string;
  /** The kernel of the Ein program. */
  readonly kernel: string;
  readonly ranks: Readonly<Record<string, number>>;
  /** Parameters and outputs that live in the shared buffers under another name (param → shared name). */
  readonly shared: Readonly<Record<string, string>>;
  /** The fusion scratchpad this part is compiled with (default: the target's). */
  readonly scratchpadBytes?: number;
}

/** A model of one part per kernel, all at the same ranks: the part is named as its kernel. */
export type ModelKernelSpec = Pick<ModelPartSpec, 'kernel' | 'shared'>;

export function kernelParts(
  ranks: Readonly<Record<string, number>>,
  kernels: readonly ModelKernelSpec[],
): ModelPartSpec[] {
  return kernels.map((spec) => ({ name: spec.kernel, kernel: spec.kernel, ranks, shared: spec.shared }));
}

/** A compiled part, as the linkers take it (src/ir/link-loops.ts, src/backends/wasm/linked-program.ts). */
export interface CompiledPart {
  readonly name: string;
  readonly loops: LoopProgram;
  readonly memory: MemoryPlan;
  readonly shared: ReadonlyMap<string, string>;
}

export interface CompiledParts {
  readonly parts: readonly CompiledPart[];
  /** The first part's compile state, for the backends' program builders. */
  readonly first: CompileState;
  /** Compile time per distinct compilation, under the name of the first part that uses it. */
  readonly compileMs: Readonly<Record<string, number>>;
}

const compileKey = (p: ModelPartSpec) =>
  JSON.stringify([p.kernel, Object.entries(p.ranks).sort(), p.scratchpadBytes]);

/** Compiles each distinct (kernel, ranks, scratchpad) of `parts` once, with the target's options. */
export function compileParts(
  program: CascadeProgram,
  parts: readonly ModelPartSpec[],
  target: Pick<CompileOptions, 'target' | 'threads'>,
): CompiledParts {
  const compileMs: Record<string, number> = {};
  const states = new Map<string, CompileState>();
  const compiled = parts.map((part): CompiledPart => {
    const key = compileKey(part);
    let state = states.get(key);
    if (!state) {
      const start = performance.now();
      state = compileKernel(program, {
        ...target,
        kernel: part.kernel,
        ranks: part.ranks,
        ...(part.scratchpadBytes !== undefined ? { scratchpadBytes: part.scratchpadBytes } : {}),
      });
      states.set(key, state);
      compileMs[part.name] = performance.now() - start;
    }
    return {
      name: part.name,
      loops: state.loops!,
      memory: state.memory!,
      shared: new Map(Object.entries(part.shared)),
    };
  });
  return { parts: compiled, first: states.get(compileKey(parts[0]!))!, compileMs };
}

/** "N ms for K kernels": the compile times of a model's start-up report. */
export function describeCompile(compileMs: Readonly<Record<string, number>>): string {
  const total = Object.values(compileMs).reduce((a, b) => a + b, 0);
  return `${total.toFixed(0)} ms for ${Object.keys(compileMs).length} kernels`;
}
