// Messages between the page and the run worker (wasm-worker.ts).
import type { Tensor } from '../../src/index.js';
import type { Options } from './controls.js';

/** The page's compile options, so the worker compiles exactly the kernel the page shows. */
export type RunOptions = Options;

export interface RunRequest {
  readonly id: number;
  /** 'wasm' runs the compiled kernel; 'interp' the reference interpreter, the oracle. */
  readonly kind: 'wasm' | 'interp';
  readonly source: string;
  readonly options: RunOptions;
  readonly inputs: Readonly<Record<string, Tensor>>;
}

export type RunReply =
  | { readonly id: number; readonly ok: true; readonly outputs: Record<string, Tensor>; readonly ms: number }
  | { readonly id: number; readonly ok: false; readonly error: string };
