import { readFile } from 'node:fs/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import { generate } from '../../src/runtime/generate-text.js';
import { Llama2cCheckpoint, type Llama2cConfig } from '../../src/runtime/llama2c.js';
import { openFileSource } from '../../src/runtime/node-file-io.js';
import { Sampler } from '../../src/runtime/sampler.js';
import { Llama2cTokenizer } from '../../src/runtime/tokenizer.js';
import {
  goldenTextPath,
  haveStoriesModel,
  missingModelMessage,
  storiesCheckpointPath,
  storiesTokenizerPath,
} from './model-files.js';
import { loadReferenceWeights, ReferenceLlama, type ReferenceWeights } from './reference-llama.js';

if (!haveStoriesModel) console.warn(missingModelMessage);

describe.skipIf(!haveStoriesModel)('stories260K through the reference Llama and the host runtime', () => {
  let config: Llama2cConfig;
  let weights: ReferenceWeights;
  let tokenizer: Llama2cTokenizer;

  beforeAll(async () => {
    const checkpoint = await Llama2cCheckpoint.open(await openFileSource(storiesCheckpointPath));
    config = checkpoint.config;
    weights = await loadReferenceWeights(checkpoint);
    await checkpoint.close();
    const tokenizerSource = await openFileSource(storiesTokenizerPath);
    tokenizer = await Llama2cTokenizer.load(tokenizerSource, config.vocabSize);
    await tokenizerSource.close();
  });

  const run = (options: {
    temperature: number;
    topp?: number;
    seed?: number;
    steps: number;
    prompt: string;
  }) => {
    const model = new ReferenceLlama(config, weights);
    const printed: string[] = [];
    const sampler = new Sampler({ vocabSize: config.vocabSize, ...options });
    const forward = (token: number, pos: number) => model.forward(token, pos);
    const onText = (text: string) => printed.push(text);
    return generate({
      tokenizer,
      sampler,
      forward,
      onText,
      steps: options.steps,
      prompt: options.prompt,
    }).then((result) => ({ ...result, printed: printed.join('') }));
  };

  it('greedy decoding of 256 positions from "Once upon a time" prints the golden text', async () => {
    const result = await run({ temperature: 0, steps: 256, prompt: 'Once upon a time' });
    const golden = await readFile(goldenTextPath, 'utf8');
    expect(result.printed).toBe(golden);
    expect(result.text).toBe(golden);
  });

  it('seeded sampling prints what llama2.c run.c prints for the same settings', async () => {
    // Transcripts of llama2.c's run (`-t T -p P -s SEED -n STEPS -i PROMPT`), without the final newline.
    const cases = [
      {
        options: { temperature: 1, topp: 0.9, seed: 42, steps: 40, prompt: 'Once upon a time' },
        text: 'Once upon a time, there was a brave little boy named Tim. Tim loved to play with his toys and make blocks. One',
      },
      {
        options: { temperature: 0.7, topp: 0, seed: 7, steps: 40, prompt: 'Lily' },
        text: 'Lily had a toy car. She had a big police. She wanted to find some big cars and pedals, but',
      },
      {
        options: { temperature: 1, topp: 0.9, seed: 3, steps: 60, prompt: '' },
        text: 'One day, a little boy named Tim went to the park with his mom. He saw a big blanket on his door. Tim liked to play in the garden. He showed his mom and Jane.',
      },
    ];
    for (const { options, text } of cases) expect((await run(options)).printed).toBe(text);
  });

  it('seeded sampling is reproducible and depends on the seed', async () => {
    const settings = { temperature: 1, topp: 0.9, steps: 64, prompt: 'Once upon a time' };
    const first = await run({ ...settings, seed: 1234 });
    const again = await run({ ...settings, seed: 1234 });
    const other = await run({ ...settings, seed: 99 });
    expect(again.tokens).toEqual(first.tokens);
    expect(again.text).toBe(first.text);
    expect(other.tokens).not.toEqual(first.tokens);
  });
});
