/**
 * The llama2.c-style C peer (llama2c-forward.c): built at bench time with the system C compiler the
 * way llama2.c's Makefile builds run.c (`make run`: -O3; `make runfast`: -Ofast -march=native), run on
 * the same checkpoint and token sequence as Ein, and read back as tokens/s and the token ids.
 */
import { execFile } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const SOURCE = new URL('./llama2c-forward.c', import.meta.url).pathname;

/** llama2.c's Makefile targets and their flags. */
export const LLAMA2C_BUILDS = {
  run: ['-O3'],
  runfast: ['-Ofast', '-march=native'],
} as const;
export type Llama2cBuild = keyof typeof LLAMA2C_BUILDS;

export interface Llama2cResult {
  readonly positions: number;
  readonly tokensPerSecond: number;
  /** BOS, the prompt's tokens and the greedy ones, as Ein's generate() returns them. */
  readonly tokens: readonly number[];
}

/** The first C compiler found, or undefined. */
async function findCompiler(): Promise<string | undefined> {
  for (const cc of [process.env.CC, 'cc', 'gcc', 'clang'].filter((c): c is string => !!c)) {
    try {
      await run(cc, ['--version']);
      return cc;
    } catch {
      // not installed: try the next
    }
  }
  return undefined;
}

/** Builds both variants into a fresh temporary directory; undefined (with the reason) when it cannot. */
export async function buildLlama2cPeer(): Promise<Record<Llama2cBuild, string> | { skipped: string }> {
  const cc = await findCompiler();
  if (!cc) return { skipped: 'no C compiler (cc, gcc or clang) on PATH' };
  const dir = await mkdtemp(join(tmpdir(), 'ein-llama2c-'));
  const out = {} as Record<Llama2cBuild, string>;
  for (const [name, flags] of Object.entries(LLAMA2C_BUILDS) as [Llama2cBuild, readonly string[]][]) {
    out[name] = join(dir, name);
    try {
      await run(cc, [...flags, '-o', out[name], SOURCE, '-lm']);
    } catch (error) {
      return { skipped: `${cc} ${flags.join(' ')} failed: ${(error as Error).message.split('\n')[0]}` };
    }
  }
  return out;
}

/** Runs a built peer: `steps` positions from the given tokens (BOS first), median of `repeats`. */
export async function runLlama2cPeer(
  binary: string,
  checkpoint: string,
  steps: number,
  repeats: number,
  promptTokens: readonly number[],
): Promise<Llama2cResult> {
  const { stdout } = await run(binary, [
    checkpoint,
    String(steps),
    String(repeats),
    ...promptTokens.map(String),
  ]);
  return JSON.parse(stdout) as Llama2cResult;
}
