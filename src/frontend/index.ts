// The front door of the front-end: source text → checked Cascade IR.
import { readFileSync } from 'node:fs';
import type { CascadeProgram } from '../ir/cascade.js';
import { check } from './check.js';
import { EinError } from './diagnostics.js';
import { parse } from './parser.js';

export function checkSource(source: string, file = '<input>'): CascadeProgram {
  return check(parse(source, file), file, source);
}

export function readSource(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new EinError({
      message:
        code === 'ENOENT'
          ? `${file}: no such file`
          : code === 'EISDIR'
            ? `${file} is a directory`
            : `${file}: cannot read (${code ?? String(e)})`,
    });
  }
}

export function checkFile(file: string): CascadeProgram {
  return checkSource(readSource(file), file);
}
