// A model as ONE persistent WebAssembly module built from PARTS: a part is a kernel of the Ein program
// compiled at its own ranks and options and linked under its own name, so one kernel can serve several
// parts. GPT-2 needs this where Llama does not: its block runs at two sizes (T new tokens for a
// prompt, 1 for a decode step), and its per-layer weight products are GEMMs, which address their
// weights at constant offsets, so each layer is its own part over that layer's weights. Parts that
// compile the same kernel at the same ranks and options share one compilation; only linking and code
// generation see each copy. The module, arena and thread pool are as in wasm-model.ts (WasmModel is
// the special case of one part per kernel, all at the same ranks).
import { hasRelaxedSimd } from '../backends/wasm/features.js';
import { linkPrograms, type LinkedProgram } from '../backends/wasm/linked-program.js';
import { buildWasmProgram, type WasmProgram } from '../backends/wasm/program.js';
import { ResidentWasmRunner } from '../backends/wasm/resident-runner.js';
import type { CascadeProgram } from '../ir/cascade.js';
import { compileKernel } from '../passes/pipeline.js';
import type { CompileState } from '../passes/state.js';
import type { WasmModelOptions } from './wasm-model.js';

export interface ModelPartSpec {
  /** Unique among the parts (an identifier): prefixes the part's kernels and private buffers. */
  readonly name: string;
  /** The kernel of the Ein program. */
  readonly kernel: string;
  readonly ranks: Readonly<Record<string, number>>;
  /** Parameters and outputs that live in the shared arena under another name (param → shared name). */
  readonly shared: Readonly<Record<string, string>>;
  /** The fusion scratchpad this part is compiled with (default: the target's). */
  readonly scratchpadBytes?: number;
}

export interface PartsModelTimings {
  /** Compile time per distinct compilation (kernel and its ranks). */
  readonly compileMs: Readonly<Record<string, number>>;
  readonly buildMs: number;
  readonly instantiateMs: number;
}

const compileKey = (p: ModelPartSpec) =>
  JSON.stringify([p.kernel, Object.entries(p.ranks).sort(), p.scratchpadBytes]);

export class PartsWasmModel {
  private constructor(
    readonly runner: ResidentWasmRunner,
    readonly linked: LinkedProgram,
    readonly program: WasmProgram,
    readonly timings: PartsModelTimings,
  ) {}

  static async create(
    program: CascadeProgram,
    parts: readonly ModelPartSpec[],
    options: WasmModelOptions,
  ): Promise<PartsWasmModel> {
    const threads = Math.max(1, options.threads);
    const compileMs: Record<string, number> = {};
    const states = new Map<string, CompileState>();
    for (const part of parts) {
      const key = compileKey(part);
      if (states.has(key)) continue;
      const start = performance.now();
      const state = compileKernel(program, {
        kernel: part.kernel,
        ranks: part.ranks,
        target: 'wasm',
        threads,
        ...(part.scratchpadBytes !== undefined ? { scratchpadBytes: part.scratchpadBytes } : {}),
      });
      states.set(key, state);
      compileMs[`${part.kernel} ${JSON.stringify(part.ranks)}`] = performance.now() - start;
    }
    const buildStart = performance.now();
    const linked = linkPrograms(
      parts.map((part) => {
        const state = states.get(compileKey(part))!;
        return {
          name: part.name,
          loops: state.loops!,
          memory: state.memory!,
          shared: new Map(Object.entries(part.shared)),
        };
      }),
      threads,
    );
    // As in WasmModel: buildWasmProgram reads only the Loop program and the memory plan of the state.
    const first = states.get(compileKey(parts[0]!))!;
    const wasm = buildWasmProgram(
      { ...first, loops: linked.loops, memory: linked.memory, cosma: undefined, chunking: undefined },
      { threads, relaxedSimd: options.relaxedSimd ?? hasRelaxedSimd() },
    );
    const buildMs = performance.now() - buildStart;
    const instantiateStart = performance.now();
    const runner = await ResidentWasmRunner.create(wasm);
    const timings = { compileMs, buildMs, instantiateMs: performance.now() - instantiateStart };
    return new PartsWasmModel(runner, linked, wasm, timings);
  }

  /** The linked name of a part's buffer (its shared name, or `part__buffer`). */
  buffer(part: string, name: string): string {
    const linked = this.linked.names.get(part)?.get(name);
    if (!linked) throw new Error(`part ${part} has no buffer ${name}`);
    return linked;
  }

  /** Runs one part on whatever its buffers in the arena hold now. */
  run(part: string): void {
    const loopKernels = this.linked.kernels.get(part);
    if (!loopKernels) throw new Error(`no part ${part} in the model`);
    this.runner.runKernels(loopKernels);
  }

  /** Bytes of WebAssembly memory the module really holds (whole 64 KiB pages). */
  get memoryBytes(): number {
    return this.runner.memory.buffer.byteLength;
  }

  async close(): Promise<void> {
    await this.runner.close();
  }
}
