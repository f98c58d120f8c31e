// A model's kernels as ONE persistent WGSL program on a WebGPU device, the GPU counterpart of
// wasm-model.ts: each bound kernel is compiled once for target 'wgsl', the compiled kernels are linked
// into one Loop program (linked-program.ts renames every buffer to its shared name or `kernel__name`),
// and that program is printed and made resident once (src/backends/wgsl/resident.ts). Weights are
// uploaded once; activations handed from one kernel to the next and the KV cache stay in GPU buffers;
// scalar inputs (`pos`, `layer`) are fields of one uniform buffer. The storage layout is planned for
// the linked program as a whole, so when binding limits force packing, every kernel sees the same packs.
import { linkPrograms, type LinkedProgram } from '../backends/wasm/linked-program.js';
import type { EinGpu } from '../backends/wgsl/device.js';
import { withErrorScopes } from '../backends/wgsl/error-scopes.js';
import { buildWgslProgram } from '../backends/wgsl/program.js';
import { ResidentWgslProgram, type WgslCopy, type WgslStep } from '../backends/wgsl/resident.js';
import { effectiveLimits } from '../backends/wgsl/run.js';
import type { CascadeProgram } from '../ir/cascade.js';
import { compileKernel } from '../passes/pipeline.js';
import type { CompileState } from '../passes/state.js';
import type { ModelKernelSpec } from './wasm-model.js';

/** Compile time per kernel, and for printing and creating the pipelines, for the start-up report. */
export interface WgslModelTimings {
  readonly compileMs: Readonly<Record<string, number>>;
  readonly printMs: number;
  readonly pipelinesMs: number;
}

/** One step of a model submission: a model kernel (all its compute passes), or a buffer copy. */
export type ModelStep = { readonly run: string } | { readonly copy: WgslCopy };

export class WgslModel {
  private constructor(
    readonly gpu: EinGpu,
    readonly resident: ResidentWgslProgram,
    readonly linked: LinkedProgram,
    readonly timings: WgslModelTimings,
  ) {}

  /** Compiles every kernel once (bound to `ranks`), links them, and creates the program on `gpu`. */
  static async create(
    gpu: EinGpu,
    program: CascadeProgram,
    ranks: Readonly<Record<string, number>>,
    kernels: readonly ModelKernelSpec[],
  ): Promise<WgslModel> {
    const compileMs: Record<string, number> = {};
    const states = new Map<string, CompileState>();
    for (const spec of kernels) {
      const start = performance.now();
      states.set(spec.kernel, compileKernel(program, { kernel: spec.kernel, ranks, target: 'wgsl' }));
      compileMs[spec.kernel] = performance.now() - start;
    }
    const printStart = performance.now();
    // The linker's arena plan is the WASM module's; only its renaming and buffer roles matter here.
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
      0,
    );
    const wgsl = buildWgslProgram(linked.loops, { limits: effectiveLimits(gpu.limits) });
    const printMs = performance.now() - printStart;
    const pipelinesStart = performance.now();
    const resident = await withErrorScopes(gpu, `creating ${linked.loops.name}`, () =>
      ResidentWgslProgram.create(gpu, wgsl),
    );
    const timings = { compileMs, printMs, pipelinesMs: performance.now() - pipelinesStart };
    return new WgslModel(gpu, resident, linked, timings);
  }

  /** The linked name of a kernel's buffer (its shared name, or `kernel__buffer`). */
  buffer(kernel: string, name: string): string {
    const linked = this.linked.names.get(kernel)?.get(name);
    if (!linked) throw new Error(`kernel ${kernel} has no buffer ${name}`);
    return linked;
  }

  /** Encodes the steps into one command buffer and submits it (with the scalars set so far). */
  submit(steps: readonly ModelStep[]): void {
    const encoded: WgslStep[] = [];
    for (const step of steps) {
      if ('copy' in step) {
        encoded.push(step);
        continue;
      }
      const loopKernels = this.linked.kernels.get(step.run);
      if (!loopKernels) throw new Error(`no kernel ${step.run} in the model`);
      encoded.push(...loopKernels.map((kernel) => ({ kernel })));
    }
    this.resident.submit(encoded);
  }

  /** Bytes of the linked program's buffers as planned: storage units and the uniform struct. */
  get plannedBytes(): number {
    const { layout } = this.resident.program;
    return layout.units.reduce((sum, u) => sum + Math.max(4, u.elements * 4), 0) + layout.uniformBytes;
  }

  close(): void {
    this.resident.destroy();
  }
}
