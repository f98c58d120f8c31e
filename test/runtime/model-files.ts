import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

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
