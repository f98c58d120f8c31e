import { checkFile } from '../../frontend/index.js';
import { EinError } from '../../frontend/diagnostics.js';
import type { CliIO } from '../io.js';

/** `ein check FILE...`: every file is checked; all errors are reported; exit 1 if any failed. */
export function checkCommand(files: readonly string[], io: CliIO): number {
  let failed = 0;
  for (const file of files) {
    try {
      const program = checkFile(file);
      io.out(`${file}: ok (${program.kernels.map((k) => k.name).join(', ') || 'no kernels'})`);
    } catch (e) {
      if (!(e instanceof EinError)) throw e;
      io.err(e.format());
      failed++;
    }
  }
  return failed > 0 ? 1 : 0;
}
