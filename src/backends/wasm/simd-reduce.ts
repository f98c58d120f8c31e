// Reductions over a unit-stride index in f32x4: several vector accumulators (independent add
// chains hide the 3-cycle add latency), a horizontal reduction by 32-bit-lane shuffles (one pshufd
// each, notes §4), and a scalar tail. A row jam runs four independent dot products together so a
// load that does not depend on the row (Q[p, e] in Σe Q[p, e]·K[m, e]) is issued once for four
// K rows: a 4×1 GEMV tile with 4 accumulators + 4 K vectors + 1 Q vector, well inside V8's 15
// xmm registers (notes §2). Unrolled steps end in a br_if so TurboFan cannot hoist the next step's
// loads over them (notes §2, "K-unrolling with br_if").
import binaryen from 'binaryen';
import type { Stmt } from '../../ir/loops.js';
import type { ForStmt, ScalarHooks, X } from './emit-hooks.js';
import { relaxedMaddF32x4 } from './relaxed-simd.js';
import type { ReductionShape, RowJam } from './simd-legality.js';
import { f32x4Const } from './simd-constants.js';
import type { LanePosition, VectorValues } from './simd-values.js';

const IDENTITY = { sum: 0, prod: 1, max: -Infinity, min: Infinity } as const;
type Op = ReductionShape['op'];

/** acc op value in f32x4; a sum of a product fuses into relaxed_madd when the module allows it. */
export function vectorAccumulate(
  h: ScalarHooks,
  values: VectorValues,
  op: Op,
  acc: X,
  value: ReductionShape['value'],
  pos: LanePosition,
): X {
  const m = h.mod;
  if (op === 'sum' && h.relaxedSimd && value.k === 'binary' && value.fn === '*')
    return relaxedMaddF32x4(m, values.value(value.a, pos), values.value(value.b, pos), acc);
  const v = values.value(value, pos);
  switch (op) {
    case 'sum':
      return m.f32x4.add(acc, v);
    case 'prod':
      return m.f32x4.mul(acc, v);
    case 'max':
      return m.f32x4.max(acc, v);
    case 'min':
      return m.f32x4.min(acc, v);
  }
}

function vectorOp(h: ScalarHooks, op: Op, a: X, b: X): X {
  const f = h.mod.f32x4;
  return { sum: f.add, prod: f.mul, max: f.max, min: f.min }[op](a, b);
}

function scalarOp(h: ScalarHooks, op: Op, a: X, b: X): X {
  const f = h.mod.f32;
  return { sum: f.add, prod: f.mul, max: f.max, min: f.min }[op](a, b);
}

/** Lanes (0,1,2,3) → one f32: a ⊕ swap-halves(a), then ⊕ swap-pairs; both are pshufd patterns. */
function horizontal(h: ScalarHooks, op: Op, local: number): X {
  const m = h.mod;
  const get = () => m.local.get(local, binaryen.v128);
  const lanes = (order: number[]) => order.flatMap((l) => [4 * l, 4 * l + 1, 4 * l + 2, 4 * l + 3]);
  const t = h.locals.add(binaryen.v128);
  return m.block(
    null,
    [
      m.local.set(t, vectorOp(h, op, get(), m.i8x16.shuffle(get(), get(), lanes([2, 3, 0, 1])))),
      m.f32x4.extract_lane(
        vectorOp(
          h,
          op,
          m.local.get(t, binaryen.v128),
          m.i8x16.shuffle(m.local.get(t, binaryen.v128), m.local.get(t, binaryen.v128), lanes([1, 0, 3, 2])),
        ),
        0,
      ),
    ],
    binaryen.f32,
  );
}

/** block { loop { [br_if done (i + step > to); body; i += step] × unroll; br loop } } */
export function chunkLoop(
  h: ScalarHooks,
  counter: number,
  to: number,
  step: number,
  unroll: number,
  body: () => X,
): X {
  const m = h.mod;
  const done = h.label('vdone');
  const next = h.label('vnext');
  const i32 = binaryen.i32;
  const steps: X[] = [];
  for (let u = 0; u < unroll; u++)
    steps.push(
      m.br(done, m.i32.gt_s(m.i32.add(m.local.get(counter, i32), m.i32.const(step)), m.local.get(to, i32))),
      body(),
      m.local.set(counter, m.i32.add(m.local.get(counter, i32), m.i32.const(step))),
    );
  return m.block(done, [m.loop(next, m.block(null, [...steps, m.br(next)]))]);
}

function splatLocals(h: ScalarHooks, count: number, op: Op): { locals: number[]; init: X[] } {
  const locals = Array.from({ length: count }, () => h.locals.add(binaryen.v128));
  return {
    locals,
    init: locals.map((l) => h.mod.local.set(l, f32x4Const(h.mod, IDENTITY[op]))),
  };
}

/** `for y { acc op= value }` with `groups` vector accumulators, then one, then scalar iterations. */
export function emitReduction(
  loop: ForStmt,
  shape: ReductionShape,
  h: ScalarHooks,
  values: VectorValues,
  groups: number,
): X {
  const m = h.mod;
  const y = h.intLocal(loop.var);
  const to = h.locals.add(binaryen.i32);
  const { locals: accs, init } = splatLocals(h, groups, shape.op);
  const step = (count: number) => () => {
    values.beginScope();
    const updates = accs.slice(0, count).map((acc, g) =>
      m.local.set(
        acc,
        vectorAccumulate(h, values, shape.op, m.local.get(acc, binaryen.v128), shape.value, {
          lane: loop.var,
          group: g,
        }),
      ),
    );
    return m.block(null, [...values.endScope(), ...updates]);
  };
  let combined = accs[0]!;
  const combine: X[] = [];
  for (const acc of accs.slice(1))
    combine.push(
      m.local.set(
        combined,
        vectorOp(h, shape.op, m.local.get(combined, binaryen.v128), m.local.get(acc, binaryen.v128)),
      ),
    );
  const reg = h.regLocal(shape.acc);
  return m.block(null, [
    m.local.set(to, h.upperBound(loop)),
    m.local.set(y, m.i32.const(0)),
    ...init,
    chunkLoop(h, y, to, 4 * groups, 1, step(groups)),
    ...(groups > 1 ? [chunkLoop(h, y, to, 4, 1, step(1))] : []),
    ...combine,
    m.local.set(
      reg,
      scalarOp(h, shape.op, m.local.get(reg, binaryen.f32), horizontal(h, shape.op, combined)),
    ),
    h.loop(loop.var, m.local.get(y, binaryen.i32), m.local.get(to, binaryen.i32), loop.body),
  ]);
}

/** Four rows of `for x { let acc = c; for y { acc op= value }; post }` at a time (see rowJamShape). */
export function emitRowJam(loop: ForStmt, jam: RowJam, h: ScalarHooks, values: VectorValues): X | undefined {
  if (h.hasDynamicBound(jam.inner)) return undefined;
  const m = h.mod;
  const i32 = binaryen.i32;
  const rows = 4;
  const { op, value, acc } = jam.reduction;
  const x = h.intLocal(loop.var);
  const y = h.intLocal(jam.inner.var);
  const [base, xTo, yTo, yVector] = [0, 0, 0, 0].map(() => h.locals.add(i32)) as [
    number,
    number,
    number,
    number,
  ];
  const { locals: accs, init } = splatLocals(h, rows, op);
  const step = () => {
    values.beginScope();
    const updates = accs.map((a, r) =>
      m.local.set(
        a,
        vectorAccumulate(h, values, op, m.local.get(a, binaryen.v128), value, {
          lane: jam.inner.var,
          group: 0,
          shift: { var: loop.var, by: r },
        }),
      ),
    );
    return m.block(null, [...values.endScope(), ...updates]);
  };
  const reg = h.regLocal(acc);
  const perRow: X[] = [];
  accs.forEach((a, r) => {
    perRow.push(
      m.local.set(x, m.i32.add(m.local.get(base, i32), m.i32.const(r))),
      m.local.set(reg, scalarOp(h, op, m.f32.const(jam.init), horizontal(h, op, a))),
      h.loop(jam.inner.var, m.local.get(yVector, i32), m.local.get(yTo, i32), jam.inner.body),
      ...jam.post.map((s: Stmt) => h.stmt(s)),
    );
  });
  const done = h.label('rows_done');
  const next = h.label('rows_next');
  const unroll = jam.inner.extent >= 64 ? 4 : jam.inner.extent >= 16 ? 2 : 1;
  return m.block(null, [
    m.local.set(xTo, h.upperBound(loop)),
    m.local.set(yTo, h.upperBound(jam.inner)),
    m.local.set(base, m.i32.const(0)),
    m.block(done, [
      m.loop(
        next,
        m.block(null, [
          m.br(done, m.i32.gt_s(m.i32.add(m.local.get(base, i32), m.i32.const(rows)), m.local.get(xTo, i32))),
          m.local.set(x, m.local.get(base, i32)),
          ...init,
          m.local.set(y, m.i32.const(0)),
          chunkLoop(h, y, yTo, 4, unroll, step),
          m.local.set(yVector, m.local.get(y, i32)),
          ...perRow,
          m.local.set(base, m.i32.add(m.local.get(base, i32), m.i32.const(rows))),
          m.br(next),
        ]),
      ),
    ]),
    h.loop(loop.var, m.local.get(base, i32), m.local.get(xTo, i32), loop.body),
  ]);
}
