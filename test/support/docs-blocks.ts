// Fenced code blocks of the Markdown docs, and running a documented program on small random inputs.
import { EinError } from '../../src/frontend/diagnostics.js';
import { bindKernel, type BoundKernel } from '../../src/ir/bind.js';
import type { CascadeProgram } from '../../src/ir/cascade.js';

export interface DocBlock {
  /** The info string after the opening fence: `ein`, `ein-error`, `text`, ... */
  readonly lang: string;
  readonly code: string;
  /** 1-based line of the block's first code line in the Markdown file. */
  readonly line: number;
}

/** Every fenced block (``` or ~~~) of a Markdown text, in order. */
export function extractBlocks(markdown: string): DocBlock[] {
  const lines = markdown.split(/\r?\n/);
  const blocks: DocBlock[] = [];
  let open: { fence: string; lang: string; start: number; body: string[] } | undefined;
  lines.forEach((text, i) => {
    if (!open) {
      const m = /^\s*(```+|~~~+)\s*([\w-]*)/.exec(text);
      if (m) open = { fence: m[1]!, lang: m[2]!, start: i + 2, body: [] };
    } else if (text.trim().startsWith(open.fence) && text.trim().replace(/[`~]/g, '') === '') {
      blocks.push({ lang: open.lang, code: open.body.join('\n') + '\n', line: open.start });
      open = undefined;
    } else open.body.push(text);
  });
  if (open) throw new Error(`unclosed code block opened on line ${open.start - 1}`);
  return blocks;
}

/** The expected message of an `ein-error` block: its first line, `# error: MESSAGE`. */
export function expectedError(block: DocBlock): string | undefined {
  return /^#\s*error:\s*(.+?)\s*$/.exec(block.code.split('\n')[0] ?? '')?.[1];
}

function candidateRanks(names: readonly string[]): Record<string, number>[] {
  const cycle = (values: number[]) =>
    Object.fromEntries(names.map((n, i) => [n, values[i % values.length]!]));
  return [[4], [3], [3, 4, 5], [5, 4, 3], [5], [2], [6], [8], [4, 3], [3, 5]].map(cycle);
}

/**
 * Bind a kernel's symbolic ranks to small values (3..5 first, a few others if the kernel needs them,
 * e.g. a rank that must divide evenly). Throws the first binding error when no candidate fits.
 */
export function bindSmall(program: CascadeProgram, kernel: string): BoundKernel {
  const k = program.kernels.find((x) => x.name === kernel);
  if (!k) throw new Error(`no kernel ${kernel}`);
  const symbolic = k.ranks.filter((r) => r.value === undefined).map((r) => r.name);
  let first: unknown;
  for (const ranks of candidateRanks(symbolic)) {
    try {
      return bindKernel(program, kernel, { ranks });
    } catch (e) {
      if (!(e instanceof EinError)) throw e;
      first ??= e;
    }
  }
  throw first;
}

/** All-4 ranks: how an `ein-error` block whose error appears only at bind or run time is bound. */
export function bindFours(program: CascadeProgram, kernel: string): BoundKernel {
  const k = program.kernels.find((x) => x.name === kernel)!;
  const ranks = Object.fromEntries(k.ranks.filter((r) => r.value === undefined).map((r) => [r.name, 4]));
  return bindKernel(program, kernel, { ranks });
}
