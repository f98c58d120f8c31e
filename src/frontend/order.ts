// Dependency order: kernels before their callers, and within a kernel every tensor defined before it
// is read. Ties keep source order, so printing a checked program reads like its source.
import type { KernelDecl } from './ast.js';
import type { CallStep } from '../ir/cascade.js';
import { walkExpr, type Expr, type Span } from '../ir/expr.js';
import { fail } from './diagnostics.js';
import type { PendingEinsum } from './ranges.js';

interface Node<T> {
  readonly item: T;
  readonly name: string;
  readonly span?: Span;
  readonly deps: readonly number[];
}

/** Kahn's algorithm, picking the earliest ready node; on a cycle, name it and point at one member. */
function topoSort<T>(nodes: readonly Node<T>[], what: string, hint: string): T[] {
  const indegree = nodes.map((n) => n.deps.length);
  const users = nodes.map(() => [] as number[]);
  nodes.forEach((n, i) => n.deps.forEach((d) => users[d]!.push(i)));
  const done: number[] = [];
  const ready = new Set(nodes.map((_, i) => i).filter((i) => indegree[i] === 0));
  while (ready.size > 0) {
    const next = Math.min(...ready);
    ready.delete(next);
    done.push(next);
    for (const u of users[next]!) if (--indegree[u]! === 0) ready.add(u);
  }
  if (done.length < nodes.length) {
    const cycle = findCycle(nodes, new Set(done));
    const names = cycle.map((i) => nodes[i]!.name);
    fail(`cyclic ${what}: ${[...names, names[0]].join(' → ')}`, nodes[cycle[0]!]!.span, hint);
  }
  return done.map((i) => nodes[i]!.item);
}

function findCycle<T>(nodes: readonly Node<T>[], done: ReadonlySet<number>): number[] {
  let at = nodes.findIndex((_, i) => !done.has(i));
  const path: number[] = [];
  while (!path.includes(at)) {
    path.push(at);
    at = nodes[at]!.deps.find((d) => !done.has(d))!;
  }
  return path.slice(path.indexOf(at)).reverse();
}

function kernelCallsIn(e: Expr, out: Set<string>): void {
  walkExpr(e, (x) => {
    if (x.k === 'kcall') out.add(x.kernel);
    if (x.k === 'call') out.add(x.fn);
  });
}

export function orderKernels(decls: readonly KernelDecl[]): KernelDecl[] {
  const index = new Map(decls.map((d, i) => [d.name, i]));
  const nodes = decls.map((d) => {
    const called = new Set<string>();
    for (const item of d.body) {
      if (item.kind === 'statement') kernelCallsIn(item.rhs, called);
      if (item.kind === 'binding') kernelCallsIn(item.call, called);
    }
    called.delete(d.name); // a kernel calling itself gets its own error when its body is resolved
    const deps = [...called].map((c) => index.get(c)).filter((i): i is number => i !== undefined);
    return { item: d, name: d.name, span: d.nameSpan, deps };
  });
  return topoSort(nodes, 'kernel calls', 'kernels cannot be recursive, directly or through other kernels');
}

type Pending = { kind: 'einsum'; p: PendingEinsum } | { kind: 'call'; c: CallStep };

export function orderSteps<T extends Pending>(steps: readonly T[]): T[] {
  const definers = new Map<string, number[]>();
  const defines = (s: Pending) => (s.kind === 'call' ? s.c.outputs : [s.p.tensor]);
  steps.forEach((s, i) => defines(s).forEach((t) => definers.set(t, [...(definers.get(t) ?? []), i])));
  const nodes = steps.map((s, i) => {
    const reads = new Set<string>();
    if (s.kind === 'call') s.c.args.forEach((a) => reads.add(a));
    else
      walkExpr(s.p.body, (e) => {
        if (e.k === 'access') reads.add(e.tensor);
      });
    // A statement's reads of its own tensor are checked elsewhere (iterative updates); a call that
    // reads its own output (`Y = g(Y)`) is a cycle of one.
    const deps = [...reads].flatMap((t) =>
      (definers.get(t) ?? []).filter((d) => d !== i || s.kind === 'call'),
    );
    // An iterative update needs its init even when the body reads only the previous generation.
    if (s.kind === 'einsum' && s.p.role === 'update')
      deps.push(...(definers.get(s.p.tensor) ?? []).filter((d) => d !== i));
    const name = s.kind === 'call' ? s.c.outputs.join(', ') : s.p.tensor;
    return { item: s, name, span: s.kind === 'call' ? s.c.span : s.p.lhsSpan, deps };
  });
  return topoSort(nodes, 'definition', 'a cascade defines each tensor from ones defined without it');
}
