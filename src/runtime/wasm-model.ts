// A model's kernels as ONE persistent WebAssembly module: each bound kernel is compiled once, the
// compiled kernels are linked into one Loop program over one arena (linked-program.ts), and one
// ResidentWasmRunner holds the module, the shared memory and the thread pool for the whole run.
// Weights are written into the arena once at load time; activations handed from one kernel to the
// next share one buffer, so a call moves no data at all; the host only sets scalars and runs kernels.
import { buildWasmProgram, type WasmProgram } from '../backends/wasm/program.js';
import { linkPrograms, type LinkedProgram } from '../backends/wasm/linked-program.js';
import { ResidentWasmRunner } from '../backends/wasm/resident-runner.js';
import { hasRelaxedSimd } from '../backends/wasm/features.js';
import type { CascadeProgram } from '../ir/cascade.js';
import { compileKernel } from '../passes/pipeline.js';
import type { CompileState } from '../passes/state.js';

export interface ModelKernelSpec {
  /** The kernel of the Ein program. */
  readonly kernel: string;
  /** Parameters and outputs that live in the shared arena under another name (param → shared name). */
  readonly shared: Readonly<Record<string, string>>;
}

export interface WasmModelOptions {
  readonly threads: number;
  readonly relaxedSimd?: boolean;
}

/** Compile time per kernel and for the module, for `ein generate`'s start-up report. */
export interface WasmModelTimings {
  readonly compileMs: Readonly<Record<string, number>>;
  readonly buildMs: number;
  readonly instantiateMs: number;
}

export class WasmModel {
  /** Each model kernel's steps, prepared once (ResidentWasmRunner.prepare). */
  private readonly runs = new Map<string, () => void>();

  private constructor(
    readonly runner: ResidentWasmRunner,
    readonly linked: LinkedProgram,
    readonly program: WasmProgram,
    readonly timings: WasmModelTimings,
  ) {}

  /** Compiles every kernel once (bound to `ranks`), links them, builds the module and starts the pool. */
  static async create(
    program: CascadeProgram,
    ranks: Readonly<Record<string, number>>,
    kernels: readonly ModelKernelSpec[],
    options: WasmModelOptions,
  ): Promise<WasmModel> {
    const threads = Math.max(1, options.threads);
    const compileMs: Record<string, number> = {};
    const states = new Map<string, CompileState>();
    for (const spec of kernels) {
      const start = performance.now();
      states.set(
        spec.kernel,
        compileKernel(program, { kernel: spec.kernel, ranks, target: 'wasm', threads }),
      );
      compileMs[spec.kernel] = performance.now() - start;
    }
    const buildStart = performance.now();
    const linked = linkPrograms(
      kernels.map((spec) => {
        const state = states.get(spec.kernel)!;
        return {
          name: spec.kernel,
          loops: state.loops!,
          memory: state.memory!,
          shared: new Map(Object.entries(spec.shared)),
        };
      }),
      threads,
    );
    // buildWasmProgram reads the Loop program and the memory plan; the rest of the state is the first
    // kernel's, which nothing downstream of those two looks at (no COSMA plan, no AutoChunk).
    const first = states.get(kernels[0]!.kernel)!;
    const wasm = buildWasmProgram(
      { ...first, loops: linked.loops, memory: linked.memory, cosma: undefined, chunking: undefined },
      { threads, relaxedSimd: options.relaxedSimd ?? hasRelaxedSimd() },
    );
    const buildMs = performance.now() - buildStart;
    const instantiateStart = performance.now();
    const runner = await ResidentWasmRunner.create(wasm);
    const timings = { compileMs, buildMs, instantiateMs: performance.now() - instantiateStart };
    return new WasmModel(runner, linked, wasm, timings);
  }

  /** The linked name of a kernel's buffer (its shared name, or `kernel__buffer`). */
  buffer(kernel: string, name: string): string {
    const linked = this.linked.names.get(kernel)?.get(name);
    if (!linked) throw new Error(`kernel ${kernel} has no buffer ${name}`);
    return linked;
  }

  /** Runs one model kernel on whatever its buffers in the arena hold now. */
  run(kernel: string): void {
    let run = this.runs.get(kernel);
    if (!run) {
      const loopKernels = this.linked.kernels.get(kernel);
      if (!loopKernels) throw new Error(`no kernel ${kernel} in the model`);
      run = this.runner.prepare(loopKernels);
      this.runs.set(kernel, run);
    }
    run();
  }

  /** Bytes of WebAssembly memory the module really holds (whole 64 KiB pages). */
  get memoryBytes(): number {
    return this.runner.memory.buffer.byteLength;
  }

  async close(): Promise<void> {
    await this.runner.close();
  }
}
