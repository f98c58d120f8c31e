// A model's kernels as ONE persistent WGSL program on a WebGPU device, the GPU counterpart of
// wasm-model.ts: each bound kernel is compiled once for target 'wgsl' (model-parts.ts), the compiled
// kernels are linked into one Loop program (src/ir/link-loops.ts renames every buffer to its shared
// name or `kernel__name`), and that program is printed and made resident once
// (src/backends/wgsl/resident.ts). Weights are uploaded once; activations handed from one kernel to
// the next and the KV cache stay in GPU buffers; scalar inputs (`pos`, `layer`) are fields of one
// uniform buffer. The storage layout is planned for
// the linked program as a whole, so when binding limits force packing, every kernel sees the same packs.
import type { EinGpu } from '../backends/wgsl/device.js';
import { withErrorScopes } from '../backends/wgsl/error-scopes.js';
import { buildWgslProgram } from '../backends/wgsl/program.js';
import { ResidentWgslProgram, type WgslCopy, type WgslStep } from '../backends/wgsl/resident.js';
import { effectiveLimits } from '../backends/wgsl/run.js';
import type { CascadeProgram } from '../ir/cascade.js';
import { linkedBuffer, linkedKernels, linkLoops, type LinkedLoops } from '../ir/link-loops.js';
import { compileParts, kernelParts, type ModelKernelSpec } from './model-parts.js';

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
    readonly linked: LinkedLoops,
    readonly timings: WgslModelTimings,
  ) {}

  /** Compiles every kernel once (bound to `ranks`), links them, and creates the program on `gpu`. */
  static async create(
    gpu: EinGpu,
    program: CascadeProgram,
    ranks: Readonly<Record<string, number>>,
    kernels: readonly ModelKernelSpec[],
  ): Promise<WgslModel> {
    const compiled = compileParts(program, kernelParts(ranks, kernels), { target: 'wgsl' });
    const printStart = performance.now();
    const linked = linkLoops(compiled.parts);
    const wgsl = buildWgslProgram(linked.loops, { limits: effectiveLimits(gpu.limits) });
    const printMs = performance.now() - printStart;
    const pipelinesStart = performance.now();
    const resident = await withErrorScopes(gpu, `creating ${linked.loops.name}`, () =>
      ResidentWgslProgram.create(gpu, wgsl),
    );
    const pipelinesMs = performance.now() - pipelinesStart;
    return new WgslModel(gpu, resident, linked, { compileMs: compiled.compileMs, printMs, pipelinesMs });
  }

  /** The linked name of a kernel's buffer (its shared name, or `kernel__buffer`). */
  buffer(kernel: string, name: string): string {
    return linkedBuffer(this.linked, kernel, name);
  }

  /** Encodes the steps into one command buffer and submits it (with the scalars set so far). */
  submit(steps: readonly ModelStep[]): void {
    const encoded: WgslStep[] = [];
    for (const step of steps) {
      if ('copy' in step) {
        encoded.push(step);
        continue;
      }
      encoded.push(...linkedKernels(this.linked, step.run).map((kernel) => ({ kernel })));
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
