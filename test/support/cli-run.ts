// Run the `ein` CLI in-process and capture what it prints, as a terminal would show it.
import { main } from '../../src/cli/main.js';

export interface CliResult {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

/** `ein ARGV...` through main(argv, io); each write ends with a newline, as processIO does. */
export async function ein(...argv: string[]): Promise<CliResult> {
  const out: string[] = [];
  const err: string[] = [];
  const line = (t: string) => (t.endsWith('\n') ? t : t + '\n');
  const code = await main(argv, { out: (t) => out.push(line(t)), err: (t) => err.push(line(t)) });
  return { code, out: out.join(''), err: err.join('') };
}

/** No stack trace: no `    at fn (file:line:col)` frames, no `Error:` dumps. */
export function expectNoStackTrace(text: string): void {
  if (/^\s+at .+[:(]/m.test(text) || /^\w*Error: /m.test(text))
    throw new Error(`output contains a stack trace:\n${text}`);
}
