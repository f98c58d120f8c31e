// A model's parts as ONE persistent WebAssembly module: each part is compiled once (model-parts.ts),
// the compiled parts are linked into one Loop program over one arena (linked-program.ts), and one
// ResidentWasmRunner holds the module, the shared memory and the thread pool for the whole run.
// Weights are written into the arena once at load time; activations handed from one kernel to the
// next share one buffer, so a call moves no data at all; the host only sets scalars and runs parts.
// Llama's model is one part per kernel, all at the same ranks (create); GPT-2's compiles some kernels
// at two sizes and once per layer (fromParts).
import { hasRelaxedSimd } from '../backends/wasm/features.js';
import { linkPrograms, type LinkedProgram } from '../backends/wasm/linked-program.js';
import { buildWasmProgram, type WasmProgram } from '../backends/wasm/program.js';
import { ResidentWasmRunner } from '../backends/wasm/resident-runner.js';
import type { CascadeProgram } from '../ir/cascade.js';
import { linkedBuffer, linkedKernels } from '../ir/link-loops.js';
import { compileParts, kernelParts, type ModelKernelSpec, type ModelPartSpec } from './model-parts.js';

export interface WasmModelOptions {
  readonly threads: number;
  readonly relaxedSimd?: boolean;
}

/** Compile time per distinct compilation and for the module, for `ein generate`'s start-up report. */
export interface WasmModelTimings {
  readonly compileMs: Readonly<Record<string, number>>;
  readonly buildMs: number;
  readonly instantiateMs: number;
}

/** The arena the memory plan predicts, and what the process really holds for the model. */
export interface WasmMemoryReport {
  /** From the linked memory plan: resident buffers + the largest kernel's intermediates + scratch. */
  readonly predictedBytes: number;
  readonly residentBytes: number;
  readonly workingBytes: number;
  /** The WebAssembly memory (whole pages) plus what the host keeps beside it (the logits). */
  readonly measuredBytes: number;
}

export class WasmModel {
  /** Each part's steps, prepared once (ResidentWasmRunner.prepare). */
  private readonly runs = new Map<string, () => void>();

  private constructor(
    readonly runner: ResidentWasmRunner,
    readonly linked: LinkedProgram,
    readonly program: WasmProgram,
    readonly timings: WasmModelTimings,
  ) {}

  /** Compiles every kernel once (bound to `ranks`), links them, builds the module and starts the pool. */
  static create(
    program: CascadeProgram,
    ranks: Readonly<Record<string, number>>,
    kernels: readonly ModelKernelSpec[],
    options: WasmModelOptions,
  ): Promise<WasmModel> {
    return WasmModel.fromParts(program, kernelParts(ranks, kernels), options);
  }

  /** Compiles every distinct part once, links the parts, builds the module and starts the pool. */
  static async fromParts(
    program: CascadeProgram,
    parts: readonly ModelPartSpec[],
    options: WasmModelOptions,
  ): Promise<WasmModel> {
    const threads = Math.max(1, options.threads);
    const compiled = compileParts(program, parts, { target: 'wasm', threads });
    const buildStart = performance.now();
    const linked = linkPrograms(compiled.parts, threads);
    // buildWasmProgram reads the Loop program and the memory plan; the rest of the state is the first
    // part's, which nothing downstream of those two looks at (no COSMA plan, no AutoChunk).
    const wasm = buildWasmProgram(
      {
        ...compiled.first,
        loops: linked.loops,
        memory: linked.memory,
        cosma: undefined,
        chunking: undefined,
      },
      { threads, relaxedSimd: options.relaxedSimd ?? hasRelaxedSimd() },
    );
    const buildMs = performance.now() - buildStart;
    const instantiateStart = performance.now();
    const runner = await ResidentWasmRunner.create(wasm);
    const instantiateMs = performance.now() - instantiateStart;
    return new WasmModel(runner, linked, wasm, { compileMs: compiled.compileMs, buildMs, instantiateMs });
  }

  /** The linked name of a part's buffer (its shared name, or `part__buffer`). */
  buffer(part: string, name: string): string {
    return linkedBuffer(this.linked, part, name);
  }

  /** Runs one part on whatever its buffers in the arena hold now. */
  run(part: string): void {
    let run = this.runs.get(part);
    if (!run) {
      run = this.runner.prepare(linkedKernels(this.linked, part));
      this.runs.set(part, run);
    }
    run();
  }

  /** Bytes of WebAssembly memory the module really holds (whole 64 KiB pages). */
  get memoryBytes(): number {
    return this.runner.memory.buffer.byteLength;
  }

  /** The planned arena beside the real WebAssembly memory plus `hostBytes` the caller holds. */
  memoryReport(hostBytes: number): WasmMemoryReport {
    const { linked } = this;
    return {
      predictedBytes: linked.memory.arenaBytes,
      residentBytes: linked.residentBytes,
      workingBytes: linked.workingBytes,
      measuredBytes: this.memoryBytes + hostBytes,
    };
  }

  async close(): Promise<void> {
    await this.runner.close();
  }
}
