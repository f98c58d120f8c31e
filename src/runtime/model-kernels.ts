// A model's kernels, bound once and called many times. Binding (ranks → shapes, subscript bounds) is
// done when the model loads; a call per token only swaps the tensors that change (activations, the
// token, the position, the layer) in a fixed input record and hands it to the Runner, so the cost
// per token is the kernels' own work. The Runner is any of src/cli/targets.ts's (interp, wasm, wgsl).
import type { Runner } from '../cli/targets.js';
import { bindKernel, type BoundKernel } from '../ir/bind.js';
import type { CascadeProgram } from '../ir/cascade.js';
import type { Tensors } from '../ir/interpreter.js';
import type { Tensor } from '../ir/tensor.js';
import { EinRuntimeError } from './errors.js';
import { formatShape } from './shape.js';

export class BoundModel {
  private readonly boundKernels = new Map<string, BoundKernel>();

  constructor(
    readonly program: CascadeProgram,
    readonly ranks: Readonly<Record<string, number>>,
  ) {}

  /** The kernel bound to the model's ranks (every rank of a model kernel comes from its config). */
  bound(kernel: string): BoundKernel {
    let bound = this.boundKernels.get(kernel);
    if (!bound) {
      bound = bindKernel(this.program, kernel, { ranks: this.ranks });
      this.boundKernels.set(kernel, bound);
    }
    return bound;
  }

  /** A kernel ready to run on `inputs`, whose shapes and dtypes are checked here, once. */
  prepare(kernel: string, runner: Runner, inputs: Tensors, onOutputs?: (t: Tensors) => void): PreparedKernel {
    const bound = this.bound(kernel);
    for (const name of bound.kernel.params) checkInput(bound, name, inputs[name]);
    return new PreparedKernel(bound, runner, inputs, onOutputs);
  }
}

export class PreparedKernel {
  constructor(
    readonly bound: BoundKernel,
    private readonly runner: Runner,
    /** Mutable on purpose: the caller replaces activations between calls (same shapes). */
    readonly inputs: Tensors,
    private readonly onOutputs?: (t: Tensors) => void,
  ) {}

  async run(): Promise<Tensors> {
    const outputs = await this.runner({ bound: this.bound, inputs: this.inputs });
    this.onOutputs?.(outputs);
    return outputs;
  }

  /** Replace an activation input; its shape must be the one bound. */
  set(name: string, tensor: Tensor): void {
    checkInput(this.bound, name, tensor);
    this.inputs[name] = tensor;
  }

  /** Replace several inputs at once (a layer's weights and cache, swapped in per layer). */
  setAll(tensors: Readonly<Record<string, Tensor>>): void {
    for (const [name, tensor] of Object.entries(tensors)) this.set(name, tensor);
  }
}

/** What a forward step does around each layer's call: set the layer's own inputs, cache its K and V. */
export interface LayerHooks {
  readonly before: (layer: number) => void;
  /** This token's key and value rows (the call's K_NEW and V_NEW), for the layer's KV cache. */
  readonly store: (layer: number, keys: Float32Array, values: Float32Array) => void;
}

/**
 * A forward step's decoder stack (run.c forward()): the activation `x` through `layer` once per
 * layer, each call's X_OUT the next one's x, then the last through `classify`; returns the logits.
 */
export async function runDecoderStack(
  x: Tensor,
  layer: PreparedKernel,
  layers: number,
  classify: PreparedKernel,
  hooks: LayerHooks,
): Promise<Float32Array> {
  for (let l = 0; l < layers; l++) {
    hooks.before(l);
    layer.set('x', x);
    const outputs = await layer.run();
    hooks.store(l, outputData(outputs, 'K_NEW'), outputData(outputs, 'V_NEW'));
    x = outputs['X_OUT']!;
  }
  classify.set('x', x);
  return outputData(await classify.run(), 'LOGITS');
}

function checkInput(bound: BoundKernel, name: string, tensor: Tensor | undefined): void {
  const kernel = bound.kernel.name;
  if (!tensor) throw new EinRuntimeError(`kernel ${kernel}: input '${name}' was not given`);
  const expected = bound.shapes.get(name)!;
  const dtype = bound.kernel.tensors[name]!.dtype;
  const sameShape =
    tensor.shape.length === expected.length && tensor.shape.every((extent, i) => extent === expected[i]);
  if (!sameShape || tensor.dtype !== dtype)
    throw new EinRuntimeError(
      `kernel ${kernel}: input '${name}' is ${tensor.dtype}${formatShape(tensor.shape)}, expected ${dtype}${formatShape(expected)}`,
    );
}

/** A one-element i32 tensor whose value the runtime rewrites in place (token id, position, layer). */
export function scalarI32(value = 0): Tensor & { data: Int32Array } {
  return { dtype: 'i32', shape: [], data: Int32Array.of(value) };
}

export function f32Tensor(shape: readonly number[], data: Float32Array): Tensor {
  return { dtype: 'f32', shape, data };
}

/** The f32 data of a kernel output (the runners return typed arrays; i32 never comes out of a kernel). */
export function outputData(outputs: Tensors, name: string): Float32Array {
  const t = outputs[name];
  if (!t || !(t.data instanceof Float32Array))
    throw new Error(`internal: kernel output ${name} is missing or not f32`);
  return t.data;
}
