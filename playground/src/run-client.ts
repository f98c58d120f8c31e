// The page's side of running: one long-lived worker (so a compiled kernel and its thread pool stay
// warm between runs), random inputs shared by every target, and the check against the interpreter.
import type { Tensor } from '../../src/index.js';
import type { RunOptions, RunReply, RunRequest } from './run-protocol.js';

let worker: Worker | undefined;
let nextId = 1;
const pending = new Map<number, (reply: RunReply) => void>();

function runWorker(): Worker {
  if (worker) return worker;
  worker = new Worker(new URL('./wasm-worker.ts', import.meta.url), { type: 'module' });
  worker.onmessage = (event: MessageEvent<RunReply>) => {
    pending.get(event.data.id)?.(event.data);
    pending.delete(event.data.id);
  };
  // A worker that fails to load or crashes answers nothing: fail every pending run with the reason.
  worker.onerror = (event) => {
    event.preventDefault();
    const error = `the run worker failed: ${event.message || 'it could not be loaded'}`;
    for (const [id, resolve] of pending) resolve({ id, ok: false, error });
    pending.clear();
    worker?.terminate();
    worker = undefined;
  };
  return worker;
}

export function runInWorker(
  kind: RunRequest['kind'],
  source: string,
  options: RunOptions,
  inputs: Readonly<Record<string, Tensor>>,
): Promise<RunReply> {
  const id = nextId++;
  return new Promise((resolve) => {
    pending.set(id, resolve);
    runWorker().postMessage({ id, kind, source, options, inputs } satisfies RunRequest);
  });
}

export interface OutputCheck {
  readonly name: string;
  readonly shape: readonly number[];
  readonly maxAbsError: number;
  readonly pass: boolean;
  readonly sample: readonly number[];
}

const ABSOLUTE = 1e-3;
const RELATIVE = 1e-3;

/** Each output against the interpreter's: |got − want| ≤ 1e-3 + 1e-3·|want| everywhere. */
export function checkOutputs(
  got: Readonly<Record<string, Tensor>>,
  want: Readonly<Record<string, Tensor>>,
): OutputCheck[] {
  return Object.entries(want).map(([name, reference]) => {
    const actual = got[name];
    if (!actual || actual.data.length !== reference.data.length)
      return { name, shape: reference.shape, maxAbsError: Infinity, pass: false, sample: [] };
    let maxAbsError = 0;
    let pass = true;
    for (let i = 0; i < reference.data.length; i++) {
      const [a, b] = [actual.data[i]!, reference.data[i]!];
      if (Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b))) continue;
      const error = Math.abs(a - b);
      maxAbsError = Math.max(maxAbsError, error);
      if (!(error <= ABSOLUTE + RELATIVE * Math.abs(b))) pass = false;
    }
    return { name, shape: reference.shape, maxAbsError, pass, sample: Array.from(actual.data.slice(0, 6)) };
  });
}
