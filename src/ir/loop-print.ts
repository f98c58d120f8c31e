// The Loop IR as readable pseudo-code, for `--emit loops`, dumps and golden tests.
import type { IExpr, LoopKernel, LoopProgram, Stmt, VExpr } from './loops.js';
import { formatBytes } from './limits.js';

export function printIndex(e: IExpr): string {
  switch (e.k) {
    case 'const':
      return String(e.v);
    case 'var':
      return e.name;
    case 'iload':
      return `${e.buffer}[${printIndex(e.index)}]`;
    case 'min':
      return `min(${printIndex(e.a)}, ${printIndex(e.b)})`;
    default: {
      const op = { add: '+', sub: '-', mul: '*', div: '/', mod: '%' }[e.k];
      const wrap = (x: IExpr) => (x.k === 'add' || x.k === 'sub' ? `(${printIndex(x)})` : printIndex(x));
      return e.k === 'add' ? `${printIndex(e.a)} + ${printIndex(e.b)}` : `${wrap(e.a)} ${op} ${wrap(e.b)}`;
    }
  }
}

const num = (v: number) => (v === Infinity ? 'inf' : v === -Infinity ? '-inf' : String(v));

export function printValue(e: VExpr): string {
  switch (e.k) {
    case 'const':
      return num(e.v);
    case 'load':
      return `${e.buffer}[${printIndex(e.index)}]`;
    case 'reg':
      return e.name;
    case 'int':
      return `f32(${printIndex(e.a)})`;
    case 'unary':
      return e.fn === 'neg' ? `-(${printValue(e.a)})` : `${e.fn}(${printValue(e.a)})`;
    case 'binary':
      return /^[a-z]/.test(e.fn)
        ? `${e.fn}(${printValue(e.a)}, ${printValue(e.b)})`
        : `(${printValue(e.a)} ${e.fn} ${printValue(e.b)})`;
    case 'select':
      return `select(${printValue(e.cond)}, ${printValue(e.a)}, ${printValue(e.b)})`;
  }
}

function printStmt(s: Stmt, indent: string, out: string[]): void {
  switch (s.k) {
    case 'for':
      // A dynamic trip count (the causal mask's bound) shows as the min it is.
      const end = s.bound ? `min(${s.extent}, ${printIndex(s.bound)})` : String(s.extent);
      out.push(`${indent}for ${s.var} in 0..${end}${s.kind === 'serial' ? '' : ` (${s.kind})`} {`);
      s.body.forEach((b) => printStmt(b, indent + '  ', out));
      out.push(`${indent}}`);
      return;
    case 'if':
      out.push(`${indent}if ${printIndex(s.cond.a)} < ${printIndex(s.cond.lt)} {`);
      s.body.forEach((b) => printStmt(b, indent + '  ', out));
      out.push(`${indent}}`);
      return;
    case 'let':
      out.push(`${indent}let ${s.name} = ${printValue(s.value)}`);
      return;
    case 'set':
      out.push(`${indent}${s.name} = ${printValue(s.value)}`);
      return;
    case 'reduce':
      out.push(
        `${indent}${s.name} = ${s.op === 'sum' ? `${s.name} + ${printValue(s.value)}` : `${s.op}(${s.name}, ${printValue(s.value)})`}`,
      );
      return;
    case 'store':
      out.push(`${indent}${s.buffer}[${printIndex(s.index)}] = ${printValue(s.value)}`);
      return;
    case 'barrier':
      out.push(`${indent}barrier()`);
      return;
    case 'contract':
      out.push(
        `${indent}contract ${s.out}[${printIndex(s.outOffset)} +m*${s.outStride[0]} +n*${s.outStride[1]}] ${s.accumulate ? '+=' : '='} ${s.scale === 1 ? '' : `${s.scale} * `}` +
          `Σk ${s.a}[${printIndex(s.aOffset)} +m*${s.aStride[0]} +k*${s.aStride[1]}] * ${s.b}[${printIndex(s.bOffset)} +k*${s.bStride[0]} +n*${s.bStride[1]}]  (m ${s.m}, n ${s.n}, k ${s.kDim})`,
      );
      return;
  }
}

export function printLoopKernel(k: LoopKernel): string {
  const out = [`kernel ${k.name}  # ${k.info.statements.join('; ')}`];
  for (const l of k.locals) out.push(`  ${l.level} ${l.name}: f32[${l.size}]  (${formatBytes(l.size * 4)})`);
  k.body.forEach((s) => printStmt(s, '  ', out));
  return out.join('\n');
}

export function printLoopProgram(p: LoopProgram): string {
  const head = p.buffers.map((b) => `${b.role} ${b.name}: ${b.dtype}[${b.shape.join(', ')}]  ${b.level}`);
  return [...head, '', ...p.kernels.map(printLoopKernel)].join('\n') + '\n';
}
