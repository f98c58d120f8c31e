// What the persistent Llama models share, whatever device holds them (wasm-model-llama.ts,
// wgsl-model-llama.ts): examples/llama.ein's four kernels with the buffers they share, which
// checkpoint tensor fills which buffer, and the buffers a step moves between kernels.
import type { Llama2cCheckpoint, Llama2cConfig, Llama2cTensorName } from './llama2c.js';
import type { ModelKernelSpec } from './model-parts.js';

/** Checkpoint tensor → its resident buffer (the kernels' parameter names). */
const residentNameOf: Readonly<Partial<Record<Llama2cTensorName, string>>> = {
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

/** embed → rope → llama_layer × L → classify, sharing the activations, weights and the KV cache. */
export function llamaKernelSpecs(config: Llama2cConfig): ModelKernelSpec[] {
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

/** The resident buffers of a loaded model, by their linked names. */
interface ResidentBuffers {
  elements(name: string): number;
  write(name: string, data: Float32Array): void;
}

/** Streams the checkpoint's weights, one tensor at a time, into their resident buffers. */
export async function streamLlamaWeights(
  checkpoint: Llama2cCheckpoint,
  into: ResidentBuffers,
): Promise<void> {
  for await (const tensor of checkpoint.streamTensors()) {
    const name = residentNameOf[tensor.name];
    if (name === undefined) continue;
    const elements = into.elements(name);
    if (elements !== tensor.data.length)
      throw new Error(`internal: ${tensor.name} has ${tensor.data.length} elements, its buffer ${elements}`);
    into.write(name, tensor.data);
  }
}

/** The linked buffers a token's step copies from: the layer's output, key and value rows, the logits. */
export interface LlamaStepBuffers {
  readonly xOut: string;
  readonly kNew: string;
  readonly vNew: string;
  readonly logits: string;
}

export function llamaStepBuffers(model: { buffer(kernel: string, name: string): string }): LlamaStepBuffers {
  return {
    xOut: model.buffer('llama_layer', 'X_OUT'),
    kNew: model.buffer('llama_layer', 'K_NEW'),
    vNew: model.buffer('llama_layer', 'V_NEW'),
    logits: model.buffer('classify', 'LOGITS'),
  };
}
