// `ein generate` in-process through main(argv, io): the text on stdout, speed and memory on stderr,
// and clear one-line errors (no stack traces) for bad files and flags. `--target wgsl` runs on the
// WebGPU adapter of the tests (lavapipe in CI; skipped with the reason outside CI when there is none).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import {
  haveStoriesModel,
  missingModelMessage,
  readGoldenText,
  storiesCheckpointPath,
  storiesTokenizerPath,
} from '../runtime/model-files.js';
import { buildTokenizerFile, llamaStyleVocab } from '../runtime/fixtures.js';
import { randomLlamaCheckpoint } from './random-llama.js';
import { gpuForTests } from '../wgsl/gpu-for-tests.js';

async function ein(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (t) => out.push(t), err: (t) => err.push(t) });
  return { code, stdout: out.join(''), stderr: err.join('\n') };
}

// A random model over a 261-token vocabulary (llama2.c's specials and byte tokens, ' ' and ' a'), so the error paths run without the real files.
const dir = mkdtempSync(join(tmpdir(), 'ein-generate-'));
const tinyShape = {
  dim: 8,
  hiddenDim: 12,
  nLayers: 1,
  nHeads: 2,
  nKvHeads: 1,
  vocabSize: 261,
  seqLen: 6,
  sharedClassifier: true,
};
const tinyModel = join(dir, 'tiny.bin');
const tinyTokenizer = join(dir, 'tiny-tok.bin');
const truncatedModel = join(dir, 'truncated.bin');
const modelBytes = randomLlamaCheckpoint(tinyShape);
writeFileSync(tinyModel, modelBytes);
writeFileSync(truncatedModel, modelBytes.subarray(0, modelBytes.length - 10));
writeFileSync(
  tinyTokenizer,
  buildTokenizerFile(
    llamaStyleVocab([
      { piece: ' ', score: 0 },
      { piece: ' a', score: 1 },
    ]),
  ),
);
// The reference interpreter, so these tests check the CLI's own paths whatever the default target.
const tiny = ['generate', '--model', tinyModel, '--tokenizer', tinyTokenizer, '--target', 'interp'];

const expectCleanError = (result: { code: number; stderr: string }, pattern: RegExp) => {
  expect(result.code).toBe(1);
  expect(result.stderr).toMatch(pattern);
  expect(result.stderr).not.toMatch(/\n\s+at /);
  expect(result.stderr).not.toMatch(/internal error/);
};

describe('ein generate on a random tiny model', () => {
  it('runs, printing only text on stdout and speed and memory on stderr', async () => {
    const result = await ein(...tiny, '--prompt', 'a', '--steps', '5', '--temperature', '0.8', '--seed', '3');
    expect(result.code).toBe(0);
    expect(result.stdout.startsWith('a')).toBe(true);
    expect(result.stdout.endsWith('\n')).toBe(true);
    expect(result.stderr).toMatch(/achieved tok\/s: \d/);
    expect(result.stderr).toMatch(/predicted peak memory: .*\(\d+ B/);
    expect(result.stderr).toMatch(/measured peak memory: .*\(\d+ B held/);
  });

  it('refuses --max-memory below the predicted need, naming the need', async () => {
    expectCleanError(
      await ein(...tiny, '--max-memory', '1KiB'),
      /needs [\d.]+ KiB \(\d+ bytes\) at its peak/,
    );
  });

  it('reports missing and corrupt files and bad flags clearly', async () => {
    expectCleanError(
      await ein('generate', '--model', join(dir, 'nope.bin'), '--tokenizer', tinyTokenizer),
      /nope\.bin/,
    );
    expectCleanError(
      await ein('generate', '--model', truncatedModel, '--tokenizer', tinyTokenizer),
      /truncated\.bin: truncated/,
    );
    expectCleanError(
      await ein('generate', '--model', tinyModel, '--tokenizer', tinyModel),
      /not a llama2\.c tokenizer/,
    );
    expectCleanError(await ein(...tiny, '--temperature', 'warm'), /'warm' is not a number/);
    expectCleanError(await ein(...tiny, '--top-p', '1.5'), /--top-p 1\.5/);
    expectCleanError(await ein(...tiny, '--steps', '-3'), /--steps -3/);
    expectCleanError(await ein(...tiny, '--target', 'abacus'), /abacus/);
    expectCleanError(await ein('generate', '--tokenizer', tinyTokenizer), /--model/);
  });
});

if (!haveStoriesModel) console.warn(missingModelMessage);

/** `ein generate` greedily from "Once upon a time" on stories260K, with any further flags. */
const greedyOnStories = (steps: number, ...flags: string[]) =>
  ein(
    'generate',
    '--model',
    storiesCheckpointPath,
    '--tokenizer',
    storiesTokenizerPath,
    '--prompt',
    'Once upon a time',
    '--steps',
    String(steps),
    '--temperature',
    '0',
    ...flags,
  );

describe.skipIf(!haveStoriesModel)('ein generate on stories260K', () => {
  it('prints the golden text greedily, prompt included, as llama2.c does', async () => {
    const steps = 24;
    const result = await greedyOnStories(steps);
    expect(result.code).toBe(0);
    const golden = await readGoldenText();
    const text = result.stdout.slice(0, -1);
    expect(result.stdout.endsWith('\n')).toBe(true);
    expect(text.length).toBeGreaterThan('Once upon a time'.length + 20);
    expect(golden.startsWith(text)).toBe(true);
    expect(result.stderr).toMatch(/achieved tok\/s: [\d.]+ \(24 positions/);
  });
});

const { gpu, title: gpuTitle } = await gpuForTests('ein generate --target wgsl');
// The CLI acquires its own device; this one only tells whether there is an adapter.
gpu?.destroy();

describe.skipIf(!gpu)(gpuTitle, () => {
  it.skipIf(!haveStoriesModel)(
    'prints the golden text byte for byte from the persistent WebGPU model',
    async () => {
      const result = await greedyOnStories(256, '--target', 'wgsl');
      expect(result.code).toBe(0);
      expect(result.stdout).toBe((await readGoldenText()) + '\n');
      expect(result.stderr).toMatch(/achieved tok\/s: [\d.]+ \(256 positions in [\d.]+ s, target wgsl\)/);
      expect(result.stderr).toMatch(/device: .* via /);
      expect(result.stderr).toMatch(/predicted peak memory: .*\(\d+ B of GPU buffers/);
      expect(result.stderr).toMatch(/measured peak memory: .*\(\d+ B: GPU buffers allocated/);
    },
    120_000,
  );

  it('refuses --max-memory below the planned GPU buffers, naming the need', async () => {
    expectCleanError(
      await ein(...tiny, '--target', 'wgsl', '--max-memory', '1KiB'),
      /needs [\d.]+ KiB \(\d+ bytes\) of GPU buffers, more than the 1 KiB \(1024 bytes\)/,
    );
  }, 60_000);
});

// Without a Vulkan driver Dawn finds no adapter; the built CLI must say so in one line and exit 1.
const built = existsSync('dist/cli/main.js');
describe(
  built
    ? 'ein generate --target wgsl without an adapter'
    : 'no adapter: skipped, dist/ is missing (run `npm run build`)',
  () => {
    it.skipIf(!built)(
      'says how to get one, without a stack trace',
      () => {
        const r = spawnSync(process.execPath, ['bin/ein.js', ...tiny, '--target', 'wgsl'], {
          encoding: 'utf8',
          env: {
            ...process.env,
            VK_ICD_FILENAMES: join(dir, 'no-driver.json'),
            VK_ADD_DRIVER_FILES: '',
            XDG_CACHE_HOME: dir,
          },
          timeout: 60_000,
        });
        expect(r.status).toBe(1);
        expect(r.stderr).toMatch(/error: --target wgsl: No WebGPU adapter.*cpu-webgpu\.sh/);
        // Dawn prints its own native warnings; a JavaScript stack trace would name a .js or .ts file.
        expect(r.stderr).not.toMatch(/\n\s+at .*\.[jt]s:\d+/);
        expect(r.stdout).toBe('');
      },
      60_000,
    );
  },
);
