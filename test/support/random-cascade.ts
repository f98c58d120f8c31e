// Random WELL-FORMED Ein programs, for property tests of the front-end and for differential tests of
// every pass and backend against the reference interpreter.
//
// A program is one entry kernel `main` (and sometimes a `helper` kernel it calls) built statement by
// statement from a model of its tensors (name, shape as polynomial size expressions over ranks, and a
// bound on |value|). Every statement is constructed so that the checker accepts it:
//   - each index name stands for one size within a statement; an index is bounded by a plain use
//     (`A[n, k]`), by its name (`n` ranges over rank N when nothing else bounds it), or by a declared
//     output shape;
//   - left-side indices are always bounded; reduced indices always occur in what they reduce;
//   - affine subscripts (`X[l + r]`, `X[m * K + k]`, `X[L + R - 2 - l - r]`) read inputs declared
//     with a matching compound shape (`X: f32[L + R - 1]`), so the bound holds for EVERY rank value;
//     the conv1d form with a declared `f32[L - R + 1]` output is generated only when the chosen rank
//     values satisfy L >= R;
//   - iterative ranks follow FuseMax: `S[0, p] = init` and `S[n + 1, p] = f(S[n, p], ...)`, read
//     later as `S[N, p]`, `S[n, p]` or `S[n + 1, p]`.
//
// Values and tolerances: with f32 inputs uniform in [-1, 1) (src/ir/random-inputs.ts) every value the
// program computes is finite. The generator tracks a conservative bound on |value| per expression
// and keeps it below ~1e4: log/sqrt/rsqrt take `abs(x) + 1`, exp takes arguments bounded by 4 (or
// `tanh(x)`), divisions are by `1 + x * x`, a rank, `sqrt(rank)` or a softmax denominator (>= 1),
// large tensors are squashed (`tanh(T)`, `T / (1 + T * T)`) before reuse, `prod` only multiplies
// values in [-1, 1]. Comparisons (`where(a < b, ...)`, `(a < b)` as 0/1) only compare exact values
// — input elements, indices, ranks, dyadic constants — so no backend rounding can flip a branch.
// Backends that round differently from the interpreter (f32 accumulation, fused multiply-add, fast
// exp) should therefore agree within |got - want| <= 1e-3 * max(1, bounds[output]); `bounds` gives
// the bound per output for the rank values in `ranks` (other rank values may exceed it).
//
// Usage:
//   fc.assert(fc.property(randomCascade({ allowCalls: false }), (c) => { ... }))
//   const c = generateCascade(seededChooser(42));          // without fast-check
//   const program = checkSource(c.source);
//   const bound = bindKernel(program, c.kernel, { ranks: c.ranks });
//   const outputs = runBound(bound, randomInputs(bound, seed));
import fc from 'fast-check';
import { seededRandom } from '../../src/ir/tensor.js';

// ---------------------------------------------------------------------------------------------------
// Options and results

export interface CascadeOptions {
  /** Statements in the entry kernel (at least 1; patterns such as softmax use several). Default 6. */
  readonly maxStatements?: number;
  /** f32 inputs of the entry kernel (at least 1). Default 4. An i32 index input may come on top. */
  readonly maxInputs?: number;
  /** Outputs of the entry kernel (at least 1). Default 3. */
  readonly maxOutputs?: number;
  /** Largest value of a symbolic rank (values are drawn from 1, 2, 3, 4, 5, 7 up to this). Default 7. */
  readonly maxRank?: number;
  /** Largest product of index extents in one statement (interpreter work). Default 20000. */
  readonly maxWork?: number;
  /** Iterative ranks `S[0, p] = ...` / `S[i + 1, p] = f(S[i, p], ...)`. Default true. */
  readonly allowIterative?: boolean;
  /** A helper kernel, called as `helper(X)[i, j]` or bound as `H = helper(X)`. Default true. */
  readonly allowCalls?: boolean;
  /** An i32 input used as a gather `T[ids[i], j]`. Default true. */
  readonly allowGather?: boolean;
  /** Affine subscripts (`X[l + r]`, `X[m * K + k]`) and compound shapes. Default true. */
  readonly allowAffine?: boolean;
  /** 0-d tensors (`S[] = sum[n] X[n]`) and a scalar input. Default true. */
  readonly allowScalars?: boolean;
  /** `where(a < b, x, y)` and comparisons used as 0/1 values. Default true. */
  readonly allowComparisons?: boolean;
  /** `x ^ 2` and `x ^ 3`. Default true. */
  readonly allowPower?: boolean;
  /** `rank G = 3` at top level and inside kernels. Default true. */
  readonly allowConstantRanks?: boolean;
  /**
   * Vary the layout for the front-end: comments everywhere, blank lines, `;`, two statements on one
   * line, redundant parentheses, odd spacing, parameters over several lines, CRLF. Default true.
   */
  readonly messy?: boolean;
}

/** Everything the generator can exercise; each program lists the ones it uses. */
export const FEATURES = [
  'map',
  'broadcast',
  'contraction',
  'explicit-sum',
  'reduce',
  'nested-reduce',
  'inner-reduce',
  'prod',
  'softmax',
  'iterative',
  'iterative-read',
  'affine',
  'blocked',
  'declared-output',
  'gather',
  'call',
  'call-inline',
  'multi-output-call',
  'where',
  'compare',
  'power',
  'unary',
  'divide',
  'rank-value',
  'index-value',
  'scalar',
  'scalar-input',
  'constant-rank',
  'comment',
] as const;

export type Feature = (typeof FEATURES)[number];

export interface RandomCascade {
  /** The program text. */
  readonly source: string;
  /** The entry kernel (always the last kernel of the source). */
  readonly kernel: string;
  /** Every kernel, callees first. */
  readonly kernels: readonly string[];
  /**
   * A value for every symbolic rank of the entry kernel — pass as `{ ranks }` to bindKernel or
   * interpret: ranks that appear only in compound shapes are not determined by input shapes.
   */
  readonly ranks: Readonly<Record<string, number>>;
  /** The entry kernel's outputs. */
  readonly outputs: readonly string[];
  /** A bound on |value| of each output for inputs in [-1, 1) and these rank values. */
  readonly bounds: Readonly<Record<string, number>>;
  /** What the program exercises (for coverage statistics). */
  readonly features: readonly Feature[];
}

/** The source of random choices. `int(min, max)` is inclusive; `min` is always the simplest choice. */
export interface Chooser {
  int(min: number, max: number): number;
}

export function seededChooser(seed: number): Chooser {
  const random = seededRandom(seed);
  return { int: (min, max) => min + Math.floor(random() * (max - min + 1)) };
}

/** A fast-check arbitrary of well-formed programs; shrinking moves every choice towards the simplest. */
export function randomCascade(options: CascadeOptions = {}): fc.Arbitrary<RandomCascade> {
  return fc.gen().map((g) => generateCascade({ int: (min, max) => g(fc.integer, { min, max }) }, options));
}

const DEFAULTS: Required<CascadeOptions> = {
  maxStatements: 6,
  maxInputs: 4,
  maxOutputs: 3,
  maxRank: 7,
  maxWork: 20000,
  allowIterative: true,
  allowCalls: true,
  allowGather: true,
  allowAffine: true,
  allowScalars: true,
  allowComparisons: true,
  allowPower: true,
  allowConstantRanks: true,
  messy: true,
};

/** Generate one program from a chooser (or a seed). */
export function generateCascade(choose: Chooser | number, options: CascadeOptions = {}): RandomCascade {
  const chooser = typeof choose === 'number' ? seededChooser(choose) : choose;
  const opts = { ...DEFAULTS, ...options };
  return new ProgramGen(new Choices(chooser), opts).build();
}

// ---------------------------------------------------------------------------------------------------
// Choices

class Choices {
  constructor(private readonly c: Chooser) {}
  int(min: number, max: number): number {
    return max <= min ? min : this.c.int(min, max);
  }
  /** True with probability `percent`%; shrinks to false. */
  chance(percent: number): boolean {
    return this.int(0, 99) >= 100 - percent;
  }
  /** Shrinks to the first element. */
  pick<T>(xs: readonly T[]): T {
    if (xs.length === 0) throw new Error('internal: pick from nothing');
    return xs[this.int(0, xs.length - 1)]!;
  }
  /** Weighted choice; shrinks to the first option. */
  weighted<T>(options: readonly (readonly [number, T])[]): T {
    const live = options.filter(([w]) => w > 0);
    const total = live.reduce((s, [w]) => s + w, 0);
    let x = this.int(0, total - 1);
    for (const [w, v] of live) {
      if (x < w) return v;
      x -= w;
    }
    return live[live.length - 1]![1];
  }
  shuffle<T>(xs: readonly T[]): T[] {
    const out = [...xs];
    for (let i = out.length - 1; i > 0; i--) {
      const j = this.int(0, i);
      [out[i], out[j]] = [out[j]!, out[i]!];
    }
    return out;
  }
}

// ---------------------------------------------------------------------------------------------------
// Sizes: polynomials over rank names. Keys are monomials ('' for the constant, 'K*M' for a product).

type Dim = ReadonlyMap<string, number>;

const rankDim = (name: string): Dim => new Map([[name, 1]]);
const constDim = (n: number): Dim => new Map([['', n]]);

function dimAdd(a: Dim, b: Dim, scale = 1): Dim {
  const out = new Map(a);
  for (const [k, v] of b) out.set(k, (out.get(k) ?? 0) + scale * v);
  for (const [k, v] of [...out]) if (v === 0) out.delete(k);
  return out;
}

function dimMul(a: Dim, b: Dim): Dim {
  let out: Dim = new Map();
  for (const [ka, va] of a)
    for (const [kb, vb] of b) {
      const key = [...ka.split('*'), ...kb.split('*')].filter(Boolean).sort().join('*');
      out = dimAdd(out, new Map([[key, va * vb]]));
    }
  return out;
}

function dimKey(d: Dim): string {
  return (
    [...d]
      .filter(([, v]) => v !== 0)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([k, v]) => `${v}${k ? '*' + k : ''}`)
      .join('+') || '0'
  );
}

const sameDim = (a: Dim, b: Dim) => dimKey(a) === dimKey(b);

/** Ein text of a size, in insertion order (the first term is always positive here). */
function dimText(d: Dim): string {
  let out = '';
  for (const [k, v] of d) {
    if (v === 0) continue;
    const mono = k ? k.split('*').join(' * ') : '';
    const mag = Math.abs(v);
    const body = !mono ? String(mag) : mag === 1 ? mono : `${mag} * ${mono}`;
    out += out === '' ? (v < 0 ? `-${body}` : body) : v < 0 ? ` - ${body}` : ` + ${body}`;
  }
  return out || '0';
}

function dimValue(d: Dim, values: ReadonlyMap<string, number>): number {
  let total = 0;
  for (const [k, v] of d) total += v * (k ? k.split('*').reduce((p, r) => p * values.get(r)!, 1) : 1);
  return total;
}

function dimSubst(d: Dim, bindings: ReadonlyMap<string, Dim>): Dim {
  let out: Dim = new Map();
  for (const [k, v] of d) {
    let term: Dim = constDim(v);
    for (const r of k ? k.split('*') : []) term = dimMul(term, bindings.get(r) ?? rankDim(r));
    out = dimAdd(out, term);
  }
  return out;
}

/** The rank a size is exactly, if it is one rank. */
function plainRank(d: Dim): string | undefined {
  if (d.size !== 1) return undefined;
  const [k, v] = [...d][0]!;
  return v === 1 && k !== '' && !k.includes('*') ? k : undefined;
}

// ---------------------------------------------------------------------------------------------------
// Expressions as text with precedence (the parser's: comparison 1 < + - 2 < * / 3 < unary - 4 < ^ 5
// < primary 6; a reduction, 0, takes the rest of the expression as its body).

interface Ex {
  readonly text: string;
  readonly prec: number;
  readonly bound: number;
  /** Exactly representable and computed identically everywhere (safe to compare). */
  readonly exact?: boolean;
}

const ATOM = 6;
const atom = (text: string, bound: number, exact = false): Ex => ({ text, prec: ATOM, bound, exact });

/** Values stay below this; bigger ones are squashed. */
const TAME = 1e4;

interface TensorDesc {
  readonly name: string;
  readonly dtype: 'f32' | 'i32';
  readonly dims: readonly Dim[];
  readonly bound: number;
  readonly input: boolean;
  /** The generation axis of an iterative tensor and the size `n` ranges over (the axis is `n + 1`). */
  readonly iterative?: { readonly axis: number; readonly gens: Dim };
}

interface RankSym {
  readonly name: string;
  readonly value: number;
  /** Set by the source (`rank G = 3`): not passed to bindKernel. */
  readonly constant: boolean;
  /** Declared inside the kernel body: not usable in parameter or output shapes. */
  readonly local?: boolean;
}

interface HelperInfo {
  readonly name: string;
  readonly params: readonly TensorDesc[];
  readonly outputs: readonly TensorDesc[];
  /** The helper's symbolic ranks (bound at each call by its arguments' shapes). */
  readonly symbolic: ReadonlySet<string>;
  /** The values its bounds were computed for: a call may bind its ranks to sizes no larger. */
  readonly values: ReadonlyMap<string, number>;
}

/** Index names of one statement, each standing for one size. */
class StmtScope {
  readonly dims = new Map<string, Dim>();
  fresh(dim: Dim): string {
    const plain = plainRank(dim);
    for (let i = 0; ; i++) {
      const name = plain ? (i === 0 ? plain.toLowerCase() : `${plain.toLowerCase()}${i}`) : `q${i}`;
      if (!this.dims.has(name)) {
        this.dims.set(name, dim);
        return name;
      }
    }
  }
  /** The index bounded by its own name (`n` over N), if still free in this statement. */
  byName(rank: string): string | undefined {
    const name = rank.toLowerCase();
    if (this.dims.has(name)) return undefined;
    this.dims.set(name, rankDim(rank));
    return name;
  }
}

interface Ctx {
  readonly scope: StmtScope;
  /** Indices usable as free indices here (the left side, plus enclosing reductions). */
  readonly indices: readonly string[];
  readonly depth: number;
}

const POOL = ['N', 'M', 'K', 'P', 'D', 'E', 'F', 'L', 'R', 'C'];
const CONSTANT_POOL = ['B', 'G', 'H'];
const RANK_VALUES = [2, 3, 1, 4, 5, 7];
const COMMENTS = [
  '# note',
  '# a comment',
  '#',
  '#tight',
  '# ∑ über [i, j] -> {x}',
  '# TODO: tile p by 64',
  '##',
  '# sum[k] A[i, k] * B[k, j]',
];

// ---------------------------------------------------------------------------------------------------
// One kernel

interface Line {
  readonly code: string;
}

class KernelGen {
  readonly tensors: TensorDesc[] = [];
  readonly lines: Line[] = [];
  readonly outputsForced: string[] = [];
  readonly declaredShape = new Map<string, Dim[]>();
  statements = 0;
  private counter = 0;
  private hasIds = false;
  private hasScalarInput = false;

  constructor(
    readonly r: Choices,
    readonly opts: Required<CascadeOptions>,
    readonly name: string,
    /** Every rank visible in this kernel so far (constants and the symbolic ranks of its inputs). */
    readonly ranks: Map<string, RankSym>,
    /** Ranks that may be added as new symbolic ranks (for affine inputs). */
    readonly spare: string[],
    readonly features: Set<Feature>,
    public helper: HelperInfo | undefined,
    readonly isHelper: boolean,
    /** Bound on |value| of inputs (1 for the entry kernel; more for a helper called on intermediates). */
    readonly inputBound: number,
  ) {}

  get values(): Map<string, number> {
    return new Map([...this.ranks.values()].map((r) => [r.name, r.value]));
  }

  get inputs(): TensorDesc[] {
    return this.tensors.filter((t) => t.input);
  }

  f32Inputs(): number {
    return this.inputs.filter((t) => t.dtype === 'f32' && t.dims.length > 0).length;
  }

  newName(): string {
    return `T${++this.counter}`;
  }

  addInput(name: string, dims: Dim[], dtype: 'f32' | 'i32' = 'f32'): TensorDesc {
    const t: TensorDesc = { name, dtype, dims, bound: this.inputBound, input: true };
    this.tensors.push(t);
    return t;
  }

  private extent(d: Dim): number {
    return dimValue(d, this.values);
  }

  private work(scope: StmtScope): number {
    let w = 1;
    for (const d of scope.dims.values()) w *= Math.max(1, this.extent(d));
    return w;
  }

  /** Plain ranks visible here (usable as a broadcast dimension or a value). */
  private plainRanks(): string[] {
    return [...this.ranks.keys()];
  }

  private values32(): TensorDesc[] {
    return this.tensors.filter((t) => t.dtype === 'f32');
  }

  // --- text helpers ---

  at(e: Ex, min: number): string {
    if (e.prec < min || (this.opts.messy && e.prec < ATOM && this.r.chance(6))) return `(${e.text})`;
    return e.text;
  }

  bin(op: string, a: Ex, b: Ex): Ex {
    const [p, lp, rp] =
      op === '+' || op === '-' ? [2, 2, 3] : op === '*' || op === '/' ? [3, 3, 4] : [1, 2, 2];
    const bound =
      op === '+' || op === '-'
        ? a.bound + b.bound
        : op === '*'
          ? a.bound * b.bound
          : op === '/'
            ? a.bound
            : 1;
    const exact = p === 2 && a.exact && b.exact && Number.isInteger(a.bound) && Number.isInteger(b.bound);
    return { text: `${this.at(a, lp)} ${op} ${this.at(b, rp)}`, prec: p, bound, exact };
  }

  call(fn: string, args: Ex[], bound: number): Ex {
    return atom(`${fn}(${args.map((a) => this.at(a, 0)).join(', ')})`, bound);
  }

  /** Keep a value below TAME (or below `limit`). */
  tame(e: Ex, limit = TAME): Ex {
    if (e.bound <= limit) return e;
    if (this.r.chance(50)) return this.call('tanh', [e], 1);
    const t = this.at(e, 4);
    return { text: `${this.at(e, 3)} / (1 + ${t} * ${t})`, prec: 3, bound: 0.5 };
  }

  num(): Ex {
    const [text, v] = this.r.pick([
      ['2', 2],
      ['0.5', 0.5],
      ['1', 1],
      ['3', 3],
      ['0.25', 0.25],
      ['1e-3', 1e-3],
      ['0.1', 0.1],
      ['1.5', 1.5],
      ['10', 10],
      ['.5', 0.5],
      ['2.0', 2],
      ['0', 0],
    ] as const);
    return atom(text, v, ['2', '0.5', '1', '3', '0.25', '.5', '2.0', '0', '1.5', '10'].includes(text));
  }

  // --- leaves ---

  /** Subscripts for `dims` from the usable indices (undefined if some axis has no index). */
  private match(ctx: Ctx, dims: readonly Dim[]): string[] | undefined {
    const out: string[] = [];
    for (const d of dims) {
      const options = ctx.indices.filter((i) => sameDim(ctx.scope.dims.get(i)!, d));
      if (options.length === 0) return undefined;
      out.push(this.r.pick(options));
    }
    return out;
  }

  access(t: TensorDesc, subs: readonly string[]): Ex {
    const text =
      t.dims.length === 0 ? (this.r.chance(20) ? `${t.name}[]` : t.name) : `${t.name}[${subs.join(', ')}]`;
    return atom(text, t.bound, t.input && t.dtype === 'f32');
  }

  /** A read of tensor `t` with the usable indices, squashed when large. */
  private tensorLeaf(ctx: Ctx, t: TensorDesc): Ex | undefined {
    let leaf: Ex;
    if (t.iterative) {
      const { axis, gens } = t.iterative;
      const others = t.dims.filter((_, i) => i !== axis);
      const subs = this.match(ctx, others);
      if (!subs) return undefined;
      const options = ctx.indices.filter((i) => sameDim(ctx.scope.dims.get(i)!, gens));
      const gen =
        options.length > 0 && this.r.chance(50)
          ? this.r.pick(options) + (this.r.chance(50) ? ' + 1' : '')
          : dimText(gens);
      subs.splice(axis, 0, gen);
      this.features.add('iterative-read');
      leaf = atom(`${t.name}[${subs.join(', ')}]`, t.bound);
    } else {
      const subs = this.match(ctx, t.dims);
      if (!subs) return undefined;
      leaf = this.access(t, subs);
    }
    return leaf.bound > 16 ? this.tame(leaf, 16) : leaf;
  }

  /** `helper(args)[subs]` for a one-output helper, if its arguments and subscripts can be found. */
  private callLeaf(ctx: Ctx): Ex | undefined {
    const h = this.helper;
    if (!h || h.outputs.length !== 1) return undefined;
    const bound = this.bindHelper(h);
    if (!bound) return undefined;
    const dims = h.outputs[0]!.dims.map((d) => dimSubst(d, bound.bindings));
    const subs = this.match(ctx, dims);
    if (!subs) return undefined;
    this.features.add('call');
    this.features.add('call-inline');
    return atom(`${h.name}(${bound.args.join(', ')})[${subs.join(', ')}]`, h.outputs[0]!.bound);
  }

  /** Arguments for the helper: tensors whose shapes fit its parameters under one rank binding. */
  bindHelper(h: HelperInfo): { args: string[]; bindings: Map<string, Dim> } | undefined {
    const bindings = new Map<string, Dim>();
    const args: string[] = [];
    for (const p of h.params) {
      const fits = this.values32().filter(
        (t) =>
          !t.iterative &&
          t.bound <= h.params[0]!.bound &&
          t.dims.length === p.dims.length &&
          this.fitsHelper(unify(p.dims, t.dims, h.symbolic, new Map(bindings)), h),
      );
      if (fits.length === 0) return undefined;
      const t = this.r.pick(fits);
      for (const [k, v] of unify(p.dims, t.dims, h.symbolic, bindings)!) bindings.set(k, v);
      args.push(t.name);
    }
    return { args, bindings };
  }

  private fitsHelper(bindings: Map<string, Dim> | undefined, h: HelperInfo): boolean {
    return (
      bindings !== undefined && [...bindings].every(([rank, d]) => this.extent(d) <= h.values.get(rank)!)
    );
  }

  leaf(ctx: Ctx): Ex {
    for (let attempt = 0; attempt < 4; attempt++) {
      const kind = this.r.weighted<string>([
        [10, 'tensor'],
        [3, 'num'],
        [ctx.indices.length > 0 ? 2 : 0, 'index'],
        [2, 'rank'],
        [ctx.depth < 2 ? 3 : 0, 'reduce'],
        [this.helper ? 4 : 0, 'call'],
      ]);
      if (kind === 'tensor') {
        const options = this.values32().filter(
          (t) =>
            t.dims.length === 0 ||
            this.match(
              ctx,
              t.dims.filter((_, i) => i !== t.iterative?.axis),
            ),
        );
        if (options.length === 0) continue;
        const iterative = options.filter((t) => t.iterative);
        const t = iterative.length > 0 && this.r.chance(30) ? this.r.pick(iterative) : this.r.pick(options);
        const leaf = this.tensorLeaf(ctx, t);
        if (leaf) return leaf;
      } else if (kind === 'num') return this.num();
      else if (kind === 'index') {
        const i = this.r.pick(ctx.indices);
        this.features.add('index-value');
        const ex = atom(i, Math.max(0, this.extent(ctx.scope.dims.get(i)!) - 1), true);
        return this.r.chance(40) ? this.bin('*', ex, atom('0.25', 0.25, true)) : ex;
      } else if (kind === 'rank') {
        const name = this.r.pick(this.plainRanks());
        this.features.add('rank-value');
        const v = this.ranks.get(name)!.value;
        return this.r.chance(40)
          ? this.call('sqrt', [atom(name, v, true)], Math.sqrt(v))
          : atom(name, v, true);
      } else if (kind === 'reduce') {
        const red = this.innerReduce(ctx);
        if (red) return red;
      } else {
        const c = this.callLeaf(ctx);
        if (c) return c;
      }
    }
    return this.num();
  }

  /** A value compared exactly: an input element, an index, a rank or a dyadic constant. */
  private exactLeaf(ctx: Ctx): Ex {
    for (let attempt = 0; attempt < 3; attempt++) {
      const kind = this.r.pick(['input', 'index', 'num', 'rank']);
      if (kind === 'input') {
        const inputs = this.inputs.filter((t) => t.dtype === 'f32' && this.match(ctx, t.dims));
        if (inputs.length === 0) continue;
        const t = this.r.pick(inputs);
        return this.access(t, this.match(ctx, t.dims)!);
      }
      if (kind === 'index' && ctx.indices.length > 0) {
        const i = this.r.pick(ctx.indices);
        const e = atom(i, this.extent(ctx.scope.dims.get(i)!), true);
        return this.r.chance(30) ? this.bin('+', e, atom('1', 1, true)) : e;
      }
      if (kind === 'rank') {
        const name = this.r.pick(this.plainRanks());
        return atom(name, this.ranks.get(name)!.value, true);
      }
    }
    return this.r.pick([
      atom('0', 0, true),
      atom('0.5', 0.5, true),
      { text: '-0.25', prec: 4, bound: 0.25, exact: true },
    ]);
  }

  private condition(ctx: Ctx): Ex {
    const op = this.r.pick(['<', '<=', '>', '>=', '==', '!=']);
    const a = this.exactLeaf(ctx);
    const b = this.exactLeaf(ctx);
    this.features.add('compare');
    return { ...this.bin(op, a, b), bound: 1 };
  }

  /** `op[k] body`, with k a fresh index over an axis of some tensor. */
  private innerReduce(ctx: Ctx): Ex | undefined {
    const options = this.values32().filter((t) => t.dims.length > 0 && !t.iterative);
    if (options.length === 0) return undefined;
    const t = this.r.pick(options);
    const subs: string[] = [];
    const reduced: string[] = [];
    for (const d of t.dims) {
      const usable = ctx.indices.filter((i) => sameDim(ctx.scope.dims.get(i)!, d));
      if (usable.length > 0 && this.r.chance(60)) subs.push(this.r.pick(usable));
      else {
        const k = ctx.scope.fresh(d);
        subs.push(k);
        reduced.push(k);
      }
    }
    if (reduced.length === 0) {
      // Reduce the last axis anyway.
      const k = ctx.scope.fresh(t.dims[t.dims.length - 1]!);
      subs[subs.length - 1] = k;
      reduced.push(k);
    }
    if (this.work(ctx.scope) > this.opts.maxWork) return undefined;
    const inner: Ctx = { scope: ctx.scope, indices: [...ctx.indices, ...reduced], depth: ctx.depth + 1 };
    const op = this.r.weighted([
      [5, 'sum'],
      [3, 'max'],
      [2, 'min'],
      [1, 'prod'],
    ] as const);
    let body = this.combine(this.tame(this.access(t, subs), 16), inner, 1);
    const n = reduced.reduce((p, k) => p * this.extent(ctx.scope.dims.get(k)!), 1);
    let bound = body.bound;
    if (op === 'prod') {
      if (body.bound > 1) body = this.call(this.r.pick(['tanh', 'sigmoid', 'erf']), [body], 1);
      bound = 1;
      this.features.add('prod');
    } else if (op === 'sum') bound = body.bound * n;
    this.features.add('inner-reduce');
    return { text: `${op}[${reduced.join(', ')}] ${this.at(body, 0)}`, prec: 0, bound };
  }

  // --- expressions ---

  /** A random expression over the usable indices, `size` roughly the number of operators. */
  expr(ctx: Ctx, size: number): Ex {
    if (size <= 0) return this.leaf(ctx);
    const kind = this.r.weighted<string>([
      [6, 'arith'],
      [3, 'unary'],
      [2, 'divide'],
      [this.opts.allowComparisons ? 2 : 0, 'where'],
      [2, 'maxmin'],
      [1, 'neg'],
      [this.opts.allowPower ? 1 : 0, 'power'],
      [this.opts.allowComparisons ? 1 : 0, 'compare'],
    ]);
    const sub = () => this.expr(ctx, this.r.int(0, size - 1));
    switch (kind) {
      case 'unary':
        return this.unary(sub());
      case 'divide':
        return this.divide(sub(), ctx);
      case 'where': {
        this.features.add('where');
        const [a, b] = [sub(), sub()];
        return this.call('where', [this.condition(ctx), a, b], Math.max(a.bound, b.bound));
      }
      case 'maxmin': {
        const [a, b] = [sub(), sub()];
        return this.call(this.r.pick(['max', 'min']), [a, b], Math.max(a.bound, b.bound));
      }
      case 'neg': {
        const a = sub();
        return { text: `-${this.at(a, 5)}`, prec: 4, bound: a.bound };
      }
      case 'power': {
        const a = this.tame(sub(), 20);
        this.features.add('power');
        const k = this.r.pick([2, 3]);
        return { text: `${this.at(a, ATOM)} ^ ${k}`, prec: 5, bound: a.bound ** k };
      }
      case 'compare': {
        const c = this.condition(ctx);
        const a = sub();
        return this.tame(this.bin('*', { ...c, text: `(${c.text})`, prec: ATOM }, a));
      }
      default: {
        const op = this.r.pick(['+', '-', '*']);
        return this.tame(this.bin(op, sub(), sub()));
      }
    }
  }

  unary(a: Ex): Ex {
    this.features.add('unary');
    const fn = this.r.pick(['exp', 'tanh', 'log', 'sqrt', 'rsqrt', 'sigmoid', 'erf', 'abs']);
    switch (fn) {
      case 'exp': {
        const arg = a.bound > 4 ? this.call('tanh', [a], 1) : a;
        return this.call('exp', [arg], Math.exp(arg.bound));
      }
      case 'log':
      case 'sqrt':
      case 'rsqrt': {
        const pos = this.r.chance(50)
          ? this.bin('+', this.call('abs', [a], a.bound), atom('1', 1))
          : this.bin('+', atom('1', 1), this.bin('*', a, a));
        const arg = { ...pos, bound: fn === 'log' || fn === 'sqrt' ? pos.bound : 1 };
        const bound = fn === 'log' ? Math.log(pos.bound) + 1 : fn === 'sqrt' ? Math.sqrt(pos.bound) + 1 : 1;
        return this.call(fn, [arg], bound);
      }
      case 'abs':
        return this.call('abs', [a], a.bound);
      default:
        return this.call(fn, [a], 1);
    }
  }

  divide(a: Ex, ctx: Ctx): Ex {
    this.features.add('divide');
    const kind = this.r.pick(['square', 'rank', 'sqrt', 'num']);
    if (kind === 'rank' || kind === 'sqrt') {
      const name = this.r.pick(this.plainRanks());
      const rank = atom(name, this.ranks.get(name)!.value, true);
      return this.bin('/', a, kind === 'sqrt' ? this.call('sqrt', [rank], 1) : rank);
    }
    if (kind === 'num') {
      const [text, v] = this.r.pick([
        ['2', 2],
        ['4', 4],
        ['0.5', 0.5],
      ] as const);
      return { ...this.bin('/', a, atom(text, v)), bound: a.bound / v };
    }
    const x = this.tame(this.leaf(ctx), 100);
    const sq = this.bin('*', x, x);
    return { ...this.bin('/', a, { ...this.bin('+', atom('1', 1), sq), prec: 2 }), bound: a.bound };
  }

  /** `anchor` combined with a random expression (the anchor is always read). */
  combine(anchor: Ex, ctx: Ctx, size: number): Ex {
    const how = this.r.weighted([
      [3, 'alone'],
      [4, 'binary'],
      [2, 'unary'],
      [1, 'scale'],
    ] as const);
    if (how === 'alone' || size <= 0) return anchor;
    if (how === 'unary') return this.unary(anchor);
    if (how === 'scale') return this.bin('*', anchor, this.num());
    const other = this.expr(ctx, size - 1);
    const op = this.r.pick(['+', '-', '*']);
    return this.tame(this.r.chance(50) ? this.bin(op, anchor, other) : this.bin(op, other, anchor));
  }

  // --- statements ---

  private define(t: TensorDesc, code: string): void {
    this.tensors.push(t);
    this.lines.push({ code });
    this.statements++;
  }

  private lhs(name: string, subs: readonly string[]): string {
    return `${name}[${subs.join(', ')}]`;
  }

  /** Usable anchors: f32, not iterative. */
  private anchors(minAxes = 0): TensorDesc[] {
    return this.values32().filter((t) => !t.iterative && t.dims.length >= minAxes);
  }

  /** Try to add one statement (or a pattern of several); false if this kind does not fit now. */
  statement(budget: number): boolean {
    const o = this.opts;
    const kind = this.r.weighted<string>([
      [5, 'map'],
      [4, 'contraction'],
      [4, 'reduction'],
      [budget >= 4 ? 2 : 0, 'softmax'],
      [o.allowIterative && budget >= 2 ? 2 : 0, 'iterative'],
      [o.allowAffine && !this.isHelper ? 2 : 0, 'affine'],
      [o.allowGather && !this.isHelper ? 1 : 0, 'gather'],
      [this.helper ? 2 : 0, 'binding'],
    ]);
    switch (kind) {
      case 'map':
        return this.mapStatement();
      case 'contraction':
        return this.contraction();
      case 'reduction':
        return this.reduction();
      case 'softmax':
        return this.softmax();
      case 'iterative':
        return this.iterative();
      case 'affine':
        return this.affine();
      case 'gather':
        return this.gather();
      default:
        return this.binding();
    }
  }

  /** `T[lhs] = f(A[lhs], ...)`, possibly permuted and broadcast over an extra rank. */
  mapStatement(): boolean {
    const scope = new StmtScope();
    const anchors = this.anchors();
    const anchor = anchors.length > 0 && this.r.int(0, 9) > 0 ? this.r.pick(anchors) : undefined;
    const idx = anchor ? anchor.dims.map((d) => scope.fresh(d)) : [];
    let lhs = this.r.chance(25) ? this.r.shuffle(idx) : [...idx];
    if (lhs.length < 3 && (this.r.chance(25) || lhs.length === 0)) {
      const extra = scope.byName(this.r.pick(this.plainRanks()));
      if (extra) {
        lhs.splice(this.r.int(0, lhs.length), 0, extra);
        this.features.add('broadcast');
      }
    }
    if (lhs.length === 0 && !this.opts.allowScalars) return false;
    const ctx: Ctx = { scope, indices: lhs, depth: 0 };
    const body = anchor
      ? this.combine(this.access(anchor, idx), ctx, this.r.int(0, 3))
      : this.expr(ctx, this.r.int(0, 3));
    if (this.work(scope) > this.opts.maxWork) return false;
    const name = this.newName();
    const dims = lhs.map((i) => scope.dims.get(i)!);
    if (dims.length === 0) this.features.add('scalar');
    this.features.add('map');
    this.define(
      { name, dtype: 'f32', dims, bound: body.bound, input: false },
      `${this.lhs(name, lhs)} = ${body.text}`,
    );
    return true;
  }

  /** `T[...] = A[.., k, ..] * B[.., k, ..]`: the einsum rule sums k (sometimes written `sum[k]`). */
  contraction(): boolean {
    const options = this.anchors(1);
    if (options.length === 0) return false;
    const a = this.r.pick(options);
    const partners = options.filter((b) => b.dims.some((d) => a.dims.some((e) => sameDim(d, e))));
    const b = this.r.pick(partners);
    const scope = new StmtScope();
    const aSubs = a.dims.map((d) => scope.fresh(d));
    const contracted: string[] = [];
    const used = new Set<number>();
    const bSubs = b.dims.map((d) => {
      const j = a.dims.findIndex((e, i) => !used.has(i) && sameDim(d, e));
      if (j >= 0 && (contracted.length === 0 || this.r.chance(50))) {
        used.add(j);
        if (this.r.chance(80) || contracted.length === 0) contracted.push(aSubs[j]!);
        return aSubs[j]!;
      }
      return scope.fresh(d);
    });
    const lhs = [...new Set([...aSubs, ...bSubs])].filter((i) => !contracted.includes(i));
    if (lhs.length > 3) return false;
    if (lhs.length === 0 && !this.opts.allowScalars) return false;
    const ctx: Ctx = { scope, indices: [...lhs, ...contracted], depth: 1 };
    const fa = this.r.chance(30) ? this.unary(this.access(a, aSubs)) : this.access(a, aSubs);
    const fb = this.r.chance(30) ? this.unary(this.access(b, bSubs)) : this.access(b, bSubs);
    let body = this.tame(this.bin('*', fa, fb));
    if (this.r.chance(20)) body = this.divide(body, ctx);
    if (this.work(scope) > this.opts.maxWork) return false;
    const n = contracted.reduce((p, k) => p * this.extent(scope.dims.get(k)!), 1);
    const explicit = this.r.chance(30);
    const order = this.r.chance(20) ? this.r.shuffle(lhs) : lhs;
    const name = this.newName();
    this.features.add('contraction');
    if (explicit) this.features.add('explicit-sum');
    if (order.length === 0) this.features.add('scalar');
    const rhs = explicit ? `sum[${contracted.join(', ')}] ${body.text}` : body.text;
    this.define(
      { name, dtype: 'f32', dims: order.map((i) => scope.dims.get(i)!), bound: body.bound * n, input: false },
      `${this.lhs(name, order)} = ${rhs}`,
    );
    return true;
  }

  /** `T[lhs] = op[k] f(A[..])`, over one or more axes, sometimes nested `max[j] sum[k] ...`. */
  reduction(): boolean {
    const options = this.anchors(1);
    if (options.length === 0) return false;
    const a = this.r.pick(options);
    const scope = new StmtScope();
    const subs = a.dims.map((d) => scope.fresh(d));
    const reduced = subs.filter((_, i) => i === subs.length - 1 || this.r.chance(30));
    const lhs = subs.filter((s) => !reduced.includes(s));
    if (lhs.length === 0 && !this.opts.allowScalars) return false;
    if (this.work(scope) > this.opts.maxWork) return false;
    const ctx: Ctx = { scope, indices: subs, depth: 1 };
    let body = this.combine(this.access(a, subs), ctx, this.r.int(0, 2));
    const ops = ['sum', 'max', 'min'] as const;
    let rhs: string;
    let bound = body.bound;
    const n = reduced.reduce((p, k) => p * this.extent(scope.dims.get(k)!), 1);
    if (reduced.length > 1 && this.r.chance(40)) {
      // Nested: one reduction per index, innermost last.
      this.features.add('nested-reduce');
      const chosen = reduced.map(() => this.r.pick(ops));
      rhs = chosen.map((op, i) => `${op}[${reduced[i]}] `).join('') + this.at(body, 0);
      bound = chosen.reduce(
        (b, op, i) => (op === 'sum' ? b * this.extent(scope.dims.get(reduced[i]!)!) : b),
        bound,
      );
    } else {
      const op = this.r.weighted([
        [4, 'sum'],
        [3, 'max'],
        [2, 'min'],
        [1, 'prod'],
        [2, 'implicit'],
      ] as const);
      if (op === 'prod') {
        if (body.bound > 1) body = this.call('tanh', [body], 1);
        bound = 1;
        this.features.add('prod');
      } else if (op === 'sum' || op === 'implicit') bound *= n;
      rhs = op === 'implicit' ? body.text : `${op}[${reduced.join(', ')}] ${this.at(body, 0)}`;
    }
    const order = this.r.chance(20) ? this.r.shuffle(lhs) : lhs;
    const name = this.newName();
    this.features.add('reduce');
    if (order.length === 0) this.features.add('scalar');
    this.define(
      { name, dtype: 'f32', dims: order.map((i) => scope.dims.get(i)!), bound, input: false },
      `${this.lhs(name, order)} = ${rhs}`,
    );
    return true;
  }

  /** The numerically stable softmax cascade over one axis of A: max, exp, sum, divide. */
  softmax(): boolean {
    const options = this.anchors(1);
    if (options.length === 0) return false;
    const a = this.r.pick(options);
    const scope = new StmtScope();
    const subs = a.dims.map((d) => scope.fresh(d));
    if (this.work(scope) > this.opts.maxWork) return false;
    const k = this.r.pick(subs);
    const rest = subs.filter((s) => s !== k);
    if (rest.length === 0 && !this.opts.allowScalars) return false;
    const [mx, ex, sx, y] = [this.newName(), this.newName(), this.newName(), this.newName()];
    const restDims = rest.map((i) => scope.dims.get(i)!);
    const read = (t: string, s: string[]) => (s.length === 0 ? t : `${t}[${s.join(', ')}]`);
    const x = this.access(a, subs).text;
    this.define(
      { name: mx, dtype: 'f32', dims: restDims, bound: a.bound, input: false },
      `${this.lhs(mx, rest)} = max[${k}] ${x}`,
    );
    this.define(
      { name: ex, dtype: 'f32', dims: a.dims, bound: 1, input: false },
      `${this.lhs(ex, subs)} = exp(${x} - ${read(mx, rest)})`,
    );
    this.define(
      { name: sx, dtype: 'f32', dims: restDims, bound: this.extent(scope.dims.get(k)!), input: false },
      `${this.lhs(sx, rest)} = sum[${k}] ${read(ex, subs)}`,
    );
    this.define(
      { name: y, dtype: 'f32', dims: a.dims, bound: 1, input: false },
      `${this.lhs(y, subs)} = ${read(ex, subs)} / ${read(sx, rest)}`,
    );
    this.features.add('softmax');
    return true;
  }

  /** FuseMax's iterative rank: `S[0, p] = init`, `S[n + 1, p] = f(S[n, p], A[n, p])`. */
  iterative(): boolean {
    const options = this.anchors(1);
    if (options.length === 0) return false;
    const a = this.r.pick(options);
    const scope = new StmtScope();
    const subs = a.dims.map((d) => scope.fresh(d));
    if (this.work(scope) > this.opts.maxWork) return false;
    const g = this.r.int(0, subs.length - 1);
    const n = subs[g]!;
    const gens = a.dims[g]!;
    const others = subs.filter((_, i) => i !== g);
    const axis = this.r.int(0, others.length);
    const at = (gen: string) => {
      const s = [...others];
      s.splice(axis, 0, gen);
      return s;
    };
    const name = this.newName();
    const ctx: Ctx = { scope, indices: subs, depth: 1 };
    const body = this.tame(this.combine(this.access(a, subs), ctx, this.r.int(0, 2)), 100);
    // The init reads only the other indices (bounded by S's own shape once the update is known).
    const initCtx: Ctx = { scope, indices: others, depth: 1 };
    const init = this.r.chance(50)
      ? this.r.pick([atom('0', 0), atom('1', 1), this.num()])
      : this.tame(this.expr(initCtx, 1), 100);
    const prev = `${name}[${at(n).join(', ')}]`;
    const steps = this.extent(gens);
    const form = this.r.pick(['sum', 'decay', 'max', 'rescale'] as const);
    const update =
      form === 'sum'
        ? { text: `${prev} + ${this.at(body, 3)}`, bound: init.bound + steps * body.bound }
        : form === 'decay'
          ? { text: `${prev} * 0.5 + ${this.at(body, 3)}`, bound: init.bound + 2 * body.bound }
          : form === 'max'
            ? { text: `max(${prev}, ${body.text})`, bound: Math.max(init.bound, body.bound) }
            : { text: `${prev} * tanh(${body.text}) + 0.5`, bound: init.bound + 0.5 * steps };
    const dims = at('').map((_, i) => (i === axis ? dimAdd(gens, constDim(1)) : scope.dims.get(at('')[i]!)!));
    const t: TensorDesc = {
      name,
      dtype: 'f32',
      dims,
      bound: update.bound,
      input: false,
      iterative: { axis, gens },
    };
    const initLine = `${this.lhs(name, at('0'))} = ${init.text}`;
    const updateLine = `${this.lhs(name, at(`${n} + 1`))} = ${update.text}`;
    this.tensors.push(t);
    const lines = this.r.chance(80) ? [initLine, updateLine] : [updateLine, initLine];
    for (const code of lines) this.lines.push({ code });
    this.statements += 2;
    this.features.add('iterative');
    return true;
  }

  /** Affine subscripts over inputs with compound shapes (always in bounds), or conv1d's declared output. */
  affine(): boolean {
    const form = this.r.pick(['conv', 'blocked', 'shift', 'reverse', 'declared'] as const);
    if (this.f32Inputs() >= this.opts.maxInputs) return false;
    // New symbolic ranks come into scope with the new input; undo them if the statement is dropped.
    const added: string[] = [];
    const rank = (): string | undefined => {
      const known = this.plainRanks().filter((r) => !this.ranks.get(r)!.constant);
      if (known.length > 0 && (this.spare.length === 0 || this.r.chance(60))) return this.r.pick(known);
      const fresh = this.spare.shift();
      if (!fresh) return undefined;
      this.ranks.set(fresh, { name: fresh, value: this.rankValue(), constant: false });
      added.push(fresh);
      return fresh;
    };
    const drop = (): false => {
      for (const a of added.reverse()) {
        this.ranks.delete(a);
        this.spare.unshift(a);
      }
      return false;
    };
    const scope = new StmtScope();
    const name = this.newName();
    const x = this.inputName();
    if (form === 'declared') {
      // conv1d: Y[t] = X[t + r] * W[r] with Y: f32[L - R + 1]; only when L >= R for these values.
      const l = rank();
      const r = rank();
      if (!l || !r || l === r || this.ranks.get(l)!.value < this.ranks.get(r)!.value) return drop();
      if (this.outputsForced.length + 1 >= this.opts.maxOutputs) return drop();
      const out = dimAdd(dimAdd(rankDim(l), rankDim(r), -1), constDim(1));
      const t = scope.fresh(out);
      const ri = scope.fresh(rankDim(r));
      const w = this.anchors(1).find((c) => c.dims.length === 1 && sameDim(c.dims[0]!, rankDim(r)));
      this.addInput(x, [rankDim(l)]);
      const wText = w ? this.access(w, [ri]) : atom('0.5', 0.5);
      this.outputsForced.push(name);
      this.declaredShape.set(name, [out]);
      this.features.add('declared-output');
      this.define(
        { name, dtype: 'f32', dims: [out], bound: this.extent(rankDim(r)) * wText.bound, input: false },
        `${this.lhs(name, [t])} = ${x}[${t} + ${ri}] * ${wText.text}`,
      );
      this.features.add('affine');
      return true;
    }
    const a = rank();
    const b = form === 'shift' ? a : rank();
    if (!a || !b || (form !== 'shift' && a === b)) return drop();
    const ia = scope.byName(a)!;
    const ib = form === 'shift' ? ia : scope.byName(b)!;
    if (form === 'blocked') {
      // A reshape: X: f32[A * B] read as X[a * B + b].
      this.addInput(x, [dimMul(rankDim(a), rankDim(b))]);
      this.features.add('blocked');
      const lhs = this.r.chance(50) ? [ia, ib] : [ib, ia];
      this.define(
        { name, dtype: 'f32', dims: lhs.map((i) => scope.dims.get(i)!), bound: 1, input: false },
        `${this.lhs(name, lhs)} = ${x}[${ia} * ${b} + ${ib}]`,
      );
    } else if (form === 'shift') {
      // A difference: X: f32[A + 1] read as X[a + 1] - X[A - a] (X[a] would bound a by A + 1).
      this.addInput(x, [dimAdd(rankDim(a), constDim(1))]);
      this.define(
        { name, dtype: 'f32', dims: [rankDim(a)], bound: 2, input: false },
        `${this.lhs(name, [ia])} = ${x}[${ia} + 1] - ${x}[${a} - ${ia}]`,
      );
    } else {
      // A convolution: X: f32[A + B - 1] read as X[a + b] (or reversed), b summed.
      this.addInput(x, [dimAdd(dimAdd(rankDim(a), rankDim(b)), constDim(-1))]);
      const sub =
        form === 'reverse'
          ? `${a} + ${b} - 2 - ${ia} - ${ib}`
          : this.r.chance(50)
            ? `${ia} + ${ib}`
            : `${ib} + ${ia}`;
      const w = this.anchors(1).find(
        (c) => c.dims.length === 1 && sameDim(c.dims[0]!, rankDim(b)) && c.bound <= 16,
      );
      const wText = w ? this.access(w, [ib]) : atom(ib, this.extent(rankDim(b)));
      this.define(
        {
          name,
          dtype: 'f32',
          dims: [rankDim(a)],
          bound: this.extent(rankDim(b)) * wText.bound,
          input: false,
        },
        `${this.lhs(name, [ia])} = ${x}[${sub}] * ${wText.text}`,
      );
    }
    this.features.add('affine');
    return true;
  }

  private inputName(): string {
    const names = ['X', 'Y', 'Z', 'W', 'V', 'U', 'Q', 'S'];
    return names.find((n) => !this.tensors.some((t) => t.name === n))!;
  }

  rankValue(): number {
    const values = RANK_VALUES.filter((v) => v <= this.opts.maxRank);
    return this.r.pick(values.length ? values : [1]);
  }

  /** `G[n, d] = E[ids[n], d]` with an i32 input `ids`. */
  gather(): boolean {
    const tables = this.anchors(1).filter((t) => t.bound <= 100);
    if (tables.length === 0 || this.hasIds) return false;
    const e = this.r.pick(tables);
    const axis = this.r.int(0, e.dims.length - 1);
    const idsDim = rankDim(this.r.pick(this.plainRanks().filter((r) => !this.ranks.get(r)!.local)));
    const scope = new StmtScope();
    const i = scope.fresh(idsDim);
    const subs = e.dims.map((d, k) => (k === axis ? `ids[${i}]` : scope.fresh(d)));
    const lhs = subs.map((s) => (s.startsWith('ids') ? i : s));
    if (this.work(scope) > this.opts.maxWork) return false;
    this.addInput('ids', [idsDim], 'i32');
    this.hasIds = true;
    const name = this.newName();
    const dims = lhs.map((s) => scope.dims.get(s)!);
    this.features.add('gather');
    this.define(
      { name, dtype: 'f32', dims, bound: e.bound, input: false },
      `${this.lhs(name, lhs)} = ${e.name}[${subs.join(', ')}]`,
    );
    return true;
  }

  /** `H = helper(X)` or `H1, H2 = helper(X, Y)`. */
  binding(): boolean {
    const h = this.helper;
    if (!h) return false;
    const bound = this.bindHelper(h);
    if (!bound) return false;
    const names = h.outputs.map(() => this.newName());
    h.outputs.forEach((o, i) =>
      this.tensors.push({
        name: names[i]!,
        dtype: 'f32',
        dims: o.dims.map((d) => dimSubst(d, bound.bindings)),
        bound: o.bound,
        // Not iterative here: in the caller every axis of a call's result is a plain axis.
        input: false,
      }),
    );
    this.lines.push({ code: `${names.join(', ')} = ${h.name}(${bound.args.join(', ')})` });
    this.statements++;
    this.features.add('call');
    if (names.length > 1) this.features.add('multi-output-call');
    return true;
  }

  /** A scalar f32 input used as a value. */
  maybeScalarInput(): void {
    if (this.opts.allowScalars && !this.hasScalarInput && this.r.chance(10)) {
      this.addInput('alpha', []);
      this.hasScalarInput = true;
      this.features.add('scalar-input');
    }
  }
}

/** Bind the helper's symbolic ranks so that `params` has the shape `args`; undefined if impossible. */
function unify(
  params: readonly Dim[],
  args: readonly Dim[],
  symbolic: ReadonlySet<string>,
  bindings: Map<string, Dim>,
): Map<string, Dim> | undefined {
  for (let i = 0; i < params.length; i++) {
    const p = params[i]!;
    const rank = plainRank(p);
    if (rank && symbolic.has(rank)) {
      const known = bindings.get(rank);
      if (!known) bindings.set(rank, args[i]!);
      else if (!sameDim(known, args[i]!)) return undefined;
    } else if (!sameDim(dimSubst(p, bindings), args[i]!)) return undefined;
  }
  return bindings;
}

// ---------------------------------------------------------------------------------------------------
// The program

class ProgramGen {
  readonly features = new Set<Feature>();
  comments = 0;

  constructor(
    readonly r: Choices,
    readonly opts: Required<CascadeOptions>,
  ) {}

  build(): RandomCascade {
    const { r, opts } = this;
    const pool = r.shuffle(POOL);
    const globals = new Map<string, RankSym>();
    const constants = r.shuffle(CONSTANT_POOL);
    if (opts.allowConstantRanks && r.chance(15)) {
      const name = constants.shift()!;
      globals.set(name, { name, value: r.int(1, 4), constant: true });
      this.features.add('constant-rank');
    }

    // The entry kernel's initial inputs: 1..maxInputs f32 tensors of 1..3 axes over 1..4 ranks.
    const mainRanks = new Map(globals);
    const nRanks = r.int(1, 4);
    const symbolic: string[] = [];
    for (let i = 0; i < nRanks; i++) {
      const name = pool.shift()!;
      symbolic.push(name);
      mainRanks.set(name, { name, value: this.rankValue(), constant: false });
    }
    const constantDims = [...globals.keys()];
    const main = new KernelGen(r, opts, 'main', mainRanks, pool, this.features, undefined, false, 1);
    const nInputs = r.int(1, Math.max(1, opts.maxInputs - (opts.allowAffine ? r.int(0, 1) : 0)));
    const inputNames = ['X', 'Y', 'Z', 'W'];
    const unused = new Set(symbolic);
    for (let i = 0; i < nInputs; i++) {
      const arity = r.weighted([
        [3, 1],
        [5, 2],
        [2, 3],
      ] as const);
      const dims: Dim[] = [];
      for (let k = 0; k < arity; k++) {
        // Use every symbolic rank in some input (a rank no input mentions is not in scope).
        const name =
          unused.size > 0 && (i === nInputs - 1 || r.chance(60))
            ? [...unused][0]!
            : r.pick([...symbolic, ...(r.chance(20) ? constantDims : [])]);
        unused.delete(name);
        dims.push(rankDim(name));
      }
      main.addInput(inputNames[i]!, dims);
    }
    for (const name of unused) main.ranks.delete(name);
    if (opts.allowConstantRanks && r.chance(10)) {
      const name = constants.shift()!;
      main.ranks.set(name, { name, value: r.int(1, 3), constant: true, local: true });
      this.features.add('constant-rank');
    }
    const localConstants = [...main.ranks.values()].filter((x) => x.constant && !globals.has(x.name));

    // The helper kernel: parameters shaped like some of main's inputs, 1..3 statements, 1..2 outputs.
    let helper: HelperInfo | undefined;
    let helperText = '';
    if (opts.allowCalls && r.chance(35)) {
      const h = this.helper(main, globals);
      if (h) [helper, helperText] = h;
    }
    main.helper = helper;
    main.maybeScalarInput();

    const target = r.int(1, Math.max(1, opts.maxStatements));
    for (let tries = 0; main.statements < target && tries < 40; tries++)
      main.statement(target - main.statements);
    if (main.statements === 0) main.mapStatement() || this.fallback(main);

    // Outputs: the forced ones, the last defined tensor, and some others.
    const computed = main.tensors.filter((t) => !t.input);
    const outputs = [...main.outputsForced];
    const last = computed[computed.length - 1]!;
    if (!outputs.includes(last.name)) outputs.push(last.name);
    const wanted = r.int(1, Math.max(1, opts.maxOutputs));
    for (const t of r.shuffle(computed)) {
      if (outputs.length >= wanted) break;
      if (!outputs.includes(t.name)) outputs.push(t.name);
    }
    const ordered = computed.filter((t) => outputs.includes(t.name)).map((t) => t.name);
    const outText = ordered.map((o) => {
      const t = computed.find((c) => c.name === o)!;
      const local = (d: Dim) => [...d.keys()].some((k) => k.split('*').some((x) => main.ranks.get(x)?.local));
      const declared =
        main.declaredShape.get(o) ?? (r.chance(25) && !t.dims.some(local) ? t.dims : undefined);
      if (!declared) return o;
      this.features.add('declared-output');
      return `${o}: f32${declared.length === 0 && r.chance(50) ? '' : `[${declared.map(dimText).join(', ')}]`}`;
    });

    const [mainText] = this.kernelText(
      main,
      ordered.length === 1 && r.chance(80) ? outText[0]! : `(${outText.join(', ')})`,
      localConstants,
    );
    const parts: string[] = [];
    if (opts.messy && r.chance(20)) parts.push(this.comment());
    if (globals.size > 0)
      parts.push(
        [...globals.values()].map((g) => this.decorate('', `rank ${g.name} = ${g.value}`)).join('\n'),
      );
    if (helperText) parts.push(helperText);
    parts.push(mainText);
    let source =
      parts
        .map((p) => p + (opts.messy && p.endsWith('}') && r.chance(5) ? ';' : ''))
        .join(opts.messy ? r.pick(['\n\n', '\n', '\n\n\n']) : '\n\n') + '\n';
    if (opts.messy && r.chance(15)) source += this.comment() + '\n';
    if (opts.messy && r.chance(5)) source = source.replace(/\n/g, '\r\n');

    const ranks: Record<string, number> = {};
    for (const [name, s] of main.ranks) if (!s.constant) ranks[name] = s.value;
    const bounds: Record<string, number> = {};
    for (const o of ordered) bounds[o] = computed.find((c) => c.name === o)!.bound;
    return {
      source,
      kernel: 'main',
      kernels: helper ? [helper.name, 'main'] : ['main'],
      ranks,
      outputs: ordered,
      bounds,
      features: [...this.features].sort(),
    };
  }

  private fallback(k: KernelGen): void {
    const x = k.inputs.find((t) => t.dtype === 'f32' && t.dims.length > 0)!;
    const scope = new StmtScope();
    const subs = x.dims.map((d) => scope.fresh(d));
    k.tensors.push({ name: 'T0', dtype: 'f32', dims: x.dims, bound: x.bound, input: false });
    k.lines.push({ code: `T0[${subs.join(', ')}] = ${x.name}[${subs.join(', ')}]` });
    k.statements++;
  }

  rankValue(): number {
    const values = RANK_VALUES.filter((v) => v <= this.opts.maxRank);
    return this.r.pick(values.length ? values : [1]);
  }

  private helper(main: KernelGen, globals: Map<string, RankSym>): [HelperInfo, string] | undefined {
    const { r } = this;
    const candidates = main.inputs.filter((t) => t.dtype === 'f32' && t.dims.length > 0);
    if (candidates.length === 0) return undefined;
    const chosen = r.shuffle(candidates).slice(0, r.int(1, Math.min(2, candidates.length)));
    const ranks = new Map(globals);
    const symbolic = new Set<string>();
    for (const t of chosen)
      for (const d of t.dims) {
        const name = plainRank(d)!;
        if (!globals.has(name)) symbolic.add(name);
        ranks.set(name, main.ranks.get(name)!);
      }
    const argBound = 4;
    const k = new KernelGen(
      r,
      { ...this.opts, allowAffine: false, allowGather: false, allowCalls: false, allowScalars: false },
      'helper',
      ranks,
      [],
      this.features,
      undefined,
      true,
      argBound,
    );
    chosen.forEach((t, i) => k.addInput(['A', 'A2'][i]!, [...t.dims]));
    const target = r.int(1, 3);
    for (let tries = 0; k.statements < target && tries < 20; tries++) k.statement(target - k.statements);
    if (k.statements === 0) this.fallback(k);
    const computed = k.tensors.filter((t) => !t.input);
    const outputs = [computed[computed.length - 1]!];
    if (computed.length > 1 && r.chance(30)) outputs.unshift(r.pick(computed.slice(0, -1)));
    const outText = outputs.map((o) => o.name);
    const [text, params] = this.kernelText(
      k,
      outText.length === 1 ? outText[0]! : `(${outText.join(', ')})`,
      [],
    );
    return [{ name: 'helper', params, outputs, symbolic, values: k.values }, text];
  }

  // --- layout ---

  private comment(): string {
    this.comments++;
    this.features.add('comment');
    return `${this.r.pick(COMMENTS)} ${this.comments}`;
  }

  /** A line with, in a messy layout, a comment before it or after it. */
  private decorate(indent: string, code: string): string {
    const { r } = this;
    if (!this.opts.messy) return indent + code;
    let out = '';
    if (r.chance(10)) out += indent + this.comment() + '\n';
    out += indent + this.jitter(code);
    if (r.chance(8)) out += ';';
    if (r.chance(12)) out += r.pick([' ', '  ', '\t']) + this.comment();
    return out;
  }

  /** Odd but valid spacing. */
  private jitter(code: string): string {
    const { r } = this;
    let out = code;
    if (r.chance(10)) out = out.replace(/, /g, ',');
    if (r.chance(10)) out = out.replace(/ \* /g, '*');
    if (r.chance(10)) out = out.replace(/ = /, '  =   ');
    if (r.chance(5)) out = out.replace(/\[/g, '[ ').replace(/\]/g, ' ]');
    return out;
  }

  /** The kernel's text, and its parameters in the order written. */
  private kernelText(k: KernelGen, outs: string, localConstants: readonly RankSym[]): [string, TensorDesc[]] {
    const { r, opts } = this;
    const shape = (t: TensorDesc) =>
      t.dims.length === 0 ? t.dtype : `${t.dtype}[${t.dims.map(dimText).join(', ')}]`;
    const inputs = opts.messy && r.chance(20) ? r.shuffle(k.inputs) : k.inputs;
    const ordered = inputs.map((t) => `${t.name}: ${shape(t)}`);
    const sep = opts.messy && r.chance(15) ? ',\n    ' : ', ';
    const lines = [
      `kernel ${k.name}(${ordered.join(sep)}) -> ${outs} {` +
        (opts.messy && r.chance(8) ? ' ' + this.comment() : ''),
    ];
    for (const c of localConstants) lines.push(this.decorate('  ', `rank ${c.name} = ${c.value}`));
    let i = 0;
    while (i < k.lines.length) {
      if (opts.messy && r.chance(10)) lines.push(r.pick(['', '', '\n']));
      const code = k.lines[i]!.code;
      if (opts.messy && i + 1 < k.lines.length && r.chance(6)) {
        // Two statements on one line.
        lines.push(`  ${this.jitter(code)}; ${this.jitter(k.lines[i + 1]!.code)}`);
        i += 2;
        continue;
      }
      lines.push(this.decorate('  ', code));
      i++;
    }
    if (opts.messy && r.chance(10)) lines.push('  ' + this.comment());
    lines.push('}');
    return [lines.join('\n'), inputs];
  }
}
