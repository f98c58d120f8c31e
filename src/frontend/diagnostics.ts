// User-facing errors: `FILE:LINE:COL: error: MESSAGE`, the source line, a caret under the spot, a hint.
// Every error a user can cause is an EinError; anything else escaping is a bug in Ein.
import type { Span } from '../ir/expr.js';

export interface Diagnostic {
  readonly message: string;
  readonly span?: Span;
  readonly hint?: string;
}

export class EinError extends Error {
  readonly diagnostics: readonly Diagnostic[];
  /** The source and file the spans refer to, when known, so the error can render itself. */
  readonly file?: string;
  readonly source?: string;

  constructor(diagnostics: Diagnostic | readonly Diagnostic[], file?: string, source?: string) {
    const list = Array.isArray(diagnostics)
      ? (diagnostics as readonly Diagnostic[])
      : [diagnostics as Diagnostic];
    super(list.map((d) => d.message).join('; '));
    this.name = 'EinError';
    this.diagnostics = list;
    this.file = file;
    this.source = source;
  }

  /** The same error with its file and source attached (the first caller that knows them wins). */
  withSource(file: string, source: string): EinError {
    return this.file !== undefined ? this : new EinError(this.diagnostics, file, source);
  }

  get line(): number | undefined {
    return this.diagnostics[0]?.span?.line;
  }

  get col(): number | undefined {
    return this.diagnostics[0]?.span?.col;
  }

  format(): string {
    return this.diagnostics.map((d) => formatDiagnostic(d, this.file, this.source)).join('\n');
  }
}

/** Throw a user error at a span. */
export function fail(message: string, span?: Span, hint?: string): never {
  throw new EinError({ message, span, hint });
}

export function formatDiagnostic(d: Diagnostic, file?: string, source?: string): string {
  const lines: string[] = [];
  // An error with no place and no file (a missing input, a bad option) is just `error: ...`.
  const where = d.span ? `${file ?? '<input>'}:${d.span.line}:${d.span.col}: ` : file ? `${file}: ` : '';
  lines.push(`${where}error: ${d.message}`);
  const text = d.span && source !== undefined ? source.split(/\r?\n/)[d.span.line - 1] : undefined;
  if (d.span && text !== undefined) {
    const gutter = String(d.span.line);
    const pad = ' '.repeat(gutter.length);
    const width = d.span.endLine === d.span.line ? Math.max(1, d.span.endCol - d.span.col) : 1;
    // Tabs keep their width under the caret so it lines up in any terminal.
    const lead = text.slice(0, d.span.col - 1).replace(/[^\t]/g, ' ');
    lines.push(` ${gutter} | ${text}`);
    lines.push(` ${pad} | ${lead}${'^'.repeat(width)}`);
  }
  if (d.hint) lines.push(`  hint: ${d.hint}`);
  return lines.join('\n');
}

/** The closest name to `name` among `candidates` (edit distance ≤ 2), for "did you mean" hints. */
export function closest(name: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const c of candidates) {
    const d = editDistance(name.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = up;
    }
  }
  return row[b.length]!;
}

export function spanBetween(a: Span, b: Span): Span {
  return { line: a.line, col: a.col, endLine: b.endLine, endCol: b.endCol };
}
