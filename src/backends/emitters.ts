// What `ein compile -o DIR` writes for each target besides the Loop IR: backends register here.
import type { TargetName } from './targets.js';
import type { CompileState } from '../passes/state.js';
import { emitWasm } from './wasm/emit.js';

/** Writes the target's files for a compiled kernel into `dir`; returns the paths written. */
export type Emitter = (state: CompileState, dir: string) => Promise<string[]>;

export const emitters: Partial<Record<TargetName, Emitter>> = { wasm: emitWasm };
