import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Llama2cCheckpoint } from '../../src/runtime/llama2c.js';
import { openFileSource } from '../../src/runtime/node-file-io.js';
import { Llama2cTokenizer } from '../../src/runtime/tokenizer.js';

// The shared real-weights directory lives next to the repository (../shared/models), never inside it.
const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const sharedModelsDir = resolve(repoRoot, '../shared/models');

export const storiesCheckpointPath = join(sharedModelsDir, 'stories260K.bin');
export const storiesTokenizerPath = join(sharedModelsDir, 'tok512.bin');
export const goldenTextPath = join(sharedModelsDir, 'golden-once-upon-a-time.txt');

export const haveStoriesModel = [storiesCheckpointPath, storiesTokenizerPath, goldenTextPath].every((path) =>
  existsSync(path),
);
export const missingModelMessage = `stories260K files not found in ${sharedModelsDir}; skipping tests on real weights`;

/** haveStoriesModel, for a test file to skip on; warns why when the files are missing. */
export function storiesModelPresent(): boolean {
  if (!haveStoriesModel) console.warn(missingModelMessage);
  return haveStoriesModel;
}

/** Opens stories260K's checkpoint for `load` (which reads what it needs), and closes it again. */
export async function loadStories<T>(load: (checkpoint: Llama2cCheckpoint) => Promise<T>): Promise<T> {
  const checkpoint = await Llama2cCheckpoint.open(await openFileSource(storiesCheckpointPath));
  try {
    return await load(checkpoint);
  } finally {
    await checkpoint.close();
  }
}

/** stories260K's tokenizer (tok512.bin) for a vocabulary of `vocabSize` tokens. */
export async function loadStoriesTokenizer(vocabSize: number): Promise<Llama2cTokenizer> {
  const source = await openFileSource(storiesTokenizerPath);
  try {
    return await Llama2cTokenizer.load(source, vocabSize);
  } finally {
    await source.close();
  }
}

/** llama2.c's greedy transcript of stories260K from "Once upon a time" (256 positions). */
export const readGoldenText = (): Promise<string> => readFile(goldenTextPath, 'utf8');
