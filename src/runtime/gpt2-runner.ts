// The GPT-2 runtime: every number comes from examples/gpt2.ein. The host reads a safetensors file
// with GPT-2's tensor names (`wte.weight`, `h.{i}.attn.c_attn.weight`, ..., optionally under a
// `transformer.` prefix as Hugging Face's GPT2LMHeadModel saves them), keeps one KV cache per layer,
// and calls embed → gpt2_block × layers → classify for one token. Layers are separate tensors in the
// file, so instead of stacking them the block kernel is bound once and each layer's weights are
// swapped into its inputs.
import { runners, type Runner } from '../cli/targets.js';
import type { CascadeProgram } from '../ir/cascade.js';
import type { Tensor } from '../ir/tensor.js';
import { DecodeOrder } from './decode-order.js';
import { EinRuntimeError } from './errors.js';
import { BoundModel, f32Tensor, runDecoderStack, scalarI32, type PreparedKernel } from './model-kernels.js';
import { memoryLimitError, MemoryMeter, predictPeakMemory, type MemoryPrediction } from './model-memory.js';
import { loadModelProgram } from './model-program.js';
import { toFloat32, type SafetensorsFile } from './safetensors.js';

export interface Gpt2Config {
  readonly dim: number;
  readonly nHeads: number;
  readonly nLayers: number;
  readonly hiddenDim: number;
  readonly vocabSize: number;
  readonly maxPositions: number;
  /** Cache rows: the longest sequence this model instance can run (at most maxPositions). */
  readonly seqLen: number;
}

export interface Gpt2ModelOptions {
  /** GPT-2's `n_head` (config.json): the file's shapes do not determine it. */
  readonly nHeads: number;
  /** Cache length; default the model's n_positions. */
  readonly seqLen?: number;
  readonly runner?: Runner;
  readonly maxMemoryBytes?: number;
  readonly program?: CascadeProgram;
}

/** gpt2_block parameter → the tensor's name inside `h.{i}.` (gpt2_qkv and gpt2_mlp use the same names). */
export const blockWeights: Readonly<Record<string, string>> = {
  ln1_g: 'ln_1.weight',
  ln1_b: 'ln_1.bias',
  attn_w: 'attn.c_attn.weight',
  attn_b: 'attn.c_attn.bias',
  attn_proj_w: 'attn.c_proj.weight',
  attn_proj_b: 'attn.c_proj.bias',
  ln2_g: 'ln_2.weight',
  ln2_b: 'ln_2.bias',
  fc_w: 'mlp.c_fc.weight',
  fc_b: 'mlp.c_fc.bias',
  mlp_proj_w: 'mlp.c_proj.weight',
  mlp_proj_b: 'mlp.c_proj.bias',
};

export function gpt2Ranks(config: Gpt2Config): Record<string, number> {
  return {
    D: config.dim,
    H: config.nHeads,
    E: config.dim / config.nHeads,
    F: config.hiddenDim,
    V: config.vocabSize,
    P: config.maxPositions,
    S: config.seqLen,
  };
}

/** The expected shape of every tensor the model reads, by its name in the file (prefix excluded). */
export function expectedShapes(c: Gpt2Config): Map<string, number[]> {
  const { dim: D, hiddenDim: F } = c;
  const shapes = new Map<string, number[]>([
    ['wte.weight', [c.vocabSize, D]],
    ['wpe.weight', [c.maxPositions, D]],
    ['ln_f.weight', [D]],
    ['ln_f.bias', [D]],
  ]);
  const block: Record<string, number[]> = {
    ln1_g: [D],
    ln1_b: [D],
    attn_w: [D, 3 * D],
    attn_b: [3 * D],
    attn_proj_w: [D, D],
    attn_proj_b: [D],
    ln2_g: [D],
    ln2_b: [D],
    fc_w: [D, F],
    fc_b: [F],
    mlp_proj_w: [F, D],
    mlp_proj_b: [D],
  };
  for (let l = 0; l < c.nLayers; l++)
    for (const [param, name] of Object.entries(blockWeights)) shapes.set(`h.${l}.${name}`, block[param]!);
  return shapes;
}

export class Gpt2Model {
  private readonly order: DecodeOrder;

  private constructor(
    readonly config: Gpt2Config,
    readonly memoryPrediction: MemoryPrediction,
    readonly memory: MemoryMeter,
    private readonly layers: readonly {
      readonly weights: Readonly<Record<string, Tensor>>;
      readonly keys: Tensor;
      readonly values: Tensor;
    }[],
    private readonly scalars: { readonly tok: Int32Array; readonly pos: Int32Array },
    private readonly kernels: {
      readonly embed: PreparedKernel;
      readonly block: PreparedKernel;
      readonly classify: PreparedKernel;
    },
  ) {
    this.order = new DecodeOrder(config);
  }

  /** The configuration implied by the file's header (shapes) and GPT-2's n_head. */
  static configOf(file: SafetensorsFile, options: Pick<Gpt2ModelOptions, 'nHeads' | 'seqLen'>): Gpt2Config {
    const prefix = tensorPrefix(file);
    const shape = (name: string) => file.info(prefix + name).shape;
    const [vocabSize, dim] = shape('wte.weight') as [number, number];
    const maxPositions = shape('wpe.weight')[0]!;
    const hiddenDim = shape('h.0.mlp.c_fc.weight')[1]!;
    let nLayers = 0;
    while (file.tensors.some((t) => t.name === `${prefix}h.${nLayers}.ln_1.weight`)) nLayers++;
    const { nHeads, seqLen = maxPositions } = options;
    const bad = (why: string) => new EinRuntimeError(`${file.source.name}: cannot run as GPT-2: ${why}`);
    if (!Number.isInteger(nHeads) || nHeads <= 0 || dim % nHeads !== 0)
      throw bad(`n_head ${nHeads} must be a positive divisor of the width ${dim}`);
    if (!Number.isInteger(seqLen) || seqLen <= 0 || seqLen > maxPositions)
      throw bad(`the sequence length ${seqLen} must be between 1 and n_positions ${maxPositions}`);
    return { dim, nHeads, nLayers, hiddenDim, vocabSize, maxPositions, seqLen };
  }

  static predictMemory(config: Gpt2Config, program = loadModelProgram('gpt2')): MemoryPrediction {
    const model = new BoundModel(program, gpt2Ranks(config));
    const persistent = new Map([
      [model.bound('embed'), new Set(['wte', 'wpe'])],
      [model.bound('gpt2_block'), new Set([...Object.keys(blockWeights), 'kc', 'vc'])],
      [model.bound('classify'), new Set(['lnf_g', 'lnf_b', 'wte'])],
    ]);
    let weightElements = 0;
    for (const shape of expectedShapes(config).values()) weightElements += shape.reduce((a, b) => a * b, 1);
    const cacheBytes = 2 * config.nLayers * config.seqLen * config.dim * 4;
    return predictPeakMemory([...persistent.keys()], persistent, weightElements * 4 + cacheBytes);
  }

  /** Reads every weight (one tensor at a time; F16 and BF16 are widened to f32) and binds the kernels. */
  static async load(file: SafetensorsFile, options: Gpt2ModelOptions): Promise<Gpt2Model> {
    const config = Gpt2Model.configOf(file, options);
    const program = options.program ?? loadModelProgram('gpt2');
    const runner = options.runner ?? runners['interp']!;
    const prediction = Gpt2Model.predictMemory(config, program);
    const refused = memoryLimitError(
      file.source.name,
      prediction.totalBytes,
      'at its peak',
      options.maxMemoryBytes,
    );
    if (refused) throw refused;

    const meter = new MemoryMeter();
    const prefix = tensorPrefix(file);
    const weights = new Map<string, Tensor>();
    for (const [name, shape] of expectedShapes(config)) {
      const data = toFloat32(await file.readTensor(prefix + name, { expectedShape: shape }));
      weights.set(name, f32Tensor(shape, data));
      meter.own(data);
    }
    const cacheShape = [config.seqLen, config.dim];
    const layers = Array.from({ length: config.nLayers }, (_, l) => {
      const keys = f32Tensor(cacheShape, new Float32Array(config.seqLen * config.dim));
      const values = f32Tensor(cacheShape, new Float32Array(config.seqLen * config.dim));
      meter.own(keys.data, values.data);
      const layerWeights = Object.entries(blockWeights).map(([param, name]) => [
        param,
        weights.get(`h.${l}.${name}`)!,
      ]);
      return { weights: Object.fromEntries(layerWeights) as Record<string, Tensor>, keys, values };
    });
    const scalars = { tok: scalarI32(), pos: scalarI32() };
    meter.own(scalars.tok.data, scalars.pos.data);
    const activation = () => f32Tensor([config.dim], new Float32Array(config.dim));
    const observe = (outputs: Parameters<MemoryMeter['observe']>[0]) => meter.observe(outputs);
    const wte = weights.get('wte.weight')!;

    const model = new BoundModel(program, gpt2Ranks(config));
    const first = layers[0];
    if (!first) throw new EinRuntimeError(`${file.source.name}: has no layers (no h.0.ln_1.weight)`);
    const kernels = {
      embed: model.prepare(
        'embed',
        runner,
        { wte, wpe: weights.get('wpe.weight')!, tok: scalars.tok, pos: scalars.pos },
        observe,
      ),
      block: model.prepare(
        'gpt2_block',
        runner,
        { ...first.weights, x: activation(), pos: scalars.pos, kc: first.keys, vc: first.values },
        observe,
      ),
      classify: model.prepare(
        'classify',
        runner,
        { x: activation(), lnf_g: weights.get('ln_f.weight')!, lnf_b: weights.get('ln_f.bias')!, wte },
        observe,
      ),
    };
    return new Gpt2Model(
      config,
      prediction,
      meter,
      layers,
      { tok: scalars.tok.data, pos: scalars.pos.data },
      kernels,
    );
  }

  /** Logits for the token after `token` at position `pos`; positions are fed in order from 0. */
  async forward(token: number, pos: number): Promise<Float32Array> {
    const { dim } = this.config;
    this.order.step(token, pos);
    this.scalars.tok[0] = token;
    this.scalars.pos[0] = pos;
    const { embed, block, classify } = this.kernels;
    const x = (await embed.run())['X']!;
    const { layers } = this;
    const logits = await runDecoderStack(x, block, layers.length, classify, {
      // The file's layers are separate tensors: each layer's weights and cache are swapped in.
      before: (l) => block.setAll({ ...layers[l]!.weights, kc: layers[l]!.keys, vc: layers[l]!.values }),
      store: (l, keys, values) => {
        layers[l]!.keys.data.set(keys, pos * dim);
        layers[l]!.values.data.set(values, pos * dim);
      },
    });
    this.memory.sampleProcess();
    return logits;
  }
}

/** '' for GPT2Model's names, 'transformer.' for GPT2LMHeadModel's. */
export function tensorPrefix(file: SafetensorsFile): string {
  for (const prefix of ['', 'transformer.'])
    if (file.tensors.some((t) => t.name === `${prefix}wte.weight`)) return prefix;
  throw new EinRuntimeError(`${file.source.name}: not a GPT-2 checkpoint: no tensor 'wte.weight'`);
}
