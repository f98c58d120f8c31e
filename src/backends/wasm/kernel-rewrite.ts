// Loop IR clean-ups before WebAssembly emission, value-preserving up to f32 rounding (the
// backend tests compare with the float64 interpreter at 1e-5 relative):
//  - a sum whose terms share a loop-invariant divisor divides once after the loop:
//    `acc = 0; for e { acc += Q·K / sqrt(E) }` → `for e { acc += Q·K }; acc = acc / sqrt(E)`,
//    which takes a division out of the innermost loop (divps is ~4× the cost of mulps) and leaves
//    a plain product, so the vector sum can fuse into relaxed_madd.
import type { LoopKernel, Stmt, VExpr } from '../../ir/loops.js';
import { dependsOn, indicesOf, regsOf } from '../../passes/index-algebra.js';

function loopVars(s: Extract<Stmt, { k: 'for' }>): Set<string> {
  const vars = new Set<string>([s.var]);
  const visit = (body: readonly Stmt[]) =>
    body.forEach((b) => {
      if (b.k === 'for') {
        vars.add(b.var);
        visit(b.body);
      } else if (b.k === 'if') visit(b.body);
    });
  visit(s.body);
  return vars;
}

/** Whether `d` has the same value in every iteration of `loop` (whose body only reduces into `acc`). */
function invariant(d: VExpr, loop: Extract<Stmt, { k: 'for' }>, acc: string): boolean {
  const vars = loopVars(loop);
  let free = true;
  indicesOf(d, (i) => {
    if (dependsOn(i, vars)) free = false;
  });
  return free && !regsOf(d).has(acc);
}

/** The innermost single-reduce body of a perfect nest: `for i { for j { acc += x } }`. */
function innermostReduce(s: Stmt): Extract<Stmt, { k: 'reduce' }> | undefined {
  if (s.k !== 'for' || s.body.length !== 1) return undefined;
  const [b] = s.body;
  return b!.k === 'reduce' ? b : innermostReduce(b!);
}

function replaceReduce(s: Stmt, value: VExpr): Stmt {
  if (s.k === 'reduce') return { ...s, value };
  if (s.k !== 'for') return s;
  return { ...s, body: [replaceReduce(s.body[0]!, value)] };
}

function rewriteList(stmts: readonly Stmt[]): Stmt[] {
  const out: Stmt[] = [];
  stmts.forEach((s, i) => {
    const inner = s.k === 'for' || s.k === 'if' ? { ...s, body: rewriteList(s.body) } : s;
    const red = innermostReduce(inner);
    const prev = stmts[i - 1];
    const startsAtZero =
      prev?.k === 'let' && red && prev.name === red.name && prev.value.k === 'const' && prev.value.v === 0;
    if (
      red &&
      startsAtZero &&
      inner.k === 'for' &&
      red.op === 'sum' &&
      red.value.k === 'binary' &&
      red.value.fn === '/' &&
      invariant(red.value.b, inner, red.name)
    ) {
      out.push(replaceReduce(inner, red.value.a), {
        k: 'set',
        name: red.name,
        value: { k: 'binary', fn: '/', a: { k: 'reg', name: red.name }, b: red.value.b },
      });
      return;
    }
    out.push(inner);
  });
  return out;
}

export function rewriteForSimd(kernel: LoopKernel): LoopKernel {
  return { ...kernel, body: rewriteList(kernel.body) };
}
