// The CUDA dialect of the C-style printer: `extern "C" __global__` kernels taking the global buffers
// they touch as pointers (const when only read), scratchpad locals as `__shared__` arrays. The same
// text compiles with nvcc and, through ein_cuda_emu.h, with g++.
import type { BinaryFn, LoopKernel, LoopProgram, UnaryFn } from '../../ir/loops.js';
import { contractTiles } from '../c-contract.js';
import { referencedBuffers, type LaunchPlan } from '../c-launch.js';
import { CPrinter, type CType } from '../c-printer.js';
import { CUDA_RESERVED } from './reserved.js';

export interface CudaKernel {
  readonly name: string;
  readonly source: string;
  readonly plan: LaunchPlan;
  readonly grid: readonly [number, number, number];
  /** The kernel's parameters: global buffers, in program order. */
  readonly params: readonly string[];
}

/** Threads of one block (CUDA allows 1024; 256 matches WGSL's default and the tiled GEMM). */
export const CUDA_MAX_THREADS = 256;
/** blockIdx.x may reach 2^31 - 1, so the grid is always one-dimensional. */
const CUDA_MAX_GRID_X = 2 ** 31 - 1;

const C_TYPE: Record<CType, string> = { f32: 'float', i32: 'int' };

const MATH: Partial<Record<UnaryFn, string>> = {
  exp: 'expf',
  log: 'logf',
  sqrt: 'sqrtf',
  rsqrt: 'rsqrtf',
  tanh: 'tanhf',
  erf: 'erff',
  abs: 'fabsf',
  sigmoid: 'ein_sigmoid',
};

/** Device helpers, each under its own guard so that several programs can share a file. */
export const CUDA_HELPERS: Readonly<Record<string, string>> = {
  ein_sigmoid: `__device__ __forceinline__ float ein_sigmoid(float x) { return 1.0f / (1.0f + expf(-x)); }`,
  // C's / and % truncate towards zero; the Loop IR's floor.
  ein_floor_div: `__device__ __forceinline__ int ein_floor_div(int a, int b) {
  const int q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}`,
  ein_floor_mod: `__device__ __forceinline__ int ein_floor_mod(int a, int b) {
  const int r = a % b;
  return (r != 0 && (r < 0) != (b < 0)) ? r + b : r;
}`,
};

export function cudaHelper(name: string): string {
  const guard = `EIN_HELPER_${name.toUpperCase()}`;
  return `#ifndef ${guard}\n#define ${guard}\n${CUDA_HELPERS[name]}\n#endif`;
}

const f32Text = (v: number) => {
  const s = String(v);
  return /[.e]/.test(s) ? `${s}f` : `${s}.0f`;
};

export class CudaPrinter extends CPrinter {
  protected readonly reserved = CUDA_RESERVED;
  // 48 KiB: the static __shared__ limit of every CUDA architecture.
  readonly limits = { maxThreadsPerWorkgroup: CUDA_MAX_THREADS, maxWorkgroupBytes: 48 * 1024 };

  // 0x7f800000 is the bit pattern of +inf; 0x7fc00000 a quiet NaN (math.h's INFINITY is not in scope
  // for nvcc without includes, and the emulator defines __int_as_float too).
  f32(v: number): string {
    if (Number.isNaN(v)) return '__int_as_float(0x7fc00000)';
    if (v === Infinity) return '__int_as_float(0x7f800000)';
    if (v === -Infinity) return '-__int_as_float(0x7f800000)';
    return f32Text(v);
  }
  intToFloat = (e: string) => `(float)(${e})`;
  floatToInt = (e: string) => `(int)(${e})`;
  declare(name: string, type: CType, value: string | undefined, mutable: boolean): string {
    return `${mutable ? '' : 'const '}${C_TYPE[type]} ${name}${value === undefined ? '' : ` = ${value}`};`;
  }
  forHeader(v: string, start: string, end: string, step: number): string {
    return `for (int ${v} = ${start}; ${v} < ${end}; ${step === 1 ? `++${v}` : `${v} += ${step}`})`;
  }
  unary(fn: UnaryFn, a: string): string {
    const name = MATH[fn]!;
    if (name.startsWith('ein_')) this.helpers.add(name);
    return `${name}(${a})`;
  }
  call2(fn: 'pow' | 'max' | 'min', a: string, b: string): string {
    return `${{ pow: 'powf', max: 'fmaxf', min: 'fminf' }[fn]}(${a}, ${b})`;
  }
  compare(op: BinaryFn, a: string, b: string): string {
    return `(${a} ${op} ${b} ? 1.0f : 0.0f)`;
  }
  select(cond: string, a: string, b: string): string {
    return `(${cond} != 0.0f ? ${a} : ${b})`;
  }
  barrier = () => '__syncthreads();';
  groupIndex = () => '(int)blockIdx.x';
  threadIndex = () => '(int)threadIdx.x';
  maxWorkgroupsPerDimension = () => CUDA_MAX_GRID_X;
  loadGlobal = (buffer: string, index: string) => `${this.id(buffer)}[${index}]`;
  storeGlobal = (buffer: string, index: string, value: string) => `${this.id(buffer)}[${index}] = ${value}`;

  printKernel(
    kernel: LoopKernel,
    program: LoopProgram,
    header: (plan: LaunchPlan, grid: readonly [number, number, number]) => readonly string[],
    prefix = '',
  ): CudaKernel {
    const { lines, plan, kernel: live } = this.printBody(kernel, program.buffers);
    const grid = this.dispatch();
    const uses = referencedBuffers(live.body);
    const params = program.buffers.filter((b) => b.level === 'global' && uses.has(b.name));
    const signature = params.map((b) => {
      const type = C_TYPE[b.dtype];
      return uses.get(b.name)!.written
        ? `${type}* __restrict__ ${this.id(b.name)}`
        : `const ${type}* __restrict__ ${this.id(b.name)}`;
    });
    const shared = live.locals.map((l) =>
      l.level === 'scratchpad'
        ? `  __shared__ float ${this.id(l.name)}[${l.size}];`
        : `  float ${this.id(l.name)}[${l.size}];`,
    );
    if (plan.kind === 'contract')
      shared.push(...contractTiles(plan).map((t) => `  __shared__ float ${t.name}[${t.size}];`));
    const name = `${prefix}${kernel.name}`;
    const source = [
      ...header(plan, grid).map((h) => `// ${h}`.trimEnd()),
      `extern "C" __global__ void __launch_bounds__(${plan.threads}) ${name}(${signature.join(', ')}) {`,
      ...shared,
      ...lines,
      '}',
      '',
    ].join('\n');
    return { name, source, plan, grid, params: params.map((b) => b.name) };
  }
}
