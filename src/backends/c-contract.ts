// The `contract` intrinsic in C-style dialects: a workgroup-tiled GEMM when it is the whole kernel
// below its batch loops, plain loops anywhere else.
import { iadd, ic, imul, iv, type ContractStmt, type IExpr } from '../ir/loops.js';
import type { LaunchPlan } from './c-launch.js';
import type { CPrinter } from './c-printer.js';

const at = (offset: IExpr, i: string, si: number, j: string, sj: number): IExpr =>
  iadd(offset, iadd(imul(iv(i), ic(si)), imul(iv(j), ic(sj))));

function describe(c: ContractStmt): string {
  const scale = c.scale === 1 ? '' : `${c.scale} · `;
  return `contract ${c.out}[m, n] ${c.accumulate ? '+=' : '='} ${scale}Σk ${c.a}[m, k] · ${c.b}[k, n]  (m ${c.m}, n ${c.n}, k ${c.kDim})`;
}

/** out = scale · acc, plus what out holds when the contraction accumulates. */
function finish(p: CPrinter, c: ContractStmt, index: string, acc: string): string {
  const scaled = c.scale === 1 ? acc : `${p.f32(c.scale)} * ${acc}`;
  return p.store(c.out, index, c.accumulate ? `${p.loadValue(c.out, index)} + ${scaled}` : scaled) + ';';
}

export function printPlainContract(p: CPrinter, c: ContractStmt): void {
  p.emit(`// ${describe(c)}`);
  p.block(p.forHeader('contract_m', '0', String(c.m), 1), () =>
    p.block(p.forHeader('contract_n', '0', String(c.n), 1), () => {
      p.emit(p.declare('contract_acc', 'f32', p.f32(0), true));
      p.block(p.forHeader('contract_k', '0', String(c.kDim), 1), () => {
        const a = p.loadValue(
          c.a,
          p.index(at(c.aOffset, 'contract_m', c.aStride[0], 'contract_k', c.aStride[1])).text,
        );
        const b = p.loadValue(
          c.b,
          p.index(at(c.bOffset, 'contract_k', c.bStride[0], 'contract_n', c.bStride[1])).text,
        );
        p.emit(`contract_acc = contract_acc + ${a} * ${b};`);
      });
      const out = p.index(at(c.outOffset, 'contract_m', c.outStride[0], 'contract_n', c.outStride[1])).text;
      p.emit(finish(p, c, out, 'contract_acc'));
    }),
  );
}

/**
 * One TM × TN block of the output per workgroup, one element per invocation. Per step the
 * workgroup stages a TM × TK slice of A and a TK × TN slice of B in workgroup memory (zero-padded
 * past the edges), waits at a barrier, accumulates TK products from there, and waits again before
 * the next step overwrites the slices. All barriers are in uniform control flow: the loops around
 * them have constant bounds and the only early return is uniform per workgroup.
 */
export function printTiledContract(p: CPrinter, plan: Extract<LaunchPlan, { kind: 'contract' }>): void {
  const c = plan.contract;
  const { m: TM, n: TN, k: TK } = plan.tile;
  const threads = plan.threads;
  p.emit(`// ${describe(c)}`);
  p.emit(
    `// tiled ${TM} × ${TN} × ${TK}: tile_a and tile_b hold slices of ${c.a} and ${c.b} in workgroup memory`,
  );
  p.emit(p.declare('acc', 'f32', p.f32(0), true));
  const mentions = (texts: string[], name: string) => texts.some((t) => new RegExp(`\\b${name}\\b`).test(t));
  const stage = (
    tile: string,
    rows: number,
    cols: number,
    row: string,
    col: string,
    guard: string[],
    load: IExpr,
    from: string,
  ) =>
    p.block(p.forHeader('staged', 'thread_index', String(rows * cols), threads), () => {
      const value = p.loadValue(from, p.index(load).text);
      const texts = [value, ...guard];
      if (mentions(texts, 'staged_row')) p.emit(p.declare('staged_row', 'i32', row, false));
      if (mentions(texts, 'staged_col')) p.emit(p.declare('staged_col', 'i32', col, false));
      if (guard.length === 0) return p.emit(`${tile}[staged] = ${value};`);
      p.emit(`${tile}[staged] = ${p.f32(0)};`);
      p.block(`if (${guard.join(' && ')})`, () => p.emit(`${tile}[staged] = ${value};`));
    });
  p.block(p.forHeader('k0', '0', String(c.kDim), TK), () => {
    const aGuard = [
      ...(c.m % TM ? [`staged_row < ${c.m}`] : []),
      ...(c.kDim % TK ? [`staged_col < ${c.kDim}`] : []),
    ];
    stage(
      'tile_a',
      TM,
      TK,
      `tile_m * ${TM} + staged / ${TK}`,
      `k0 + staged % ${TK}`,
      aGuard,
      at(c.aOffset, 'staged_row', c.aStride[0], 'staged_col', c.aStride[1]),
      c.a,
    );
    const bGuard = [
      ...(c.kDim % TK ? [`staged_row < ${c.kDim}`] : []),
      ...(c.n % TN ? [`staged_col < ${c.n}`] : []),
    ];
    stage(
      'tile_b',
      TK,
      TN,
      `k0 + staged / ${TN}`,
      `tile_n * ${TN} + staged % ${TN}`,
      bGuard,
      at(c.bOffset, 'staged_row', c.bStride[0], 'staged_col', c.bStride[1]),
      c.b,
    );
    p.emit(p.barrier());
    p.block(p.forHeader('kk', '0', String(TK), 1), () =>
      p.emit(
        `acc = acc + tile_a[thread_index / ${TN} * ${TK} + kk] * tile_b[kk * ${TN} + thread_index % ${TN}];`,
      ),
    );
    p.emit(p.barrier());
  });
  const guard = [...(c.m % TM ? [`row < ${c.m}`] : []), ...(c.n % TN ? [`col < ${c.n}`] : [])];
  const out = p.index(at(c.outOffset, 'row', c.outStride[0], 'col', c.outStride[1])).text;
  const result = finish(p, c, out, 'acc');
  if (mentions([result, ...guard], 'row'))
    p.emit(p.declare('row', 'i32', `tile_m * ${TM} + thread_index / ${TN}`, false));
  if (mentions([result, ...guard], 'col'))
    p.emit(p.declare('col', 'i32', `tile_n * ${TN} + thread_index % ${TN}`, false));
  if (guard.length === 0) p.emit(result);
  else p.block(`if (${guard.join(' && ')})`, () => p.emit(result));
}

/** Workgroup arrays of the tiled contraction, elements each. */
export function contractTiles(
  plan: Extract<LaunchPlan, { kind: 'contract' }>,
): { name: string; size: number }[] {
  const { m, n, k } = plan.tile;
  return [
    { name: 'tile_a', size: m * k },
    { name: 'tile_b', size: k * n },
  ];
}
