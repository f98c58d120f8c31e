// The WGSL dialect of the C-style printer: one shader module per Loop IR kernel, its global buffers
// as `var<storage>` bindings laid out by bindings.ts, scratchpad locals as `var<workgroup>` arrays.
import type { BufferDecl, BinaryFn, LoopKernel, LoopProgram, UnaryFn } from '../../ir/loops.js';
import { contractTiles } from '../c-contract.js';
import { referencedBuffers, type LaunchPlan } from '../c-launch.js';
import { CPrinter, type CType } from '../c-printer.js';
import { UNIFORM_STRUCT, UNIFORM_VAR, type Segment, type StorageLayout } from './bindings.js';
import { WGSL_HELPER_DEPENDENCIES, WGSL_HELPERS } from './helpers.js';
import { WGSL_RESERVED } from './reserved.js';

/** The device limits the printed code depends on (the WebGPU defaults unless a device allows less). */
export interface WgslLimits {
  readonly maxComputeInvocationsPerWorkgroup: number;
  readonly maxComputeWorkgroupsPerDimension: number;
  readonly maxComputeWorkgroupStorageSize: number;
}

export interface WgslKernel {
  readonly name: string;
  readonly source: string;
  readonly entryPoint: string;
  readonly workgroups: readonly [number, number, number];
  readonly plan: LaunchPlan;
  /** Binding i is storage unit `bindings[i].unit`, or the uniform struct of scalars (`uniform`). */
  readonly bindings: readonly WgslBinding[];
}

export interface WgslBinding {
  /** A storage unit's name, or UNIFORM_VAR for the uniform struct. */
  readonly unit: string;
  readonly access: 'read' | 'read_write' | 'uniform';
}

const f32Text = (v: number) => {
  const s = String(v);
  return /[.e]/.test(s) ? `${s}f` : `${s}.0f`;
};

export class WgslPrinter extends CPrinter {
  protected readonly reserved = WGSL_RESERVED;
  readonly limits;

  constructor(
    private readonly layout: StorageLayout,
    private readonly wgslLimits: WgslLimits,
  ) {
    super();
    this.limits = {
      maxThreadsPerWorkgroup: wgslLimits.maxComputeInvocationsPerWorkgroup,
      maxWorkgroupBytes: wgslLimits.maxComputeWorkgroupStorageSize,
    };
  }

  f32(v: number): string {
    if (Number.isNaN(v)) return this.helper('ein_nan') + '()';
    if (v === Infinity) return this.helper('ein_inf') + '()';
    if (v === -Infinity) return `-${this.helper('ein_inf')}()`;
    return f32Text(v);
  }
  intToFloat = (e: string) => `f32(${e})`;
  floatToInt = (e: string) => `i32(${e})`;
  declare(name: string, type: CType, value: string | undefined, mutable: boolean): string {
    if (!mutable) return `let ${name} = ${value};`;
    return value === undefined ? `var ${name}: ${type};` : `var ${name}: ${type} = ${value};`;
  }
  forHeader(v: string, start: string, end: string, step: number): string {
    return `for (var ${v}: i32 = ${start}; ${v} < ${end}; ${step === 1 ? `${v}++` : `${v} += ${step}`})`;
  }
  unary(fn: UnaryFn, a: string): string {
    const builtin: Partial<Record<UnaryFn, string>> = {
      exp: 'exp',
      log: 'log',
      sqrt: 'sqrt',
      rsqrt: 'inverseSqrt',
      abs: 'abs',
    };
    const name = builtin[fn] ?? this.helper(`ein_${fn}`);
    return `${name}(${a})`;
  }
  call2(fn: 'pow' | 'max' | 'min', a: string, b: string): string {
    return `${fn === 'pow' ? this.helper('ein_pow') : fn}(${a}, ${b})`;
  }
  compare(op: BinaryFn, a: string, b: string): string {
    return `select(0.0f, 1.0f, ${a} ${op} ${b})`;
  }
  select(cond: string, a: string, b: string): string {
    return `select(${b}, ${a}, ${cond} != 0.0f)`;
  }
  barrier = () => 'workgroupBarrier();';
  groupIndex(d: readonly [number, number, number]): string {
    if (d[1] === 1 && d[2] === 1) return 'i32(workgroup_id.x)';
    return `i32(workgroup_id.x + ${d[0]}u * (workgroup_id.y + ${d[1]}u * workgroup_id.z))`;
  }
  threadIndex = () => 'i32(local_index)';
  maxWorkgroupsPerDimension = () => this.wgslLimits.maxComputeWorkgroupsPerDimension;

  loadGlobal(buffer: string, index: string): string {
    const scalar = this.layout.scalars.get(buffer);
    if (scalar) return `${UNIFORM_VAR}.${scalar.field}`;
    const segments = this.segments(buffer);
    if (segments.length > 1) return `ein_load_${this.id(buffer)}(${index})`;
    return this.fromUnit(buffer, `${this.unitRef(segments[0]!)}`, index, segments[0]!);
  }
  storeGlobal(buffer: string, index: string, value: string): string {
    const segments = this.segments(buffer);
    if (segments.length > 1) return `ein_store_${this.id(buffer)}(${index}, ${value})`;
    const s = segments[0]!;
    const element = this.unitOf(s).element;
    const bits = element === 'u32' ? `bitcast<u32>(${value})` : value;
    return `${this.unitRef(s)}[${s.offset === 0 ? index : `${s.offset} + ${index}`}] = ${bits}`;
  }

  /** A segment's element at `index` (relative to the logical buffer), in the buffer's type. */
  private fromUnit(buffer: string, unit: string, index: string, s: Segment): string {
    const at = s.offset === 0 ? index : `${s.offset} + ${index}`;
    return this.unitOf(s).element === 'u32'
      ? `bitcast<${this.bufferType(buffer)}>(${unit}[${at}])`
      : `${unit}[${at}]`;
  }

  private segments(buffer: string): readonly Segment[] {
    const s = this.layout.segments.get(buffer);
    if (!s) throw new Error(`internal: no storage for buffer ${buffer}`);
    return s;
  }
  private unitOf(s: Segment) {
    return this.layout.units.find((u) => u.name === s.unit)!;
  }
  private unitRef(s: Segment): string {
    const unit = this.unitOf(s);
    return unit.members.length === 1 && !s.unit.startsWith('ein_') ? this.id(s.unit) : s.unit;
  }

  private helper(name: string): string {
    this.helpers.add(name);
    return name;
  }

  /** Accessors of a buffer split over several bindings: the index picks the part. */
  private splitAccessors(buffer: string, use: { read: boolean; written: boolean }): string[] {
    const segments = this.segments(buffer);
    const type = this.bufferType(buffer);
    const id = this.id(buffer);
    const out: string[] = [];
    const pick = (s: Segment, i: number, last: boolean, body: string) =>
      last ? `  ${body}` : `  if (i < ${s.start + s.length}) { ${body} }`;
    if (use.read) {
      out.push(`fn ein_load_${id}(i: i32) -> ${type} {`);
      segments.forEach((s, k) => {
        const index = s.start === 0 ? 'i' : `i - ${s.start}`;
        out.push(pick(s, k, k === segments.length - 1, `return ${this.fromUnit(buffer, s.unit, index, s)};`));
      });
      out.push('}');
    }
    if (use.written) {
      out.push(`fn ein_store_${id}(i: i32, value: ${type}) {`);
      segments.forEach((s, k) => {
        const index = s.start === 0 ? 'i' : `i - ${s.start}`;
        const last = k === segments.length - 1;
        out.push(pick(s, k, last, `${s.unit}[${index}] = value;${last ? '' : ' return;'}`));
      });
      out.push('}');
    }
    return out;
  }

  printKernel(
    kernel: LoopKernel,
    program: LoopProgram,
    header: (plan: LaunchPlan, dispatch: readonly [number, number, number]) => readonly string[],
  ): WgslKernel {
    const { lines, plan, kernel: live } = this.printBody(kernel, program.buffers);
    const workgroups = this.dispatch();
    const uses = referencedBuffers(live.body);
    const globals = [...uses].filter(([b]) => this.layout.segments.has(b));
    // Bindings: every storage unit the kernel touches; read_write if it stores to any of it.
    const access = new Map<string, 'read' | 'read_write'>();
    for (const [b, use] of globals)
      for (const s of this.segments(b))
        access.set(s.unit, use.written || access.get(s.unit) === 'read_write' ? 'read_write' : 'read');
    const storage = [...access].map(([unit, a]) => ({ unit, access: a }));
    const scalars = [...uses.keys()].some((b) => this.layout.scalars.has(b));
    const bindings: WgslBinding[] = scalars
      ? [...storage, { unit: UNIFORM_VAR, access: 'uniform' }]
      : storage;
    const out = [...header(plan, workgroups).map((h) => `// ${h}`.trimEnd()), ''];
    if (scalars) out.push(...this.uniformStruct(), '');
    storage.forEach(({ unit, access: a }, i) => {
      const u = this.layout.units.find((x) => x.name === unit)!;
      const ref = u.members.length === 1 && !unit.startsWith('ein_') ? this.id(unit) : unit;
      const holds =
        u.members.length > 1
          ? `  // packed: ${u.members.map((m) => `${m.buffer} at ${m.offset}`).join(', ')}`
          : unit.startsWith('ein_part')
            ? `  // elements ${this.layout.segments.get(u.members[0]!.buffer)!.find((s) => s.unit === unit)!.start}.. of ${u.members[0]!.buffer}`
            : '';
      out.push(`@group(0) @binding(${i}) var<storage, ${a}> ${ref}: array<${u.element}>;${holds}`);
    });
    if (scalars)
      out.push(`@group(0) @binding(${storage.length}) var<uniform> ${UNIFORM_VAR}: ${UNIFORM_STRUCT};`);
    const shared = this.workgroupArrays(live, plan);
    for (const s of shared) out.push(s);
    for (const [b, use] of globals)
      if (this.segments(b).length > 1) out.push('', ...this.splitAccessors(b, use));
    for (const name of [...this.helpers])
      for (const d of WGSL_HELPER_DEPENDENCIES[name] ?? []) this.helpers.add(d);
    for (const name of [...this.helpers].sort()) out.push('', WGSL_HELPERS[name]!.trim());
    out.push(
      '',
      `@compute @workgroup_size(${plan.threads})`,
      `fn ${this.entryName(kernel)}(@builtin(workgroup_id) workgroup_id: vec3<u32>, @builtin(local_invocation_index) local_index: u32) {`,
      ...lines,
      '}',
      '',
    );
    return {
      name: kernel.name,
      source: out.join('\n'),
      entryPoint: this.entryName(kernel),
      workgroups,
      plan,
      bindings,
    };
  }

  /** The scalar inputs' struct: the same in every kernel of the program, as they share one buffer. */
  private uniformStruct(): string[] {
    const fields = [...this.layout.scalars.values()].map((s) => `  ${s.field}: ${s.element},`);
    return [`struct ${UNIFORM_STRUCT} {`, ...fields, '}'];
  }

  entryName(kernel: LoopKernel): string {
    return WGSL_RESERVED.has(kernel.name) ? `${kernel.name}_` : kernel.name;
  }

  private workgroupArrays(kernel: LoopKernel, plan: LaunchPlan): string[] {
    const arrays: { name: string; size: number; level: BufferDecl['level'] }[] = kernel.locals.map((l) => ({
      name: this.id(l.name),
      size: l.size,
      level: l.level,
    }));
    if (plan.kind === 'contract')
      arrays.push(...contractTiles(plan).map((t) => ({ ...t, level: 'scratchpad' as const })));
    const bytes = arrays.filter((a) => a.level === 'scratchpad').reduce((s, a) => s + a.size * 4, 0);
    if (bytes > this.wgslLimits.maxComputeWorkgroupStorageSize)
      throw new Error(
        `${kernel.name} needs ${bytes} bytes of workgroup memory; maxComputeWorkgroupStorageSize is ${this.wgslLimits.maxComputeWorkgroupStorageSize}`,
      );
    // Register-level locals are per invocation: private arrays.
    return arrays.map(
      (a) => `var<${a.level === 'scratchpad' ? 'workgroup' : 'private'}> ${a.name}: array<f32, ${a.size}>;`,
    );
  }
}
