// GPT-2 on the persistent WebAssembly model (wasm-model.ts, built from parts: model-parts.ts):
// examples/gpt2.ein's T-token kernels in one module over one arena, at two sizes. A prompt of up to
// `promptTokens` tokens runs as one PREFILL through batched kernels (every weight product a GEMM over
// the prompt's rows); each later token is a DECODE step with T = 1 (every weight product a GEMV)
// against the KV cache. The weights are streamed into the arena one tensor at a time (the block
// matrices transposed to [out, in] on the way, so a decode step reads each output's weights as one
// contiguous run); the cache ([L, S, D] keys and values) lives there too.
// Per layer the host only copies inside the arena: the new keys and values into the cache, and the
// block's output back to its input.
import { DecodeOrder } from './decode-order.js';
import { EinRuntimeError } from './errors.js';
import {
  blockWeights,
  expectedShapes,
  gpt2Ranks,
  Gpt2Model,
  tensorPrefix,
  type Gpt2Config,
} from './gpt2-runner.js';
import { memoryLimitError } from './model-memory.js';
import { loadModelProgram } from './model-program.js';
import { toFloat32, type SafetensorsFile } from './safetensors.js';
import type { ModelPartSpec } from './model-parts.js';
import { WasmModel, type WasmMemoryReport } from './wasm-model.js';

export interface WasmGpt2Options {
  /** Threads of the pool, the caller included. */
  readonly threads: number;
  /** The longest prompt one prefill takes (the prefill kernels' T); default min(128, seqLen). */
  readonly promptTokens?: number;
  /** Refuse to load when the planned arena exceeds this many bytes. */
  readonly maxMemoryBytes?: number;
}

/** Fills one weight tensor, named as in GPT-2's files (`h.0.attn.c_attn.weight`), in place. */
export type Gpt2WeightReader = (
  name: string,
  shape: readonly number[],
  into: Float32Array,
) => Promise<void> | void;

const GLOBAL_WEIGHTS: Readonly<Record<string, string>> = {
  'wte.weight': 'wte',
  'wpe.weight': 'wpe',
  'ln_f.weight': 'lnf_g',
  'ln_f.bias': 'lnf_b',
};
const QKV_WEIGHTS = ['ln1_g', 'ln1_b', 'attn_w', 'attn_b'];
/** The matrices gpt2_qkv and gpt2_mlp take as [out, in]: the transpose of GPT-2's Conv1D files. */
const TRANSPOSED = new Set(['attn_w', 'attn_proj_w', 'fc_w', 'mlp_proj_w']);
const MLP_WEIGHTS = Object.keys(blockWeights).filter((w) => !QKV_WEIGHTS.includes(w));
/**
 * A decode step's fusion scratchpad: one byte, so no two Einsums share a kernel and each weight
 * product is a lone contraction, which the WASM backend runs as a GEMV that reads the weights once
 * (gemm-vector.ts). Fused with its bias or its LayerNorm it would be a scalar loop inside a kernel
 * whose only parallel loop has one iteration (t < 1).
 */
const STEP_SCRATCHPAD_BYTES = 1;

const layerBuffer = (layer: number, param: string) => `h${layer}_${param}`;
const layerWeights = (layer: number, params: readonly string[]) =>
  Object.fromEntries(params.map((p) => [p, layerBuffer(layer, p)]));

function gpt2Parts(config: Gpt2Config, promptTokens: number): ModelPartSpec[] {
  const base = { ...gpt2Ranks(config), L: config.nLayers };
  const prompt = { ...base, T: promptTokens };
  const step = { ...base, T: 1 };
  const wte = { wte: 'wte', wpe: 'wpe', pos: 'pos' };
  const parts: ModelPartSpec[] = [
    {
      name: 'embed_prompt',
      kernel: 'embed_tokens',
      ranks: prompt,
      shared: { ...wte, tok: 'prompt_tok', X: 'prompt_x' },
    },
    {
      name: 'embed_step',
      kernel: 'embed_tokens',
      ranks: step,
      shared: { ...wte, tok: 'step_tok', X: 'step_x' },
    },
    {
      name: 'attend_prompt',
      kernel: 'gpt2_attend_prompt',
      ranks: prompt,
      shared: { qkv: 'prompt_qkv', AV: 'prompt_av' },
    },
    {
      name: 'attend_step',
      kernel: 'gpt2_attend_step',
      ranks: step,
      shared: { qkv: 'step_qkv', pos: 'pos', layer: 'layer', kc: 'kc', vc: 'vc', AV: 'step_av' },
    },
    {
      name: 'classify',
      kernel: 'classify',
      ranks: base,
      shared: { x: 'last_x', lnf_g: 'lnf_g', lnf_b: 'lnf_b', wte: 'wte' },
    },
  ];
  for (let l = 0; l < config.nLayers; l++) {
    for (const [size, ranks, options] of [
      ['prompt', prompt, {}],
      ['step', step, { scratchpadBytes: STEP_SCRATCHPAD_BYTES }],
    ] as const) {
      parts.push(
        {
          name: `qkv_${size}${l}`,
          kernel: 'gpt2_qkv',
          ranks,
          ...options,
          shared: { x: `${size}_x`, ...layerWeights(l, QKV_WEIGHTS), QKV: `${size}_qkv` },
        },
        {
          name: `mlp_${size}${l}`,
          kernel: 'gpt2_mlp',
          ranks,
          ...options,
          shared: { x: `${size}_x`, av: `${size}_av`, ...layerWeights(l, MLP_WEIGHTS), X_OUT: `${size}_out` },
        },
      );
    }
  }
  return parts;
}

export class WasmGpt2Model {
  private readonly order: DecodeOrder;
  private readonly scalars: { readonly pos: Int32Array; readonly layer: Int32Array };
  private readonly promptTok: Int32Array;
  private readonly stepTok: Int32Array;
  private readonly logits: Float32Array;

  private constructor(
    readonly config: Gpt2Config,
    readonly promptTokens: number,
    readonly model: WasmModel,
  ) {
    this.order = new DecodeOrder(config);
    const r = model.runner;
    this.scalars = { pos: r.i32('pos'), layer: r.i32('layer') };
    this.promptTok = r.i32('prompt_tok');
    this.stepTok = r.i32('step_tok');
    this.logits = new Float32Array(config.vocabSize);
  }

  /** Compiles the kernels into one module, then has `read` fill every weight in its arena buffer. */
  static async load(
    config: Gpt2Config,
    read: Gpt2WeightReader,
    options: WasmGpt2Options,
  ): Promise<WasmGpt2Model> {
    const promptTokens = options.promptTokens ?? Math.min(128, config.seqLen);
    if (!Number.isInteger(promptTokens) || promptTokens < 1 || promptTokens > config.seqLen)
      throw new EinRuntimeError(
        `the prompt length ${promptTokens} must be between 1 and the sequence length ${config.seqLen}`,
      );
    const model = await WasmModel.fromParts(loadModelProgram('gpt2'), gpt2Parts(config, promptTokens), {
      threads: options.threads,
    });
    const { arenaBytes } = model.linked.memory;
    const refused = memoryLimitError('GPT-2', arenaBytes, 'of WebAssembly memory', options.maxMemoryBytes);
    if (refused) {
      await model.close();
      throw refused;
    }
    try {
      for (const [name, shape] of expectedShapes(config)) {
        const layer = /^h\.(\d+)\.(.*)$/.exec(name);
        const param = layer
          ? Object.keys(blockWeights).find((p) => blockWeights[p] === layer[2])!
          : undefined;
        const target = model.runner.f32(
          param ? layerBuffer(Number(layer![1]), param) : GLOBAL_WEIGHTS[name]!,
        );
        if (!param || !TRANSPOSED.has(param)) {
          await read(name, shape, target);
          continue;
        }
        // One tensor at a time through the JS heap: the file's [in, out] into the arena's [out, in].
        const [rows, columns] = shape as [number, number];
        const file = new Float32Array(rows * columns);
        await read(name, shape, file);
        for (let r = 0; r < rows; r++)
          for (let c = 0; c < columns; c++) target[c * rows + r] = file[r * columns + c]!;
      }
    } catch (error) {
      await model.close();
      throw error;
    }
    return new WasmGpt2Model(config, promptTokens, model);
  }

  /** A GPT-2 safetensors file (GPT2Model or GPT2LMHeadModel names), read one tensor at a time. */
  static async fromSafetensors(
    file: SafetensorsFile,
    options: WasmGpt2Options & { readonly nHeads: number; readonly seqLen?: number },
  ): Promise<WasmGpt2Model> {
    const config = Gpt2Model.configOf(file, options);
    const prefix = tensorPrefix(file);
    return WasmGpt2Model.load(
      config,
      async (name, shape, into) =>
        into.set(toFloat32(await file.readTensor(prefix + name, { expectedShape: [...shape] }))),
      options,
    );
  }

  /**
   * Runs a prompt from position 0 as one batch and returns the logits after its last token. A prompt
   * shorter than promptTokens is padded at the end: causal attention keeps the padding out of every
   * real position, and decode steps overwrite its cache rows.
   */
  prefill(tokens: readonly number[]): Float32Array {
    const n = tokens.length;
    if (n < 1 || n > this.promptTokens)
      throw new EinRuntimeError(`a prompt has 1 to ${this.promptTokens} tokens, not ${n}`);
    tokens.forEach((token) => this.order.checkToken(token));
    const { model } = this;
    const { runner } = model;
    const { dim, nLayers, seqLen } = this.config;
    this.promptTok.fill(0);
    this.promptTok.set(tokens);
    this.scalars.pos[0] = 0;
    model.run('embed_prompt');
    for (let l = 0; l < nLayers; l++) {
      model.run(`qkv_prompt${l}`);
      for (let t = 0; t < n; t++) {
        const row = (l * seqLen + t) * dim;
        runner.copyWithin('prompt_qkv', (3 * t + 1) * dim, 'kc', row, dim);
        runner.copyWithin('prompt_qkv', (3 * t + 2) * dim, 'vc', row, dim);
      }
      model.run('attend_prompt');
      model.run(`mlp_prompt${l}`);
      runner.copyWithin('prompt_out', 0, 'prompt_x', 0, this.promptTokens * dim);
    }
    runner.copyWithin('prompt_x', (n - 1) * dim, 'last_x', 0, dim);
    this.order.filled(n);
    return this.classify();
  }

  /** Logits for the token after `token` at position `pos` (a decode step); positions in order. */
  forward(token: number, pos: number): Float32Array {
    const { seqLen, nLayers, dim } = this.config;
    this.order.step(token, pos);
    const { model } = this;
    const { runner } = model;
    this.stepTok[0] = token;
    this.scalars.pos[0] = pos;
    model.run('embed_step');
    for (let l = 0; l < nLayers; l++) {
      this.scalars.layer[0] = l;
      model.run(`qkv_step${l}`);
      const row = (l * seqLen + pos) * dim;
      runner.copyWithin('step_qkv', dim, 'kc', row, dim);
      runner.copyWithin('step_qkv', 2 * dim, 'vc', row, dim);
      model.run('attend_step');
      model.run(`mlp_step${l}`);
      runner.copyWithin('step_out', 0, 'step_x', 0, dim);
    }
    runner.copyWithin('step_x', 0, 'last_x', 0, dim);
    return this.classify();
  }

  private classify(): Float32Array {
    this.model.run('classify');
    this.logits.set(this.model.runner.f32(this.model.buffer('classify', 'LOGITS')));
    return this.logits;
  }

  memoryReport(): WasmMemoryReport {
    return this.model.memoryReport(this.logits.byteLength);
  }

  async close(): Promise<void> {
    await this.model.close();
  }
}
