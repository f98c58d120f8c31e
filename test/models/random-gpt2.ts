// Small GPT-2 checkpoints with seeded random weights under GPT-2's tensor names, as safetensors files
// in memory, for testing the Ein models against reference-gpt2.ts without the real files.
import { expect } from 'vitest';
import { seededRandom } from '../../src/ir/tensor.js';
import { memoryByteSource } from '../../src/runtime/byte-source.js';
import { SafetensorsFile } from '../../src/runtime/safetensors.js';
import { serializeSafetensors, type SafetensorsWriteEntry } from '../../src/runtime/safetensors-writer.js';
import type { Gpt2Shape } from './reference-gpt2.js';

export function randomGpt2Weights(
  s: Gpt2Shape,
  seed: number,
): Map<string, { shape: number[]; data: Float32Array }> {
  const random = seededRandom(seed);
  const weights = new Map<string, { shape: number[]; data: Float32Array }>();
  const add = (name: string, dims: number[], scale: number, center = 0) => {
    const data = Float32Array.from(
      { length: dims.reduce((a, b) => a * b, 1) },
      () => center + (random() * 2 - 1) * scale,
    );
    weights.set(name, { shape: dims, data });
  };
  const { dim: D, hiddenDim: F } = s;
  add('wte.weight', [s.vocabSize, D], 0.5);
  add('wpe.weight', [s.maxPositions, D], 0.3);
  for (let l = 0; l < s.nLayers; l++) {
    const p = `h.${l}.`;
    add(p + 'ln_1.weight', [D], 0.3, 1);
    add(p + 'ln_1.bias', [D], 0.1);
    add(p + 'attn.c_attn.weight', [D, 3 * D], 0.5);
    add(p + 'attn.c_attn.bias', [3 * D], 0.1);
    add(p + 'attn.c_proj.weight', [D, D], 0.3);
    add(p + 'attn.c_proj.bias', [D], 0.1);
    add(p + 'ln_2.weight', [D], 0.3, 1);
    add(p + 'ln_2.bias', [D], 0.1);
    add(p + 'mlp.c_fc.weight', [D, F], 0.4);
    add(p + 'mlp.c_fc.bias', [F], 0.1);
    add(p + 'mlp.c_proj.weight', [F, D], 0.2);
    add(p + 'mlp.c_proj.bias', [D], 0.1);
  }
  add('ln_f.weight', [D], 0.3, 1);
  add('ln_f.bias', [D], 0.1);
  return weights;
}

export async function openAsSafetensors(
  weights: Map<string, { shape: number[]; data: Float32Array }>,
  prefix = '',
): Promise<SafetensorsFile> {
  const entries: SafetensorsWriteEntry[] = [...weights].map(([name, t]) => ({
    name: prefix + name,
    dtype: 'F32',
    shape: t.shape,
    data: t.data,
  }));
  return SafetensorsFile.open(
    memoryByteSource(await serializeSafetensors(entries), 'random-gpt2.safetensors'),
  );
}

/** Every logit within 1e-4 of the float64 reference, relative to max(1, |reference|). */
export function expectClose(actual: Float32Array, expected: Float64Array, what: string): void {
  for (let i = 0; i < expected.length; i++) {
    const error = Math.abs(actual[i]! - expected[i]!) / Math.max(1, Math.abs(expected[i]!));
    if (!(error < 1e-4)) expect.fail(`${what}, logit ${i}: got ${actual[i]}, expected ${expected[i]}`);
  }
}

export const argmax = (values: Float64Array): number =>
  values.reduce((best, v, i) => (v > values[best]! ? i : best), 0);
