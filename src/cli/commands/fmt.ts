import { writeFileSync } from 'node:fs';
import { format } from '../../frontend/format.js';
import { readSource } from '../../frontend/index.js';
import type { CliIO } from '../io.js';

export interface FmtOptions {
  readonly write?: boolean;
  readonly check?: boolean;
}

/** `ein fmt FILE... [--write | --check]`: print, rewrite in place, or list the files that would change. */
export function fmtCommand(files: readonly string[], opts: FmtOptions, io: CliIO): number {
  let unformatted = 0;
  for (const file of files) {
    const source = readSource(file);
    const formatted = format(source, file);
    if (opts.check) {
      if (formatted !== source) {
        io.err(`${file}: not formatted (run ein fmt --write ${file})`);
        unformatted++;
      }
    } else if (opts.write) {
      if (formatted !== source) writeFileSync(file, formatted);
    } else io.out(formatted.trimEnd());
  }
  return unformatted > 0 ? 1 : 0;
}
