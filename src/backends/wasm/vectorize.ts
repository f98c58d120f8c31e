// The SIMD form of a Loop IR loop, chosen per loop by loop-codegen.ts (which keeps the scalar loop
// when this returns undefined):
//  1. a lane loop (simd-legality.ts): iterations run four at a time, in up to four lane groups per
//     chunk (16 iterations: XNNPACK's x16 elementwise kernels), then one group, then scalar;
//  2. a row jam of independent dot products (simd-reduce.ts);
//  3. a lone reduction with vector accumulators (simd-reduce.ts).
import binaryen from 'binaryen';
import type { Stmt } from '../../ir/loops.js';
import type { ForStmt, ScalarHooks, X } from './emit-hooks.js';
import { planLaneLoop, reductionShape, rowJamShape, type LanePlan } from './simd-legality.js';
import { chunkLoop, emitReduction, emitRowJam, vectorAccumulate } from './simd-reduce.js';
import { VectorValues, type LanePosition } from './simd-values.js';

export class LoopVectorizer {
  private readonly values: VectorValues;
  private active = false;

  constructor(private readonly h: ScalarHooks) {
    this.values = new VectorValues(h);
  }

  /** The SIMD form of `s`, or undefined to keep the scalar loop. */
  loop(s: ForStmt): X | undefined {
    // Tails and the rows left over by a jam are emitted while a vector loop is being built;
    // they stay scalar (they are short), which also keeps lane registers from leaking into them.
    if (this.active) return undefined;
    if (!this.h.hasDynamicBound(s) && s.extent < 4) return undefined;
    this.active = true;
    try {
      const lane = planLaneLoop(s, this.h);
      if (lane) return this.laneLoop(s, lane);
      const jam = rowJamShape(s, this.h);
      const jammed = jam && s.extent >= 8 ? emitRowJam(s, jam, this.h, this.values) : undefined;
      if (jammed) return jammed;
      const reduction = reductionShape(s, this.h);
      if (reduction) return emitReduction(s, reduction, this.h, this.values, s.extent >= 64 ? 4 : 2);
      return undefined;
    } finally {
      this.active = false;
    }
  }

  private laneLoop(s: ForStmt, plan: LanePlan): X {
    const { h, values } = this;
    const m = h.mod;
    for (const r of plan.laneRegs) values.declareLaneReg(r);
    for (const p of plan.privates) values.privatize(p.buffer, p.index, p.reg);
    // Sixteen lanes per chunk (XNNPACK's x16) unless the body inlines transcendental polynomials,
    // whose temporaries would spill past V8's 15 xmm registers (notes §2); then eight.
    let groups = plan.transcendental && !plan.innerLoops ? 2 : 4;
    while (groups > 1 && 4 * groups > s.extent) groups /= 2;
    const v = h.intLocal(s.var);
    const to = h.locals.add(binaryen.i32);
    const positions = (n: number): LanePosition[] =>
      Array.from({ length: n }, (_, group) => ({ lane: s.var, group }));
    const parts: X[] = [m.local.set(to, h.upperBound(s)), m.local.set(v, m.i32.const(0))];
    parts.push(
      chunkLoop(h, v, to, 4 * groups, 1, () => m.block(null, this.stmts(s.body, positions(groups)))),
    );
    if (groups > 1)
      parts.push(chunkLoop(h, v, to, 4, 1, () => m.block(null, this.stmts(s.body, positions(1)))));
    values.reset();
    parts.push(h.loop(s.var, m.local.get(v, binaryen.i32), m.local.get(to, binaryen.i32), s.body));
    return m.block(null, parts);
  }

  /** Statements of a lane loop body, each for all lane groups (loads shared within a statement). */
  private stmts(body: readonly Stmt[], at: LanePosition[]): X[] {
    const { h, values } = this;
    const m = h.mod;
    const v128 = binaryen.v128;
    return body.map((s) => {
      values.beginScope();
      let copies: X[];
      switch (s.k) {
        case 'let':
        case 'set':
          copies = at.map((p) => m.local.set(values.vreg(s.name, p), values.value(s.value, p)));
          break;
        case 'reduce':
          copies = at.map((p) =>
            m.local.set(
              values.vreg(s.name, p),
              vectorAccumulate(h, values, s.op, m.local.get(values.vreg(s.name, p), v128), s.value, p),
            ),
          );
          break;
        case 'store': {
          const reg = values.privateReg(s.buffer, s.index);
          copies = at.map((p) =>
            reg
              ? m.local.set(values.vreg(reg, p), values.value(s.value, p))
              : m.v128.store(16 * p.group, 4, h.address(s.buffer, h.int(s.index)), values.value(s.value, p)),
          );
          break;
        }
        case 'for':
          values.endScope();
          return this.innerLoop(s, at);
        case 'if':
          values.endScope();
          return m.if(m.i32.lt_s(h.int(s.cond.a), h.int(s.cond.lt)), m.block(null, this.stmts(s.body, at)));
        default:
          throw new Error(`internal: ${s.k} in a lane loop`);
      }
      return m.block(null, [...values.endScope(), ...copies]);
    });
  }

  /**
   * A loop inside a lane loop: scalar control, its body for all lanes. A leaf body (the Σm SN·V
   * step) is unrolled ×2 with a br_if between the copies, which halves the loop overhead and V8's
   * interrupt check per iteration without letting TurboFan hoist the second copy's loads (notes §2, §4).
   */
  private innerLoop(s: ForStmt, at: LanePosition[]): X {
    const { h } = this;
    const m = h.mod;
    const i = h.intLocal(s.var);
    const to = h.locals.add(binaryen.i32);
    const leaf = s.body.every((b) => b.k !== 'for' && b.k !== 'if');
    return m.block(null, [
      m.local.set(to, h.upperBound(s)),
      m.local.set(i, m.i32.const(0)),
      chunkLoop(h, i, to, 1, leaf && s.extent >= 4 ? 2 : 1, () => m.block(null, this.stmts(s.body, at))),
    ]);
  }
}
