// The `bounds` pass's abstract evaluation (dynamic-bounds.ts): one iteration v ≥ β of a candidate
// loop, with comparisons against the mask decided, values constants or unknown, and loads of what a
// stopped loop stored at the same index giving the stored constant. It records what the iteration
// would store, for the group proof to check that nobody sees it.
import { printIndex } from '../ir/loop-print.js';
import type { Stmt, VExpr } from '../ir/loops.js';
import { COMPARISONS, decide, linearI, patternOf, type Linear } from './dynamic-bounds-masks.js';

type Abstract = number | 'unknown';

const IDENTITY = { sum: 0, prod: 1, max: -Infinity, min: Infinity } as const;

export interface StoredFact {
  readonly buffer: string;
  readonly pattern: string;
  readonly value: Abstract;
}

/** One iteration v ≥ β of a loop, evaluated abstractly: does it change anything that lives on? */
export class IterationCheck {
  constructor(
    private readonly v: string,
    private readonly beta: Linear,
    private readonly facts: readonly StoredFact[],
    private readonly own: StoredFact[],
  ) {}

  stmts(stmts: readonly Stmt[], regs: Map<string, Abstract>): boolean {
    for (const s of stmts) {
      switch (s.k) {
        case 'let':
          regs.set(s.name, this.value(s.value, regs, new Set()));
          break;
        case 'set':
          if (!regs.has(s.name)) return false;
          regs.set(s.name, this.value(s.value, regs, new Set()));
          break;
        case 'reduce':
          // A register of this iteration may change freely; an outer one must get the identity.
          if (regs.has(s.name)) regs.set(s.name, 'unknown');
          else if (this.value(s.value, regs, new Set()) !== IDENTITY[s.op]) return false;
          break;
        case 'store': {
          const index = linearI(s.index);
          // Injective in v: distinct iterations store distinct elements, so a read at the same index
          // pattern in another stopped loop reads this iteration's element.
          if (!index || !index.terms.has(this.v) || printIndex(s.index).includes('%')) return false;
          this.own.push({
            buffer: s.buffer,
            pattern: patternOf(s.index, this.v),
            value: this.value(s.value, regs, new Set()),
          });
          break;
        }
        case 'for':
        case 'if':
          if (!this.stmts(s.body, regs)) return false;
          break;
        default:
          return false;
      }
    }
    return true;
  }

  /** `notNegInf`: printed values known not to be −inf (the else branch of `x == −inf`). */
  private value(e: VExpr, regs: ReadonlyMap<string, Abstract>, notNegInf: ReadonlySet<string>): Abstract {
    switch (e.k) {
      case 'const':
        return e.v;
      case 'reg':
        return regs.get(e.name) ?? 'unknown';
      case 'int':
        return e.a.k === 'const' ? e.a.v : 'unknown';
      case 'load': {
        const pattern = patternOf(e.index, this.v);
        const f = [...this.facts, ...this.own]
          .reverse()
          .find((x) => x.buffer === e.buffer && x.pattern === pattern);
        return f ? f.value : 'unknown';
      }
      case 'unary': {
        const a = this.value(e.a, regs, notNegInf);
        if (e.fn === 'neg' && typeof a === 'number') return -a;
        if (e.fn === 'exp' && a === -Infinity) return 0;
        return 'unknown';
      }
      case 'binary': {
        if (COMPARISONS.has(e.fn)) {
          const d = decide(e, this.v, this.beta);
          if (d !== undefined) return d;
        }
        const a = this.value(e.a, regs, notNegInf);
        const b = this.value(e.b, regs, notNegInf);
        if (
          e.fn === '==' &&
          (a === -Infinity || b === -Infinity) &&
          notNegInf.has(JSON.stringify(a === -Infinity ? e.b : e.a))
        )
          return 0;
        if (typeof a === 'number' && typeof b === 'number') return fold(e.fn, a, b);
        // −inf − x = −inf for any x but −inf (and NaN, which poisons the result either way).
        if (e.fn === '-' && a === -Infinity && notNegInf.has(JSON.stringify(e.b))) return -Infinity;
        if (e.fn === 'max' && a === -Infinity) return b;
        if (e.fn === 'max' && b === -Infinity) return a;
        return 'unknown';
      }
      case 'select': {
        const cond = this.value(e.cond, regs, notNegInf);
        if (typeof cond === 'number') return this.value(cond !== 0 ? e.a : e.b, regs, notNegInf);
        const a = this.value(e.a, regs, notNegInf);
        // In the else branch of `x == −inf`, x is not −inf.
        const c = e.cond;
        const negInf = (x: VExpr) =>
          (x.k === 'const' && x.v === -Infinity) ||
          (x.k === 'unary' && x.fn === 'neg' && x.a.k === 'const' && x.a.v === Infinity);
        const tested =
          c.k === 'binary' && c.fn === '==' ? (negInf(c.b) ? c.a : negInf(c.a) ? c.b : undefined) : undefined;
        const elseFacts = tested ? new Set([...notNegInf, JSON.stringify(tested)]) : notNegInf;
        const b = this.value(e.b, regs, elseFacts);
        return typeof a === 'number' && a === b ? a : 'unknown';
      }
    }
  }
}

function fold(fn: string, a: number, b: number): Abstract {
  const f = Math.fround;
  const r: Record<string, number> = {
    '+': f(a + b),
    '-': f(a - b),
    '*': f(a * b),
    '/': f(a / b),
    max: Math.max(a, b),
    min: Math.min(a, b),
    '<': +(a < b),
    '<=': +(a <= b),
    '>': +(a > b),
    '>=': +(a >= b),
    '==': +(a === b),
    '!=': +(a !== b),
  };
  const v = r[fn];
  return v === undefined || Number.isNaN(v) ? 'unknown' : v;
}
