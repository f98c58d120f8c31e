// A compiled kernel: the pipeline's result for one target, its report and generated source, and a
// `run` that validates inputs like the interpreter does (same EinErrors) before handing them to the
// target. A WASM kernel keeps its module and thread pool between runs; `close()` lets them go.
import { TARGETS } from '../backends/targets.js';
import { hasRelaxedSimd } from '../backends/wasm/features.js';
import { buildWasmProgram, type WasmProgram } from '../backends/wasm/program.js';
import { WasmRunner } from '../backends/wasm/runner.js';
import { EinError } from '../frontend/diagnostics.js';
import { bindKernel, type BoundKernel } from '../ir/bind.js';
import { runBound, type Tensors } from '../ir/interpreter.js';
import { printLoopProgram } from '../ir/loop-print.js';
import type { Pass } from '../passes/pipeline.js';
import { buildReport, type CompileReport } from '../passes/report.js';
import type { CompileState } from '../passes/state.js';
import { backendFor } from './backends.js';
import { toTensor, type Tensor, type TensorInput } from './tensors.js';
import { wasmText } from './wasm-text.js';

export type Target = 'wasm' | 'wgsl' | 'cuda' | 'interp';
export const TARGET_NAMES: readonly Target[] = ['wasm', 'wgsl', 'cuda', 'interp'];

/** The state after one pass of the pipeline, and its dump as `ein compile --dump-after` prints it. */
export interface PassSnapshot {
  readonly name: string;
  readonly description: string;
  dump(): string;
}

export interface KernelParts {
  readonly target: Target;
  readonly bound: BoundKernel;
  readonly state: CompileState;
  readonly scratchpadBytes: number;
  readonly threads: number;
  readonly passes: readonly { readonly pass: Pass; readonly state: CompileState }[];
  /** File name and source text the diagnostics of `run` point into. */
  readonly file: string;
  readonly source: string;
}

export class Kernel {
  readonly target: Target;
  /** The kernel's name in the source. */
  readonly name: string;
  /** Its parameters in order, and its outputs. */
  readonly params: readonly string[];
  readonly outputs: readonly string[];
  /** Every parameter's and output's shape at the ranks the kernel was compiled for. */
  readonly shapes: Readonly<Record<string, readonly number[]>>;
  readonly ranks: Readonly<Record<string, number>>;
  /** The compile report (`ein compile --report`): traffic against the lower bound, memory plan, decisions. */
  readonly report: CompileReport;
  readonly passes: readonly PassSnapshot[];
  /** The pipeline's final state, for tools that want the IR itself. */
  readonly state: CompileState;

  private readonly parts: KernelParts;
  private wasm?: WasmProgram;
  private runner?: Promise<WasmRunner>;
  private sourceText?: string;

  constructor(parts: KernelParts) {
    this.parts = parts;
    this.target = parts.target;
    this.state = parts.state;
    const { kernel } = parts.bound;
    this.name = kernel.name;
    this.params = kernel.params;
    this.outputs = kernel.outputs;
    this.ranks = Object.fromEntries(parts.bound.ranks);
    this.shapes = Object.fromEntries(
      [...kernel.params, ...kernel.outputs].map((t) => [t, parts.bound.shapes.get(t)!]),
    );
    const description = TARGETS[parts.target === 'interp' ? 'wasm' : parts.target];
    this.report = buildReport(parts.state, description, parts.scratchpadBytes);
    this.passes = parts.passes.map(({ pass, state }) => ({
      name: pass.name,
      description: pass.description,
      dump: () => pass.dump(state),
    }));
    // Building the module up front makes `compile` fail early, not at the first run.
    if (parts.target === 'wasm')
      this.wasm = buildWasmProgram(parts.state, { threads: parts.threads, relaxedSimd: hasRelaxedSimd() });
  }

  /** The Loop IR every backend starts from. */
  get loops(): string {
    return printLoopProgram(this.state.loops!);
  }

  /**
   * The generated code: WebAssembly text for `wasm`, WGSL or CUDA source for the GPU targets, the
   * Loop IR for `interp`. Undefined when the target's printer is not available in this build.
   */
  get source(): string | undefined {
    if (this.sourceText !== undefined) return this.sourceText;
    if (this.target === 'wasm') this.sourceText = wasmText(this.wasm!.bytes);
    else if (this.target === 'interp') this.sourceText = this.loops;
    else this.sourceText = backendFor(this.target)?.print(this.state);
    return this.sourceText;
  }

  /** The WebAssembly binary of a `wasm` kernel. */
  get wasmBytes(): Uint8Array | undefined {
    return this.wasm?.bytes;
  }

  /** Runs the kernel; inputs by parameter name, outputs by name (row-major typed arrays with shapes). */
  async run(inputs: Readonly<Record<string, TensorInput>>): Promise<Record<string, Tensor>> {
    const tensors = this.checkInputs(inputs);
    switch (this.target) {
      case 'interp':
        return runBound(this.parts.bound, tensors);
      case 'wasm': {
        this.runner ??= WasmRunner.create(this.wasm!);
        return (await this.runner).run(tensors);
      }
      default: {
        const run = backendFor(this.target)?.run;
        if (!run)
          throw new EinError({
            message: `the ${this.target} backend cannot run kernels in this build`,
            hint:
              this.target === 'cuda'
                ? 'CUDA source is for nvcc; run on wasm or wgsl'
                : 'run on wasm or interp',
          });
        return run(this.state, tensors);
      }
    }
  }

  /** Releases the WASM thread pool; a later `run` starts a new one. */
  async close(): Promise<void> {
    const runner = this.runner;
    this.runner = undefined;
    if (runner) await (await runner).close();
  }

  /** Converts and validates the inputs; shape errors are the binder's, pointing at the parameter. */
  private checkInputs(inputs: Readonly<Record<string, TensorInput>>): Tensors {
    const { kernel } = this.parts.bound;
    for (const name of Object.keys(inputs))
      if (!kernel.params.includes(name))
        throw new EinError({
          message: `${kernel.name} has no input named ${name}`,
          hint: `its inputs: ${kernel.params.join(', ')}`,
        });
    const tensors: Tensors = {};
    for (const p of kernel.params) {
      const value = inputs[p];
      if (value === undefined)
        throw this.located(
          new EinError({
            message: `input ${p} of ${kernel.name} was not given`,
            span: kernel.tensors[p]!.span,
          }),
        );
      const t = toTensor(value, p, this.shapes[p]);
      const declared = kernel.tensors[p]!.dtype;
      if (t.dtype !== declared)
        throw this.located(
          new EinError({
            message: `input ${p} is ${t.dtype} but ${kernel.name} declares ${declared}`,
            span: kernel.tensors[p]!.span,
          }),
        );
      tensors[p] = t;
    }
    try {
      bindKernel(this.parts.bound.program, kernel.name, {
        ranks: this.ranks,
        inputShapes: Object.fromEntries(Object.entries(tensors).map(([k, t]) => [k, t.shape])),
      });
    } catch (e) {
      throw e instanceof EinError ? this.located(e) : e;
    }
    return tensors;
  }

  private located(e: EinError): EinError {
    return e.withSource(this.parts.file, this.parts.source);
  }
}
