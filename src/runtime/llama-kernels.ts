// What the persistent Llama models share, whatever device holds them (wgsl-model-llama.ts; the same
// table is in wasm-model-llama.ts, whose owner can import it from here): examples/llama.ein's four
// kernels with the buffers they share, which checkpoint tensor fills which buffer, and the checks on
// a forward call's token and position.
import { EinRuntimeError } from './errors.js';
import type { Llama2cConfig, Llama2cTensorName } from './llama2c.js';
import type { ModelKernelSpec } from './wasm-model.js';

/** Checkpoint tensor → its resident buffer (the kernels' parameter names). */
export const llamaResidentNameOf: Readonly<Partial<Record<Llama2cTensorName, string>>> = {
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

/** run.c forward()'s preconditions: a token of the vocabulary, positions in order from 0. */
export function checkLlamaStep(config: Llama2cConfig, token: number, pos: number, nextPos: number): void {
  const { vocabSize, seqLen } = config;
  if (!Number.isInteger(token) || token < 0 || token >= vocabSize)
    throw new EinRuntimeError(`token ${token} is outside the vocabulary (0..${vocabSize - 1})`);
  if (!Number.isInteger(pos) || pos < 0 || pos >= seqLen)
    throw new EinRuntimeError(`position ${pos} is outside the model's sequence length (0..${seqLen - 1})`);
  if (pos > nextPos)
    throw new EinRuntimeError(
      `position ${pos} skips ahead: positions 0..${pos - 1} are not in the cache yet`,
    );
}
