/**
 * Benchmark children: each engine runs in a fresh Node process so its peak RSS, its threads and its
 * JIT state are its own. The request goes in as one JSON argument; the child's last stdout line is its
 * JSON answer.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const repositoryRoot = fileURLToPath(new URL('..', import.meta.url));
/** binaryen is imported before tsx so tsx does not transpile its 14 MB index.js. */
const CHILD_FLAGS = [
  '--import',
  'binaryen',
  '--import',
  'tsx',
  '--experimental-wasm-relaxed-simd',
  '--expose-gc',
];

/** Runs `script` (relative to the repository) with `request`; `empty` is the answer when it prints none. */
export async function runBenchChild<T>(
  script: string,
  request: unknown,
  timeoutMs: number,
  empty: string,
): Promise<T> {
  const { stdout } = await run(process.execPath, [...CHILD_FLAGS, script, JSON.stringify(request)], {
    cwd: repositoryRoot,
    maxBuffer: 1 << 24,
    timeout: timeoutMs,
  });
  return JSON.parse(stdout.trim().split('\n').at(-1) ?? empty) as T;
}
