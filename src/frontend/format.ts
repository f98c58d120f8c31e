// `ein fmt`: the source re-printed canonically — two-space indents, one statement per line, spaces
// around operators, the fewest parentheses — keeping every comment and single blank lines.
import type {
  BodyItem,
  Comment,
  KernelDecl,
  OutputDecl,
  Param,
  ScheduleDecl,
  ScheduleItem,
  TopItem,
  TensorType,
} from './ast.js';
import type { Span } from '../ir/expr.js';
import { parse } from './parser.js';
import { printExpr } from './print-expr.js';

const list = (xs: readonly string[]) => xs.join(', ');

function typeText(t: TensorType): string {
  return t.shape === null ? t.dtype : `${t.dtype}[${list(t.shape.map((d) => printExpr(d)))}]`;
}
const paramText = (p: Param) => `${p.name}: ${typeText(p.type)}`;
const outputText = (o: OutputDecl) => (o.type ? `${o.name}: ${typeText(o.type)}` : o.name);

function itemText(item: BodyItem | TopItem): string {
  switch (item.kind) {
    case 'rank':
      return `${item.isDefault ? 'default ' : ''}rank ${item.name} = ${printExpr(item.value)}`;
    case 'statement':
      return `${item.tensor}[${list(item.subs.map((s) => printExpr(s)))}] = ${printExpr(item.rhs)}`;
    case 'binding':
      return `${list(item.names)} = ${printExpr(item.call)}`;
    default:
      return '';
  }
}

function scheduleItemText(i: ScheduleItem): string {
  switch (i.kind) {
    case 'tile':
      return `tile ${list(i.tiles.map((t) => `${t.index} by ${t.size}`))}`;
    case 'chunk':
      return `chunk ${i.index} by ${i.size}`;
    case 'fuse':
      return `fuse ${i.from} .. ${i.to}`;
    case 'scratchpad':
      return `scratchpad ${i.raw}`;
  }
}

class CommentQueue {
  private readonly pending: Comment[];
  constructor(comments: readonly Comment[]) {
    this.pending = [...comments].sort((a, b) => a.line - b.line || a.col - b.col);
  }
  /** Comments on lines before `line`: they go on their own lines, ahead of what follows. */
  before(line: number): Comment[] {
    const out: Comment[] = [];
    while (this.pending.length && this.pending[0]!.line < line) out.push(this.pending.shift()!);
    return out;
  }
  /** A comment at the end of `line`, kept at the end of the item printed from it. */
  onLine(line: number): Comment | undefined {
    if (this.pending.length && this.pending[0]!.line === line) return this.pending.shift();
    return undefined;
  }
}

class Printer {
  readonly out: string[] = [];
  private prevEnd = 0;
  constructor(readonly comments: CommentQueue) {}

  /** Emit an item (or a block's head) at `indent`, with its comments and at most one blank line before. */
  line(indent: string, text: string, span: Span, nextStartsSameLine = false): void {
    const leading = this.comments.before(span.endLine);
    const start = Math.min(span.line, ...leading.map((c) => c.line));
    if (
      this.prevEnd > 0 &&
      start > this.prevEnd + 1 &&
      this.out.length &&
      this.out[this.out.length - 1] !== ''
    )
      this.out.push('');
    for (const c of leading) this.out.push(indent + c.text.trimEnd());
    const trailing = nextStartsSameLine ? undefined : this.comments.onLine(span.endLine);
    this.out.push(indent + text + (trailing ? `  ${trailing.text.trimEnd()}` : ''));
    this.prevEnd = span.endLine;
  }

  blank(): void {
    if (this.out.length && this.out[this.out.length - 1] !== '') this.out.push('');
  }

  /** `head {`, the items, `}`; comments inside go with the item after them, or before the `}`. */
  block(head: string, span: Span, firstLine: number, items: { text: string; span: Span }[]): void {
    this.line('', `${head} {`, { ...span, endLine: firstLine, endCol: 0 });
    items.forEach((item, i) =>
      this.line('  ', item.text, item.span, items[i + 1]?.span.line === item.span.endLine),
    );
    for (const c of this.comments.before(span.endLine)) {
      this.out.push('  ' + c.text.trimEnd());
      this.prevEnd = c.line;
    }
    this.line('', '}', {
      line: span.endLine,
      col: span.endCol - 1,
      endLine: span.endLine,
      endCol: span.endCol,
    });
  }
}

/** Format Ein source. Throws EinError (with file and source) when it does not parse. */
export function format(source: string, file = '<input>'): string {
  const ast = parse(source, file);
  const p = new Printer(new CommentQueue(ast.comments));
  ast.items.forEach((item, i) => {
    const prev = ast.items[i - 1];
    if (prev && (item.kind !== 'rank' || prev.kind !== 'rank')) p.blank();
    if (item.kind === 'kernel') printKernelDecl(p, item);
    else if (item.kind === 'schedule') printScheduleDecl(p, item);
    else p.line('', itemText(item), item.span, ast.items[i + 1]?.span.line === item.span.endLine);
  });
  for (const c of p.comments.before(Infinity)) p.out.push(c.text.trimEnd());
  while (p.out.length && p.out[p.out.length - 1] === '') p.out.pop();
  return p.out.join('\n') + '\n';
}

function printKernelDecl(p: Printer, k: KernelDecl): void {
  const outs =
    k.outputs.length === 1 && k.outputs[0]
      ? outputText(k.outputs[0])
      : `(${list(k.outputs.map(outputText))})`;
  const head = `kernel ${k.name}(${list(k.params.map(paramText))}) -> ${outs}`;
  const headEnd = k.outputs[k.outputs.length - 1]?.span.endLine ?? k.span.line;
  p.block(
    head,
    k.span,
    headEnd,
    k.body.map((b) => ({ text: itemText(b), span: b.span })),
  );
}

function printScheduleDecl(p: Printer, s: ScheduleDecl): void {
  p.block(
    `schedule ${s.kernel}`,
    s.span,
    s.nameSpan.endLine,
    s.items.map((i) => ({ text: scheduleItemText(i), span: i.span })),
  );
}
