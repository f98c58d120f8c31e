// The Llama runtime on the persistent WebAssembly model (wasm-model.ts): examples/llama.ein's four
// kernels in one module over one arena. The weights are streamed from the checkpoint straight into
// the arena, once; the KV cache lives in the arena; activations pass from kernel to kernel in shared
// buffers. Per token the host writes two scalars, runs the kernels, and moves this token's key and
// value rows into the cache at [layer, pos] inside the arena (two 4·kvDim-byte memory copies).
import { formatBytes } from '../ir/limits.js';
import { EinRuntimeError } from './errors.js';
import { llamaRanks } from './llama-runner.js';
import type { Llama2cCheckpoint, Llama2cConfig, Llama2cTensorName } from './llama2c.js';
import { loadModelProgram } from './model-program.js';
import { WasmModel, type ModelKernelSpec } from './wasm-model.js';

export interface WasmLlamaOptions {
  /** Threads of the pool, the caller included. */
  readonly threads: number;
  /** Refuse to load when the planned arena exceeds this many bytes. */
  readonly maxMemoryBytes?: number;
}

/** Checkpoint tensor → its buffer in the arena (the kernels' parameter names). */
const arenaNameOf: Readonly<Partial<Record<Llama2cTensorName, string>>> = {
  token_embedding_table: 'emb',
  rms_att_weight: 'rms_att',
  wq: 'wq',
  wk: 'wk',
  wv: 'wv',
  wo: 'wo',
  rms_ffn_weight: 'rms_ffn',
  w1: 'w1',
  w2: 'w2',
  w3: 'w3',
  rms_final_weight: 'rms_final',
  wcls: 'wcls',
};

const same = (...names: string[]) => Object.fromEntries(names.map((n) => [n, n]));

function llamaKernels(config: Llama2cConfig): ModelKernelSpec[] {
  return [
    { kernel: 'embed', shared: { emb: 'emb', tok: 'tok', X: 'x' } },
    { kernel: 'rope', shared: { pos: 'pos', COS: 'rope_cos', SIN: 'rope_sin' } },
    {
      kernel: 'llama_layer',
      shared: same(
        'x',
        'layer',
        'pos',
        'rope_cos',
        'rope_sin',
        'rms_att',
        'wq',
        'wk',
        'wv',
        'wo',
        'rms_ffn',
        'w1',
        'w2',
        'w3',
        'kc',
        'vc',
      ),
    },
    {
      kernel: 'classify',
      shared: { x: 'x', rms_final: 'rms_final', wcls: config.sharedClassifier ? 'emb' : 'wcls' },
    },
  ];
}

/** The arena the memory plan predicts, and what the process really holds for the model. */
export interface WasmMemoryReport {
  /** From the linked memory plan: resident buffers + the largest kernel's intermediates + scratch. */
  readonly predictedBytes: number;
  readonly residentBytes: number;
  readonly workingBytes: number;
  /** The WebAssembly memory (whole pages) plus the logits the host keeps. */
  readonly measuredBytes: number;
}

export class WasmLlamaModel {
  private nextPos = 0;
  private readonly names: {
    readonly xOut: string;
    readonly kNew: string;
    readonly vNew: string;
    readonly logits: string;
  };
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
    this.names = {
      xOut: model.buffer('llama_layer', 'X_OUT'),
      kNew: model.buffer('llama_layer', 'K_NEW'),
      vNew: model.buffer('llama_layer', 'V_NEW'),
      logits: model.buffer('classify', 'LOGITS'),
    };
    const r = model.runner;
    this.scalars = { tok: r.i32('tok'), pos: r.i32('pos'), layer: r.i32('layer') };
    this.logits = new Float32Array(config.vocabSize);
  }

  /** Compiles the four kernels into one module, then streams the weights into its arena. */
  static async load(checkpoint: Llama2cCheckpoint, options: WasmLlamaOptions): Promise<WasmLlamaModel> {
    const { config } = checkpoint;
    const program = loadModelProgram('llama');
    const model = await WasmModel.create(program, llamaRanks(config), llamaKernels(config), {
      threads: options.threads,
    });
    const planned = model.linked.memory.arenaBytes;
    if (options.maxMemoryBytes !== undefined && planned > options.maxMemoryBytes) {
      await model.close();
      throw new EinRuntimeError(
        `${checkpoint.source.name} needs ${formatBytes(planned)} (${planned} bytes) of WebAssembly memory, ` +
          `more than the ${formatBytes(options.maxMemoryBytes)} (${options.maxMemoryBytes} bytes) allowed by --max-memory`,
      );
    }
    for await (const tensor of checkpoint.streamTensors()) {
      const name = arenaNameOf[tensor.name];
      if (name === undefined) continue;
      const target = model.runner.f32(name);
      if (target.length !== tensor.data.length)
        throw new Error(
          `internal: ${tensor.name} has ${tensor.data.length} elements, its buffer ${target.length}`,
        );
      target.set(tensor.data);
    }
    return new WasmLlamaModel(config, model);
  }

  /** Logits for the token after `token` at position `pos` (run.c forward()); positions in order from 0. */
  forward(token: number, pos: number): Float32Array {
    const { vocabSize, seqLen, nLayers, kvDim } = this.config;
    if (!Number.isInteger(token) || token < 0 || token >= vocabSize)
      throw new EinRuntimeError(`token ${token} is outside the vocabulary (0..${vocabSize - 1})`);
    if (!Number.isInteger(pos) || pos < 0 || pos >= seqLen)
      throw new EinRuntimeError(`position ${pos} is outside the model's sequence length (0..${seqLen - 1})`);
    if (pos > this.nextPos)
      throw new EinRuntimeError(
        `position ${pos} skips ahead: positions 0..${pos - 1} are not in the cache yet`,
      );
    this.nextPos = pos + 1;
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
    const { linked } = this.model;
    return {
      predictedBytes: linked.memory.arenaBytes,
      residentBytes: linked.residentBytes,
      workingBytes: linked.workingBytes,
      measuredBytes: this.model.memoryBytes + this.logits.byteLength,
    };
  }

  describeMemory(): string {
    const m = this.memoryReport();
    const t = this.model.timings;
    const compile = Object.values(t.compileMs).reduce((a, b) => a + b, 0);
    return [
      `predicted peak memory: ${formatBytes(m.predictedBytes)} (${m.predictedBytes} B: resident weights, cache and activations ${formatBytes(m.residentBytes)}, intermediates ${formatBytes(m.workingBytes)}, from the linked memory plan)`,
      `measured peak memory: ${formatBytes(m.measuredBytes)} (${m.measuredBytes} B: WebAssembly memory and the logits)`,
      `compile: ${compile.toFixed(0)} ms for ${Object.keys(t.compileMs).length} kernels, module ${t.buildMs.toFixed(0)} ms, instantiate ${t.instantiateMs.toFixed(0)} ms`,
    ].join('\n');
  }

  async close(): Promise<void> {
    await this.model.close();
  }
}
