// The Llama runtime on a WebGPU device (wgsl-model.ts): examples/llama.ein's four kernels as one
// resident WGSL program. The weights are streamed from the checkpoint into GPU buffers once; the KV
// cache lives in GPU buffers; activations pass from kernel to kernel in shared buffers. Per token the
// host sets the `tok` / `pos` / `layer` uniforms and submits, per layer, the layer's passes followed
// by three buffer copies (this token's key and value rows into the cache at [layer, pos], X_OUT into
// x); only the logits are read back.
import { acquireGpu, describeAdapter, type EinGpu } from '../backends/wgsl/device.js';
import { withErrorScopes } from '../backends/wgsl/error-scopes.js';
import { formatBytes } from '../ir/limits.js';
import { EinRuntimeError } from './errors.js';
import { DecodeOrder } from './decode-order.js';
import {
  llamaKernelSpecs,
  llamaStepBuffers,
  streamLlamaWeights,
  type LlamaStepBuffers,
} from './llama-kernels.js';
import { llamaRanks } from './llama-runner.js';
import type { Llama2cCheckpoint, Llama2cConfig } from './llama2c.js';
import { describeCompile } from './model-parts.js';
import { memoryLimitError } from './model-memory.js';
import { loadModelProgram } from './model-program.js';
import { WgslModel } from './wgsl-model.js';

export interface WgslLlamaOptions {
  /** The device to hold the model; default: acquire one (and release it on close()). */
  readonly gpu?: EinGpu;
  /** Refuse to load when the planned GPU buffers exceed this many bytes. */
  readonly maxMemoryBytes?: number;
}

/** The GPU buffers the storage layout plans, and what the model really allocated. */
export interface WgslMemoryReport {
  /** Every buffer of the linked program (weights, cache, activations, intermediates) and the uniforms. */
  readonly predictedBytes: number;
  /** GPUBuffers created (the planned ones, rounded up, plus the logits' read-back buffer) and host logits. */
  readonly measuredBytes: number;
}

export class WgslLlamaModel {
  private readonly order: DecodeOrder;
  private readonly names: LlamaStepBuffers;
  private readonly logits: Float32Array;

  private constructor(
    readonly config: Llama2cConfig,
    readonly model: WgslModel,
    private readonly ownsGpu: boolean,
  ) {
    this.order = new DecodeOrder(config);
    this.names = llamaStepBuffers(model);
    this.logits = new Float32Array(config.vocabSize);
  }

  /** Compiles the four kernels into one program on the device, then streams the weights into it. */
  static async load(checkpoint: Llama2cCheckpoint, options: WgslLlamaOptions = {}): Promise<WgslLlamaModel> {
    const { config } = checkpoint;
    let gpu = options.gpu;
    if (!gpu) {
      const acquired = await acquireGpu();
      if (!acquired.ok) throw new EinRuntimeError(`--target wgsl: ${acquired.reason}`);
      gpu = acquired.gpu;
    }
    const ownsGpu = options.gpu === undefined;
    let model: WgslModel | undefined;
    try {
      model = await WgslModel.create(
        gpu,
        loadModelProgram('llama'),
        llamaRanks(config),
        llamaKernelSpecs(config),
      );
      const refused = memoryLimitError(
        checkpoint.source.name,
        model.plannedBytes,
        'of GPU buffers',
        options.maxMemoryBytes,
        '--max-memory',
      );
      if (refused) throw refused;
      const { resident } = model;
      await withErrorScopes(gpu, `uploading the weights of ${checkpoint.source.name}`, () =>
        streamLlamaWeights(checkpoint, resident),
      );
      return new WgslLlamaModel(config, model, ownsGpu);
    } catch (e) {
      model?.close();
      if (ownsGpu) gpu.destroy();
      throw e;
    }
  }

  /** Logits for the token after `token` at position `pos` (run.c forward()); positions in order from 0. */
  async forward(token: number, pos: number): Promise<Float32Array> {
    const { seqLen, nLayers, kvDim, dim } = this.config;
    this.order.step(token, pos);
    const { model, names } = this;
    const { resident } = model;
    return withErrorScopes(model.gpu, `forward at position ${pos}`, async () => {
      resident.setScalar('tok', token);
      resident.setScalar('pos', pos);
      model.submit([{ run: 'embed' }, { run: 'rope' }]);
      for (let l = 0; l < nLayers; l++) {
        // The uniform is written before each submit, so every layer's passes see their own `layer`.
        resident.setScalar('layer', l);
        const row = (l * seqLen + pos) * kvDim;
        model.submit([
          { run: 'llama_layer' },
          { copy: { from: names.kNew, fromStart: 0, to: 'kc', toStart: row, length: kvDim } },
          { copy: { from: names.vNew, fromStart: 0, to: 'vc', toStart: row, length: kvDim } },
          { copy: { from: names.xOut, fromStart: 0, to: 'x', toStart: 0, length: dim } },
        ]);
      }
      model.submit([{ run: 'classify' }]);
      this.logits.set(await resident.read(names.logits));
      return this.logits;
    });
  }

  memoryReport(): WgslMemoryReport {
    return {
      predictedBytes: this.model.plannedBytes,
      measuredBytes: this.model.resident.deviceBytes + this.logits.byteLength,
    };
  }

  describeMemory(): string {
    const m = this.memoryReport();
    const t = this.model.timings;
    return [
      `device: ${describeAdapter(this.model.gpu.adapter)}`,
      `predicted peak memory: ${formatBytes(m.predictedBytes)} (${m.predictedBytes} B of GPU buffers: weights, cache, activations and intermediates, from the storage layout)`,
      `measured peak memory: ${formatBytes(m.measuredBytes)} (${m.measuredBytes} B: GPU buffers allocated, read-back buffer and host logits included)`,
      `compile: ${describeCompile(t.compileMs)}, WGSL ${t.printMs.toFixed(0)} ms, shaders and pipelines ${t.pipelinesMs.toFixed(0)} ms`,
    ].join('\n');
  }

  close(): void {
    this.model.close();
    if (this.ownsGpu) this.model.gpu.destroy();
  }
}
