// The Ein source of a model, checked once. The models' math lives in examples/*.ein (the same files
// `ein check` and the docs show), found relative to this module so it works from src/ and dist/ alike.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { checkFile } from '../frontend/index.js';
import type { CascadeProgram } from '../ir/cascade.js';
import { EinRuntimeError } from './errors.js';

export type ModelSourceName = 'llama' | 'gpt2';

export function modelSourcePath(name: ModelSourceName): string {
  return fileURLToPath(new URL(`../../examples/${name}.ein`, import.meta.url));
}

const checked = new Map<string, CascadeProgram>();

/** Parses and checks `examples/NAME.ein` (or `path`) once per process; later calls reuse the result. */
export function loadModelProgram(name: ModelSourceName, path = modelSourcePath(name)): CascadeProgram {
  const cached = checked.get(path);
  if (cached) return cached;
  if (!existsSync(path)) throw new EinRuntimeError(`the ${name} model's Ein source is missing: ${path}`);
  const program = checkFile(path);
  checked.set(path, program);
  return program;
}
