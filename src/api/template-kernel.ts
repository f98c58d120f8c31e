// How the `ein` tagged template turns a few statements into a kernel. The statements are parsed
// inside a placeholder kernel to find:
//  - the parameters: tensors read but never defined, in order of first use in the text;
//  - the outputs: tensors defined but read by no other statement (the last one defined if none);
//  - a rank for every parameter axis. Axes that must agree (the same index subscripts them plainly
//    within a statement, directly or through a defined tensor) share one rank, named after the
//    first such index in capitals (`A[m, k]` → M, K); the arguments' shapes then bind the ranks.
// The kernel text keeps the statements verbatim from line 2 on, so a diagnostic maps back to the
// template by moving up one line; a header diagnostic (a parameter's shape) points at the
// parameter's first use.
import { EinError, type Diagnostic } from '../frontend/diagnostics.js';
import type { KernelDecl, Statement } from '../frontend/ast.js';
import { parse } from '../frontend/parser.js';
import type { DType } from '../ir/cascade.js';
import { walkExpr, type Expr, type Span } from '../ir/expr.js';

export const TEMPLATE_FILE = '<ein template>';
const KERNEL_NAME = 'template';
const isRankName = (name: string): boolean => /^[A-Z][A-Z0-9_]*$/.test(name);

export interface TemplateParam {
  readonly name: string;
  /** The rank of each axis. */
  readonly ranks: readonly string[];
  /** Where the template first reads it. */
  readonly firstUse: Span;
}

export interface TemplateAnalysis {
  readonly params: readonly TemplateParam[];
  readonly outputs: readonly string[];
  readonly text: string;
}

/** A disjoint-set forest over string keys: axes `T#axis` and statement indices `s#name`. */
class Components {
  private readonly parent = new Map<string, string>();
  find(x: string): string {
    let root = x;
    while (this.parent.has(root) && this.parent.get(root) !== root) root = this.parent.get(root)!;
    this.parent.set(x, root);
    return root;
  }
  union(a: string, b: string): void {
    const [ra, rb] = [this.find(a), this.find(b)];
    if (ra !== rb) this.parent.set(rb, ra);
  }
}

function statementsOf(text: string): { statements: Statement[]; declaredRanks: Set<string> } {
  try {
    const ast = parse(`kernel ${KERNEL_NAME}() -> _ {\n${text}\n}\n`, TEMPLATE_FILE);
    const kernel = ast.items.find((item): item is KernelDecl => item.kind === 'kernel');
    const body = kernel?.body ?? [];
    return {
      statements: body.filter((b): b is Statement => b.kind === 'statement'),
      declaredRanks: new Set(body.filter((b) => b.kind === 'rank').map((b) => b.name)),
    };
  } catch (e) {
    throw e instanceof EinError ? remapError(e, text, []) : e;
  }
}

/** Parameters, outputs and axis ranks of the statements in `text`. */
export function analyzeTemplate(text: string): TemplateAnalysis {
  const { statements, declaredRanks } = statementsOf(text);
  const defined = new Set(statements.map((s) => s.tensor));
  const order: { name: string; access: Expr & { k: 'access' } }[] = [];
  const readBy = new Map<string, Set<number>>();
  const components = new Components();
  const indexOrder: string[] = [];
  statements.forEach((s, i) => {
    const link = (tensor: string, subs: readonly Expr[]) =>
      subs.forEach((sub, axis) => {
        if (sub.k !== 'index') return;
        components.union(`${tensor}#${axis}`, `${i}#${sub.name}`);
        if (!indexOrder.includes(sub.name)) indexOrder.push(sub.name);
      });
    link(s.tensor, s.subs);
    walkExpr(s.rhs, (e) => {
      if (e.k !== 'access') return;
      link(e.tensor, e.subs);
      readBy.set(e.tensor, (readBy.get(e.tensor) ?? new Set()).add(i));
      if (!defined.has(e.tensor) && !order.some((o) => o.name === e.tensor))
        order.push({ name: e.tensor, access: e });
    });
  });

  // Rank names per component, in order of first use, avoiding tensor names and body-declared ranks.
  const taken = new Set<string>([...defined, ...order.map((o) => o.name), ...declaredRanks]);
  const nameOf = new Map<string, string>();
  const inComponent = (index: string, root: string) =>
    statements.some((_, i) => components.find(`${i}#${index}`) === root);
  const rankFor = (tensor: string, axis: number, sub: Expr): string => {
    const root = components.find(`${tensor}#${axis}`);
    const known = nameOf.get(root);
    if (known) return known;
    // The axis's own index first (`A[m, k]` → M), then any other index tied to the same rank.
    const candidates = [
      ...(sub.k === 'index' ? [sub.name] : []),
      ...indexOrder.filter((ix) => inComponent(ix, root)),
    ];
    const name =
      candidates.map((ix) => ix.toUpperCase()).find((n) => isRankName(n) && !taken.has(n)) ??
      fallbackName(tensor, axis, taken);
    taken.add(name);
    nameOf.set(root, name);
    return name;
  };
  const params = order.map(({ name, access }) => ({
    name,
    ranks: access.subs.map((sub, axis) => rankFor(name, axis, sub)),
    // The placeholder kernel put the template on line 2 onwards.
    firstUse: { ...access.span!, line: access.span!.line - 1, endLine: access.span!.endLine - 1 },
  }));
  const sinks = [...defined].filter((t) => {
    const readers = [...(readBy.get(t) ?? [])];
    return readers.every((i) => statements[i]!.tensor === t);
  });
  const outputs = sinks.length ? sinks : statements.length ? [statements[statements.length - 1]!.tensor] : [];
  if (outputs.length === 0)
    throw new EinError(
      { message: 'the template defines no tensor', hint: 'write a statement: C[m, n] = A[m, k] * B[k, n]' },
      TEMPLATE_FILE,
      text,
    );
  return { params, outputs, text };
}

/** `X_0` for axis 0 of X (`R0`, `R1`, ... when the tensor's name cannot start a rank name). */
function fallbackName(tensor: string, axis: number, taken: ReadonlySet<string>): string {
  const base = `${tensor.toUpperCase()}_${axis}`;
  for (let n = 0; ; n++) {
    const name = isRankName(base) ? `${base}${n ? `_${n}` : ''}` : `R${n}`;
    if (!taken.has(name)) return name;
  }
}

export interface TemplateKernel {
  readonly source: string;
  readonly ranks: Record<string, number>;
}

/** The kernel text for arguments of the given dtypes and shapes, and the rank values they imply. */
export function templateKernel(
  analysis: TemplateAnalysis,
  args: readonly { readonly dtype: DType; readonly shape: readonly number[] }[],
): TemplateKernel {
  const header = analysis.params
    .map((p, i) => `${p.name}: ${args[i]!.dtype}[${p.ranks.join(', ')}]`)
    .join(', ');
  const outputs = analysis.outputs.length === 1 ? analysis.outputs[0]! : `(${analysis.outputs.join(', ')})`;
  // First binding wins; a disagreeing second one is left to the binder, whose message names both.
  const ranks: Record<string, number> = {};
  analysis.params.forEach((p, i) => p.ranks.forEach((r, axis) => (ranks[r] ??= args[i]!.shape[axis]!)));
  return { source: `kernel ${KERNEL_NAME}(${header}) -> ${outputs} {\n${analysis.text}\n}\n`, ranks };
}

/** An error about the generated kernel, re-pointed into the template text. */
export function remapError(e: EinError, text: string, params: readonly TemplateParam[]): EinError {
  const lines = text.split(/\r?\n/);
  const header = `kernel ${KERNEL_NAME}(`;
  const remap = (d: Diagnostic): Diagnostic => {
    const span = d.span;
    if (!span) return d;
    if (span.line === 1) {
      // Find the parameter whose declaration holds the column: `A: f32[M, K], B: ...`.
      let col = header.length + 1;
      for (const p of params) {
        const width = `${p.name}: f32[${p.ranks.join(', ')}]`.length;
        if (span.col >= col && span.col < col + width + 2) return { ...d, span: p.firstUse };
        col += width + 2;
      }
      return { message: d.message, hint: d.hint };
    }
    const line = Math.min(span.line - 1, lines.length);
    const endLine = Math.min(span.endLine - 1, lines.length);
    const pastEnd = span.line - 1 > lines.length;
    const col = pastEnd ? (lines[line - 1]?.length ?? 0) + 1 : span.col;
    return { ...d, span: { line, col, endLine, endCol: pastEnd ? col + 1 : span.endCol } };
  };
  return new EinError(e.diagnostics.map(remap), TEMPLATE_FILE, text);
}
