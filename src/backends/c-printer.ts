// One C-style printer for the Loop IR, two dialects (tinygrad's renderer pattern): this base class
// prints statements, index and value expressions, loops, guards, registers and the launch prologue;
// src/backends/wgsl/printer.ts and src/backends/cuda/printer.ts supply types, declarations,
// builtins, barriers and math functions.
import type { BufferDecl, IExpr, LoopKernel, Stmt, UnaryFn, VExpr, BinaryFn } from '../ir/loops.js';
import {
  planLaunch,
  splitDispatch,
  threadNest,
  type GridLoop,
  type LaunchLimits,
  type LaunchPlan,
} from './c-launch.js';
import { printTiledContract, printPlainContract } from './c-contract.js';
import { eliminateDeadCode } from './c-dead-code.js';
import {
  assignedRegisters,
  foldConstants,
  nonNegative,
  registersOf,
  scalarNames,
  usedVars,
} from './c-ir-walk.js';

export type CType = 'f32' | 'i32';

/** Names the printer itself declares; IR names that collide with them are renamed. */
export const GENERATED_NAMES = [
  'group_index',
  'thread_index',
  'thread_item',
  'item',
  'tile_m',
  'tile_n',
  'tile_a',
  'tile_b',
  'k0',
  'kk',
  'row',
  'col',
  'acc',
  'contract_m',
  'contract_n',
  'contract_k',
  'contract_acc',
  'staged',
  'staged_row',
  'staged_col',
];

interface Printed {
  readonly text: string;
  /** 1: + -, 2: * / %, 3: unary, 4: atom. Decides where parentheses go. */
  readonly prec: number;
}

/** Registers are declared where the Loop IR's `let` is, unless one is used outside that block. */
class HoistNeeded extends Error {}

export abstract class CPrinter {
  /** Lines of the function body being printed. */
  protected lines: string[] = [];
  protected indent = '  ';
  /** IR name → identifier, per kernel. */
  protected names = new Map<string, string>();
  /** Helper functions the kernel needs (erf, pow, ...), by name. */
  readonly helpers = new Set<string>();
  protected buffers = new Map<string, BufferDecl>();
  protected plan!: LaunchPlan;
  private hoisted = false;
  private scopes: Set<string>[] = [];
  private mutable = new Set<string>();

  protected abstract readonly reserved: ReadonlySet<string>;
  abstract readonly limits: LaunchLimits;

  // ---- dialect hooks -------------------------------------------------------------------------------
  abstract f32(v: number): string;
  abstract intToFloat(e: string): string;
  abstract floatToInt(e: string): string;
  /** A declaration: immutable (`let` / `const`) unless `mutable`; no initial value when `value` is undefined. */
  abstract declare(name: string, type: CType, value: string | undefined, mutable: boolean): string;
  abstract forHeader(v: string, start: string, end: string, step: number): string;
  abstract unary(fn: UnaryFn, a: string): string;
  abstract call2(fn: 'pow' | 'max' | 'min', a: string, b: string): string;
  abstract compare(op: BinaryFn, a: string, b: string): string;
  abstract select(cond: string, a: string, b: string): string;
  abstract barrier(): string;
  /** The flattened workgroup index, from the builtins (`dispatch` is the x, y, z split). */
  abstract groupIndex(dispatch: readonly [number, number, number]): string;
  abstract threadIndex(): string;
  /** Element `index` of a global buffer, as a value of the buffer's own type. */
  abstract loadGlobal(buffer: string, index: string): string;
  abstract storeGlobal(buffer: string, index: string, value: string): string;
  abstract maxWorkgroupsPerDimension(): number;

  // ---- kernels -------------------------------------------------------------------------------------
  /** Plans the launch and prints the function body's lines (dialects wrap them). */
  printBody(
    original: LoopKernel,
    buffers: readonly BufferDecl[],
  ): { lines: string[]; plan: LaunchPlan; kernel: LoopKernel } {
    const kernel = eliminateDeadCode(original);
    this.buffers = new Map([...buffers, ...kernel.locals].map((b) => [b.name, b]));
    this.plan = planLaunch(kernel, this.limits);
    this.nameIdentifiers(kernel);
    this.mutable = assignedRegisters(kernel.body);
    try {
      this.hoisted = false;
      return { lines: this.printPlanned(), plan: this.plan, kernel };
    } catch (e) {
      if (!(e instanceof HoistNeeded)) throw e;
      this.hoisted = true;
      return { lines: this.printPlanned(), plan: this.plan, kernel };
    }
  }

  private printPlanned(): string[] {
    const plan = this.plan;
    this.indent = '  ';
    this.scopes = [new Set()];
    // The body first: the prologue declares only what it mentions (nvcc warns about unused variables).
    this.lines = [];
    if (this.hoisted)
      for (const r of registersOf(plan.kind === 'contract' ? [] : plan.body))
        this.emit(this.declare(this.id(r), 'f32', undefined, true));
    if (plan.kind === 'contract') printTiledContract(this, plan);
    else this.stmts(plan.body);
    const body = this.lines;
    const text = body.join('\n');
    const mentioned = (id: string) => new RegExp(`\\b${id}\\b`).test(text);
    const raw = plan.kind === 'contract' ? new Set(['tile_m', 'tile_n']) : new Set<string>();
    const used = new Set(
      plan.grid.filter((g) => mentioned(raw.has(g.var) ? g.var : this.id(g.var))).map((g) => g.var),
    );

    this.lines = [];
    const dispatch = this.dispatch();
    const padded = dispatch[0] * dispatch[1] * dispatch[2] > plan.workgroups;
    const needsGroup =
      padded || plan.kind === 'items' || plan.grid.some((g) => used.has(g.var) && g.extent > 1);
    if (needsGroup) this.emit(this.declare('group_index', 'i32', this.groupIndex(dispatch), false));
    if (plan.kind === 'items' || mentioned('thread_index'))
      this.emit(this.declare('thread_index', 'i32', this.threadIndex(), false));
    if (padded)
      this.emit(`if (group_index >= ${plan.workgroups}) { return; }  // padding of the dispatch split`);
    let flat = 'group_index';
    if (plan.kind === 'items') {
      this.emit(this.declare('item', 'i32', `group_index * ${plan.threads} + thread_index`, false));
      this.emit(`if (item >= ${plan.items}) { return; }`);
      flat = 'item';
    }
    this.decompose(plan.grid, flat, used, raw);
    return [...this.lines, ...body];
  }

  /** The x, y, z workgroup counts of the launch. */
  dispatch(): [number, number, number] {
    return splitDispatch(this.plan.workgroups, this.maxWorkgroupsPerDimension());
  }

  /** `let m_tile = group_index / 4; let n = group_index % 4;` for the used loop variables only. */
  decompose(
    loops: readonly GridLoop[],
    flat: string,
    used: ReadonlySet<string>,
    raw?: ReadonlySet<string>,
  ): void {
    const declarations: string[] = [];
    let inner = 1;
    for (let i = loops.length - 1; i >= 0; i--) {
      const g = loops[i]!;
      if (used.has(g.var)) {
        const divided = inner === 1 ? flat : `${flat} / ${inner}`;
        const outermost = loops.slice(0, i).every((o) => o.extent === 1);
        const value =
          g.extent === 1 ? '0' : outermost ? divided : `${inner === 1 ? flat : `(${divided})`} % ${g.extent}`;
        declarations.unshift(this.declare(raw?.has(g.var) ? g.var : this.id(g.var), 'i32', value, false));
      }
      inner *= g.extent;
    }
    declarations.forEach((d) => this.emit(d));
  }

  emit(line: string): void {
    this.lines.push(this.indent + line);
  }

  block(head: string, body: () => void): void {
    this.emit(head ? `${head} {` : '{');
    const saved = this.indent;
    this.indent += '  ';
    this.scopes.push(new Set());
    body();
    this.scopes.pop();
    this.indent = saved;
    this.emit('}');
  }

  // ---- statements ----------------------------------------------------------------------------------
  stmts(list: readonly Stmt[]): void {
    for (const s of list) this.stmt(s);
  }

  private stmt(s: Stmt): void {
    switch (s.k) {
      case 'for':
        if (s.kind === 'thread' && this.plan.kind === 'threads') return this.threadNest(s);
        return this.block(this.forHeader(this.id(s.var), '0', this.tripCount(s), 1), () =>
          this.stmts(s.body),
        );
      case 'if':
        return this.block(`if (${this.index(s.cond.a).text} < ${this.index(s.cond.lt).text})`, () =>
          this.stmts(s.body),
        );
      case 'let': {
        const value = this.value(s.value).text;
        if (this.hoisted) return this.emit(`${this.id(s.name)} = ${value};`);
        if (this.scopes.some((sc) => sc.has(s.name))) throw new HoistNeeded();
        this.scopes[this.scopes.length - 1]!.add(s.name);
        return this.emit(this.declare(this.id(s.name), 'f32', value, this.mutable.has(s.name)));
      }
      case 'set':
        this.checkVisible(s.name);
        return this.emit(`${this.id(s.name)} = ${this.value(s.value).text};`);
      case 'reduce': {
        this.checkVisible(s.name);
        const r = this.id(s.name);
        const v = this.value(s.value);
        const next =
          s.op === 'sum'
            ? `${r} + ${wrap(v, 1)}`
            : s.op === 'prod'
              ? `${r} * ${wrap(v, 3)}`
              : this.call2(s.op, r, v.text);
        return this.emit(`${r} = ${next};`);
      }
      case 'store':
        return this.emit(this.store(s.buffer, this.index(s.index).text, s.value) + ';');
      case 'barrier':
        return this.emit(this.barrier());
      case 'contract':
        return printPlainContract(this, s);
    }
  }

  /** The loop's end: its extent, or min(extent, bound) when later iterations are proven no-ops. */
  private tripCount(s: Extract<Stmt, { k: 'for' }>): string {
    if (!s.bound) return String(s.extent);
    return this.index({ k: 'min', a: { k: 'const', v: s.extent }, b: s.bound }).text;
  }

  private checkVisible(reg: string): void {
    if (!this.hoisted && !this.scopes.some((sc) => sc.has(reg))) throw new HoistNeeded();
  }

  /** A nest of thread loops: this invocation's iteration (or iterations, strided). */
  private threadNest(s: Extract<Stmt, { k: 'for' }>): void {
    if (this.plan.kind !== 'threads') return;
    const plan = this.plan;
    const { loops, body } = threadNest(s);
    const used = usedVars(body);
    const total = plan.threadExtents.reduce((a, b) => a * b, 1);
    const names = loops.map((l) => this.id(l.var)).join(', ');
    this.emit(`// thread loops ${names}: this invocation's iteration${plan.strided ? 's' : ''}`);
    if (!plan.strided)
      return this.block('', () => {
        this.decompose(loops, 'thread_index', used);
        this.stmts(body);
      });
    this.block(this.forHeader('thread_item', 'thread_index', String(total), plan.threads), () => {
      this.decompose(loops, 'thread_item', used);
      this.stmts(body);
    });
  }

  // ---- expressions ---------------------------------------------------------------------------------
  index(e: IExpr): Printed {
    const folded = foldConstants(e);
    if (folded !== undefined) return { text: String(folded), prec: folded < 0 ? 3 : 4 };
    switch (e.k) {
      case 'const':
        return { text: String(e.v), prec: e.v < 0 ? 3 : 4 };
      case 'var':
        return { text: this.id(e.name), prec: 4 };
      case 'iload': {
        const raw = this.loadAny(e.buffer, this.index(e.index).text);
        return { text: this.bufferType(e.buffer) === 'i32' ? raw : this.floatToInt(raw), prec: 4 };
      }
      case 'min':
        return { text: `min(${this.index(e.a).text}, ${this.index(e.b).text})`, prec: 4 };
      case 'add':
      case 'sub':
        return {
          text: `${wrap(this.index(e.a), 1)} ${e.k === 'add' ? '+' : '-'} ${wrap(this.index(e.b), e.k === 'sub' ? 2 : 1)}`,
          prec: 1,
        };
      case 'mul':
        return { text: `${wrap(this.index(e.a), 2)} * ${wrap(this.index(e.b), 3)}`, prec: 2 };
      case 'div':
      case 'mod': {
        const [a, b] = [this.index(e.a), this.index(e.b)];
        // C and WGSL truncate towards zero; the Loop IR floors. Equal for non-negative operands.
        if (nonNegative(e.a) && nonNegative(e.b))
          return { text: `${wrap(a, 2)} ${e.k === 'div' ? '/' : '%'} ${wrap(b, 3)}`, prec: 2 };
        this.helpers.add(e.k === 'div' ? 'ein_floor_div' : 'ein_floor_mod');
        return {
          text: `${e.k === 'div' ? 'ein_floor_div' : 'ein_floor_mod'}(${a.text}, ${b.text})`,
          prec: 4,
        };
      }
    }
  }

  value(e: VExpr): Printed {
    switch (e.k) {
      case 'const':
        return { text: this.f32(e.v), prec: e.v < 0 || Object.is(e.v, -0) ? 3 : 4 };
      case 'load': {
        const raw = this.loadAny(e.buffer, this.index(e.index).text);
        return { text: this.bufferType(e.buffer) === 'i32' ? this.intToFloat(raw) : raw, prec: 4 };
      }
      case 'reg':
        this.checkVisible(e.name);
        return { text: this.id(e.name), prec: 4 };
      case 'int':
        return { text: this.intToFloat(this.index(e.a).text), prec: 4 };
      case 'unary': {
        const a = this.value(e.a);
        if (e.fn === 'neg') return { text: `-${a.prec >= 4 ? a.text : `(${a.text})`}`, prec: 3 };
        return { text: this.unary(e.fn, a.text), prec: 4 };
      }
      case 'binary': {
        const [a, b] = [this.value(e.a), this.value(e.b)];
        switch (e.fn) {
          case '+':
          case '-':
            return { text: `${wrap(a, 1)} ${e.fn} ${wrap(b, e.fn === '-' ? 2 : 1)}`, prec: 1 };
          case '*':
          case '/':
            return { text: `${wrap(a, 2)} ${e.fn} ${wrap(b, 3)}`, prec: 2 };
          case 'pow':
          case 'max':
          case 'min':
            return { text: this.call2(e.fn, a.text, b.text), prec: 4 };
          default:
            return { text: this.compare(e.fn, a.text, b.text), prec: 4 };
        }
      }
      case 'select':
        return {
          text: this.select(this.value(e.cond).text, this.value(e.a).text, this.value(e.b).text),
          prec: 4,
        };
    }
  }

  /** A store of an f32 value, converted when the buffer holds i32. */
  store(buffer: string, index: string, value: VExpr | string): string {
    const v = typeof value === 'string' ? value : this.value(value).text;
    const converted = this.bufferType(buffer) === 'i32' ? this.floatToInt(v) : v;
    if (this.isLocal(buffer)) return `${this.id(buffer)}[${index}] = ${converted}`;
    return this.storeGlobal(buffer, index, converted);
  }

  /** Element `index` of any buffer (global or local), in the buffer's type. */
  loadAny(buffer: string, index: string): string {
    return this.isLocal(buffer) ? `${this.id(buffer)}[${index}]` : this.loadGlobal(buffer, index);
  }

  /** An f32 value of element `index` of `buffer`. */
  loadValue(buffer: string, index: string): string {
    const raw = this.loadAny(buffer, index);
    return this.bufferType(buffer) === 'i32' ? this.intToFloat(raw) : raw;
  }

  isLocal(buffer: string): boolean {
    return this.buffers.get(buffer)?.level !== 'global';
  }

  bufferType(buffer: string): CType {
    return this.buffers.get(buffer)?.dtype ?? 'f32';
  }

  // ---- identifiers ---------------------------------------------------------------------------------
  /** The identifier printed for an IR name (buffer, loop variable or register). */
  id(name: string): string {
    return this.names.get(name) ?? name;
  }

  private nameIdentifiers(kernel: LoopKernel): void {
    this.names = new Map();
    const taken = new Set<string>([...GENERATED_NAMES]);
    const claim = (name: string) => {
      if (this.names.has(name)) return;
      let id = name.replace(/[^A-Za-z0-9_]/g, '_').replace(/^(?=[0-9_])/, 'v');
      while (taken.has(id) || this.reserved.has(id) || id.startsWith('ein_') || id.startsWith('__'))
        id += '_';
      taken.add(id);
      this.names.set(name, id);
    };
    for (const b of this.buffers.keys()) claim(b);
    for (const n of scalarNames(kernel.body)) claim(n);
  }
}

/** Wraps a printed operand in parentheses when it binds less tightly than `min`. */
export function wrap(p: Printed, min: number): string {
  return p.prec >= min ? p.text : `(${p.text})`;
}
