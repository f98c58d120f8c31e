// Greedy decoding of stories260K for the model tests: run.c with -t 0 (temperature 0, so the sampler
// takes the argmax and topp and seed play no part), through any model's forward().
import { generate, type ForwardFunction } from '../../src/runtime/generate-text.js';
import { Sampler } from '../../src/runtime/sampler.js';
import { loadStoriesTokenizer } from '../runtime/model-files.js';

/** The text greedy decoding prints for `steps` positions from `prompt`, prompt included. */
export async function greedyText(
  config: { readonly vocabSize: number; readonly seqLen: number },
  prompt: string,
  steps: number,
  forward: ForwardFunction,
): Promise<string> {
  const { vocabSize, seqLen } = config;
  const tokenizer = await loadStoriesTokenizer(vocabSize);
  const sampler = new Sampler({ vocabSize, temperature: 0, topp: 0.9, seed: 0 });
  return (await generate({ tokenizer, sampler, steps, seqLen, prompt, forward })).text;
}
