// The Llama runtime on the persistent WebAssembly model (wasm-model.ts): examples/llama.ein's four
// kernels in one module over one arena. The weights are streamed from the checkpoint straight into
// the arena, once; the KV cache lives in the arena; activations pass from kernel to kernel in shared
// buffers. Per token the host writes two scalars, runs the kernels, and moves this token's key and
// value rows into the cache at [layer, pos] inside the arena (two 4·kvDim-byte memory copies).
import { formatBytes } from '../ir/limits.js';
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
import { WasmModel, type WasmMemoryReport } from './wasm-model.js';

export interface WasmLlamaOptions {
  /** Threads of the pool, the caller included. */
  readonly threads: number;
  /** Refuse to load when the planned arena exceeds this many bytes. */
  readonly maxMemoryBytes?: number;
}

export class WasmLlamaModel {
  private readonly order: DecodeOrder;
  private readonly names: LlamaStepBuffers;
  private readonly scalars: {
    readonly tok: Int32Array;
    readonly pos: Int32Array;
    readonly layer: Int32Array;
  };
  private readonly logits: Float32Array;

  private constructor(
    readonly config: Llama2cConfig,
    readonly model: WasmModel,
  ) {
    this.order = new DecodeOrder(config);
    this.names = llamaStepBuffers(model);
    const r = model.runner;
    this.scalars = { tok: r.i32('tok'), pos: r.i32('pos'), layer: r.i32('layer') };
    this.logits = new Float32Array(config.vocabSize);
  }

  /** Compiles the four kernels into one module, then streams the weights into its arena. */
  static async load(checkpoint: Llama2cCheckpoint, options: WasmLlamaOptions): Promise<WasmLlamaModel> {
    const { config } = checkpoint;
    const program = loadModelProgram('llama');
    const model = await WasmModel.create(program, llamaRanks(config), llamaKernelSpecs(config), {
      threads: options.threads,
    });
    const refused = memoryLimitError(
      checkpoint.source.name,
      model.linked.memory.arenaBytes,
      'of WebAssembly memory',
      options.maxMemoryBytes,
      '--max-memory',
    );
    if (refused) {
      await model.close();
      throw refused;
    }
    const { runner } = model;
    await streamLlamaWeights(checkpoint, {
      elements: (name) => runner.f32(name).length,
      write: (name, data) => runner.f32(name).set(data),
    });
    return new WasmLlamaModel(config, model);
  }

  /** Logits for the token after `token` at position `pos` (run.c forward()); positions in order from 0. */
  forward(token: number, pos: number): Float32Array {
    const { seqLen, nLayers, kvDim } = this.config;
    this.order.step(token, pos);
    const { model } = this;
    const { runner } = model;
    this.scalars.tok[0] = token;
    this.scalars.pos[0] = pos;
    model.run('embed');
    model.run('rope');
    for (let l = 0; l < nLayers; l++) {
      this.scalars.layer[0] = l;
      model.run('llama_layer');
      const row = (l * seqLen + pos) * kvDim;
      runner.copyWithin(this.names.kNew, 0, 'kc', row, kvDim);
      runner.copyWithin(this.names.vNew, 0, 'vc', row, kvDim);
      runner.copyWithin(this.names.xOut, 0, 'x', 0, this.config.dim);
    }
    model.run('classify');
    this.logits.set(runner.f32(this.names.logits));
    return this.logits;
  }

  memoryReport(): WasmMemoryReport {
    return this.model.memoryReport(this.logits.byteLength);
  }

  describeMemory(): string {
    const m = this.memoryReport();
    const t = this.model.timings;
    return [
      `predicted peak memory: ${formatBytes(m.predictedBytes)} (${m.predictedBytes} B: resident weights, cache and activations ${formatBytes(m.residentBytes)}, intermediates ${formatBytes(m.workingBytes)}, from the linked memory plan)`,
      `measured peak memory: ${formatBytes(m.measuredBytes)} (${m.measuredBytes} B: WebAssembly memory and the logits)`,
      `compile: ${describeCompile(t.compileMs)}, module ${t.buildMs.toFixed(0)} ms, instantiate ${t.instantiateMs.toFixed(0)} ms`,
    ].join('\n');
  }

  async close(): Promise<void> {
    await this.model.close();
  }
}
