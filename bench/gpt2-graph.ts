/**
 * GPT-2 small for the benchmark: its configuration, seeded random weights (identical in every
 * process, generated straight into whatever buffer holds them), and the ONE ONNX graph onnxruntime-web
 * runs for both prefill and decode, as Hugging Face's merged decoder exports it: inputs are the new
 * tokens, their positions, an additive attention mask [T, past + T] and each layer's past keys and
 * values [H, past, E]; outputs are the logits after the last new token and each layer's present keys
 * and values (past and new, concatenated), which the next step feeds back as its past. A prefill is a
 * run with past = 0 and a causal mask, a decode step a run with T = 1 and a zero mask.
 */
import { expectedShapes, type Gpt2Config } from '../src/runtime/gpt2-runner.js';
import type { OnnxGraph, OnnxNode } from './onnx-graph.js';

export const GPT2_SMALL: Gpt2Config = {
  dim: 768,
  nHeads: 12,
  nLayers: 12,
  hiddenDim: 3072,
  vocabSize: 50257,
  maxPositions: 1024,
  seqLen: 1024,
};

/** Bytes a decode step must read: every weight except the position table, of which it reads a row. */
export function decodeWeightBytes(config: Gpt2Config): number {
  let elements = 0;
  for (const [name, shape] of expectedShapes(config))
    elements += name === 'wpe.weight' ? shape[1]! : shape.reduce((a, b) => a * b, 1);
  return elements * 4;
}

/** FNV-1a of the tensor's name: each tensor has its own stream of numbers whatever the load order. */
function seedOf(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return h >>> 0 || 1;
}

/**
 * Fills `into` with the weight `name` of GPT-2's files: norm gains near 1, biases small, matrices
 * uniform with the spread of 1/sqrt(fan-in) (a trained model's scale), embeddings ±0.1.
 */
export function fillGpt2Weight(name: string, shape: readonly number[], into: Float32Array): void {
  const gain = /ln_\w+\.weight$/.test(name);
  const scale =
    gain || /bias$/.test(name)
      ? 0.05
      : shape.length === 2 && !/^w[tp]e/.test(name)
        ? 1.7 / Math.sqrt(shape[0]!)
        : 0.1;
  let x = seedOf(name);
  for (let i = 0; i < into.length; i++) {
    // xorshift32: fast enough for 124 M values, and the same sequence in every process.
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    into[i] = (gain ? 1 : 0) + ((x >>> 0) / 2 ** 31 - 1) * scale;
  }
}

/** The prompt: PROMPT tokens, deterministic and spread over the vocabulary. */
export function benchPrompt(length: number, vocabSize: number): number[] {
  return Array.from({ length }, (_, i) => (i * 7919 + 13) % vocabSize);
}

/** The merged prefill/decode graph over GPT-2's weights in its Conv1D layout ([in, out]). */
export function gpt2OnnxGraph(c: Gpt2Config): OnnxGraph {
  const { dim: D, nHeads: H, nLayers: L, hiddenDim: F, vocabSize: V } = c;
  const E = D / H;
  const nodes: OnnxNode[] = [];
  const op = (type: string, inputs: string[], output: string, attributes?: OnnxNode['attributes']) => {
    nodes.push({ op: type, inputs, outputs: [output], ...(attributes ? { attributes } : {}) });
    return output;
  };
  const initializers: OnnxGraph['initializers'] = [];
  const weight = (name: string, dims: number[]) => {
    initializers.push({ name, dims, data: (into) => fillGpt2Weight(name, dims, into) });
    return name;
  };
  const constant = (name: string, value: number) => {
    initializers.push({ name, dims: [], data: new Float32Array([value]) });
    return name;
  };
  const ints = (name: string, values: number[]) => {
    initializers.push({ name, dims: [values.length], data: BigInt64Array.from(values.map(BigInt)) });
    return name;
  };
  const layerNorm = (x: string, prefix: string, out: string) =>
    op('LayerNormalization', [x, weight(`${prefix}.weight`, [D]), weight(`${prefix}.bias`, [D])], out, {
      axis: -1,
      epsilon: { float: 1e-5 },
    });
  const linear = (x: string, prefix: string, dims: [number, number], out: string) =>
    op(
      'Add',
      [op('MatMul', [x, weight(`${prefix}.weight`, dims)], `${out}_mm`), weight(`${prefix}.bias`, [dims[1]])],
      out,
    );

  ints('heads_shape', [0, H, E]);
  ints('rows_shape', [0, D]);
  ints('last', [-1]);
  constant('scale', 1 / Math.sqrt(E));
  constant('half', 0.5);
  constant('one', 1);
  constant('gelu_c', 0.7978845608028654);
  constant('gelu_k', 0.044715);
  const wte = weight('wte.weight', [V, D]);
  let x = op(
    'Add',
    [
      op('Gather', [wte, 'input_ids'], 'tok_emb'),
      op('Gather', [weight('wpe.weight', [c.maxPositions, D]), 'position_ids'], 'pos_emb'),
    ],
    'x0',
  );
  for (let l = 0; l < L; l++) {
    const p = `h.${l}.`;
    const n = (name: string) => `l${l}_${name}`;
    const qkv = linear(layerNorm(x, `${p}ln_1`, n('ln1')), `${p}attn.c_attn`, [D, 3 * D], n('qkv'));
    nodes.push({ op: 'Split', inputs: [qkv], outputs: [n('q'), n('k'), n('v')], attributes: { axis: 1 } });
    // [T, D] → [H, T, E]
    const heads = (t: string) =>
      op('Transpose', [op('Reshape', [t, 'heads_shape'], `${t}_r`)], `${t}_h`, { perm: [1, 0, 2] });
    const k = op('Concat', [`past_key_${l}`, heads(n('k'))], `present_key_${l}`, { axis: 1 });
    const v = op('Concat', [`past_value_${l}`, heads(n('v'))], `present_value_${l}`, { axis: 1 });
    const scores = op('MatMul', [heads(n('q')), op('Transpose', [k], n('kt'), { perm: [0, 2, 1] })], n('s'));
    const masked = op('Add', [op('Mul', [scores, 'scale'], n('ss')), 'attention_mask'], n('sm'));
    const attended = op('MatMul', [op('Softmax', [masked], n('pr'), { axis: -1 }), v], n('av'));
    const rows = op(
      'Reshape',
      [op('Transpose', [attended], n('avt'), { perm: [1, 0, 2] }), 'rows_shape'],
      n('avr'),
    );
    const xAtt = op('Add', [x, linear(rows, `${p}attn.c_proj`, [D, D], n('proj'))], n('xatt'));
    const u = linear(layerNorm(xAtt, `${p}ln_2`, n('ln2')), `${p}mlp.c_fc`, [D, F], n('u'));
    // GELU, tanh form: 0.5 u (1 + tanh(c (u + k u³)))
    const u3 = op('Mul', [op('Mul', [u, u], n('u2')), u], n('u3'));
    const inner = op(
      'Mul',
      [op('Add', [u, op('Mul', [u3, 'gelu_k'], n('ku3'))], n('uk')), 'gelu_c'],
      n('in'),
    );
    const gate = op('Add', [op('Tanh', [inner], n('th')), 'one'], n('th1'));
    const gelu = op('Mul', [op('Mul', [u, gate], n('ug')), 'half'], n('gelu'));
    x = op('Add', [xAtt, linear(gelu, `${p}mlp.c_proj`, [F, D], n('mlp'))], n('x'));
  }
  const last = op('Gather', [x, 'last'], 'x_last', { axis: 0 });
  const final = layerNorm(last, 'ln_f', 'x_final');
  op('Gemm', [final, wte], 'logits', { transB: 1 });
  const past = Array.from({ length: L }, (_, l) => [`past_key_${l}`, `past_value_${l}`]).flat();
  return {
    opset: 17,
    nodes,
    initializers,
    inputs: [
      { name: 'input_ids', dims: ['T'], type: 'int64' },
      { name: 'position_ids', dims: ['T'], type: 'int64' },
      { name: 'attention_mask', dims: ['T', 'K'] },
      ...past.map((name) => ({ name, dims: [H, 'P', E] })),
    ],
    outputs: [
      { name: 'logits', dims: [1, V] },
      ...past.map((name) => ({ name: name.replace('past', 'present'), dims: [H, 'K', E] })),
    ],
  };
}
