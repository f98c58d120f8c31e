// The Llama runtime: every number a forward pass computes comes from examples/llama.ein. This host
// side only loads the weights of a llama2.c checkpoint into the kernels' input tensors, keeps the KV
// cache, and calls the kernels in order for one token (run.c forward()):
//   embed → rope → llama_layer × n_layers → classify.
// The program is checked and bound once per model; a token costs one call per kernel.
import { runners, type Runner } from '../cli/targets.js';
import type { CascadeProgram } from '../ir/cascade.js';
import type { Tensor } from '../ir/tensor.js';
import { DecodeOrder } from './decode-order.js';
import type { Llama2cCheckpoint, Llama2cConfig, Llama2cTensorName } from './llama2c.js';
import { BoundModel, f32Tensor, runDecoderStack, scalarI32, type PreparedKernel } from './model-kernels.js';
import { memoryLimitError, MemoryMeter, predictPeakMemory, type MemoryPrediction } from './model-memory.js';
import { loadModelProgram } from './model-program.js';

export interface LlamaModelOptions {
  /** How kernels run; default the reference interpreter. */
  readonly runner?: Runner;
  /** Refuse to load when the predicted peak exceeds this many bytes. */
  readonly maxMemoryBytes?: number;
  /** The checked llama.ein; default examples/llama.ein. */
  readonly program?: CascadeProgram;
}

/** The ranks of llama.ein, from the checkpoint header. */
export function llamaRanks(config: Llama2cConfig): Record<string, number> {
  return {
    D: config.dim,
    H: config.hiddenDim,
    L: config.nLayers,
    S: config.seqLen,
    V: config.vocabSize,
    G: config.nKvHeads,
    R: config.nHeads / config.nKvHeads,
    J: config.headSize / 2,
  };
}

/** Kernel parameter → checkpoint tensor, for the weights (everything else is an activation or cache). */
const layerWeights: Readonly<Record<string, Llama2cTensorName>> = {
  rms_att: 'rms_att_weight',
  wq: 'wq',
  wk: 'wk',
  wv: 'wv',
  wo: 'wo',
  rms_ffn: 'rms_ffn_weight',
  w1: 'w1',
  w2: 'w2',
  w3: 'w3',
};

export class LlamaModel {
  private readonly order: DecodeOrder;

  private constructor(
    readonly config: Llama2cConfig,
    readonly memoryPrediction: MemoryPrediction,
    readonly memory: MemoryMeter,
    private readonly cache: { readonly keys: Float32Array; readonly values: Float32Array },
    private readonly scalars: { tok: Int32Array; pos: Int32Array; layer: Int32Array },
    private readonly kernels: {
      readonly embed: PreparedKernel;
      readonly rope: PreparedKernel;
      readonly layer: PreparedKernel;
      readonly classify: PreparedKernel;
    },
  ) {
    this.order = new DecodeOrder(config);
  }

  /** Predicted peak memory for a checkpoint, from its header alone (no weights are read). */
  static predictMemory(config: Llama2cConfig, program = loadModelProgram('llama')): MemoryPrediction {
    const model = new BoundModel(program, llamaRanks(config));
    const persistent = new Map([
      [model.bound('embed'), new Set(['emb'])],
      [model.bound('rope'), new Set<string>()],
      [model.bound('llama_layer'), new Set([...Object.keys(layerWeights), 'kc', 'vc'])],
      [model.bound('classify'), new Set(['rms_final', 'wcls'])],
    ]);
    const cacheBytes = 2 * config.nLayers * config.seqLen * config.kvDim * 4;
    return predictPeakMemory([...persistent.keys()], persistent, weightBytes(config) + cacheBytes);
  }

  /** Reads every weight (one tensor at a time from the checkpoint's source) and binds the kernels. */
  static async load(checkpoint: Llama2cCheckpoint, options: LlamaModelOptions = {}): Promise<LlamaModel> {
    const { config } = checkpoint;
    const program = options.program ?? loadModelProgram('llama');
    const runner = options.runner ?? runners['interp']!;
    const prediction = LlamaModel.predictMemory(config, program);
    const refused = memoryLimitError(
      checkpoint.source.name,
      prediction.totalBytes,
      'at its peak',
      options.maxMemoryBytes,
      '--max-memory',
    );
    if (refused) throw refused;

    const meter = new MemoryMeter();
    const weights = new Map<Llama2cTensorName, Tensor>();
    for await (const tensor of checkpoint.streamTensors()) {
      weights.set(tensor.name, f32Tensor(tensor.shape, tensor.data));
      meter.own(tensor.data);
    }
    const weight = (name: Llama2cTensorName) => weights.get(name)!;
    const cacheShape = [config.nLayers, config.seqLen, config.kvDim];
    const cache = {
      keys: new Float32Array(config.nLayers * config.seqLen * config.kvDim),
      values: new Float32Array(config.nLayers * config.seqLen * config.kvDim),
    };
    const scalars = { tok: scalarI32(), pos: scalarI32(), layer: scalarI32() };
    const placeholder = (shape: readonly number[]) => f32Tensor(shape, new Float32Array(shape[0]!));
    meter.own(cache.keys, cache.values, scalars.tok.data, scalars.pos.data, scalars.layer.data);

    const model = new BoundModel(program, llamaRanks(config));
    const observe = (outputs: Parameters<MemoryMeter['observe']>[0]) => meter.observe(outputs);
    const half = config.headSize / 2;
    const kernels = {
      embed: model.prepare(
        'embed',
        runner,
        { emb: weight('token_embedding_table'), tok: scalars.tok },
        observe,
      ),
      rope: model.prepare('rope', runner, { pos: scalars.pos }, observe),
      layer: model.prepare(
        'llama_layer',
        runner,
        {
          ...Object.fromEntries(Object.entries(layerWeights).map(([param, name]) => [param, weight(name)])),
          x: placeholder([config.dim]),
          layer: scalars.layer,
          pos: scalars.pos,
          rope_cos: placeholder([half]),
          rope_sin: placeholder([half]),
          kc: f32Tensor(cacheShape, cache.keys),
          vc: f32Tensor(cacheShape, cache.values),
        },
        observe,
      ),
      classify: model.prepare(
        'classify',
        runner,
        {
          x: placeholder([config.dim]),
          rms_final: weight('rms_final_weight'),
          wcls: weight(config.sharedClassifier ? 'token_embedding_table' : 'wcls'),
        },
        observe,
      ),
    };
    return new LlamaModel(
      config,
      prediction,
      meter,
      cache,
      { tok: scalars.tok.data, pos: scalars.pos.data, layer: scalars.layer.data },
      kernels,
    );
  }

  /**
   * Logits for the token after `token` at position `pos` (run.c forward()). Positions are fed in
   * order from 0; feeding 0 again starts a new sequence (the cache rows before pos are all rewritten
   * before they are read again, so nothing needs clearing).
   */
  async forward(token: number, pos: number): Promise<Float32Array> {
    const { seqLen, nLayers, kvDim } = this.config;
    this.order.step(token, pos);
    this.scalars.tok[0] = token;
    this.scalars.pos[0] = pos;
    const { embed, rope, layer, classify } = this.kernels;

    const x = (await embed.run())['X']!;
    const rotation = await rope.run();
    layer.set('rope_cos', rotation['COS']!);
    layer.set('rope_sin', rotation['SIN']!);
    const logits = await runDecoderStack(x, layer, nLayers, classify, {
      before: (l) => {
        this.scalars.layer[0] = l;
      },
      store: (l, keys, values) => {
        // The cache is the runtime's: this token's key and value rows go in at [l, pos].
        const row = (l * seqLen + pos) * kvDim;
        this.cache.keys.set(keys, row);
        this.cache.values.set(values, row);
      },
    });
    this.memory.sampleProcess();
    return logits;
  }
}

/** Bytes of the checkpoint's weights as loaded (not the legacy RoPE tables, which are skipped). */
function weightBytes(config: Llama2cConfig): number {
  const { dim, hiddenDim, nLayers, nHeads, headSize, kvDim, vocabSize } = config;
  const perLayer = 2 * dim + 2 * nHeads * headSize * dim + 2 * kvDim * dim + 3 * hiddenDim * dim;
  const classifier = config.sharedClassifier ? 0 : vocabSize * dim;
  return 4 * (vocabSize * dim + nLayers * perLayer + dim + classifier);
}
