import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EinCudaError } from './cuda-error.js';
import { parseNvccDiagnostics, type CudaDiagnostic } from './nvcc-diagnostics.js';

export type CudaArch = 'sm_80' | 'sm_90';

export interface NvccOptions {
  arch: CudaArch;
  /** true: stop at PTX (nvcc's front end and NVVM); false: also assemble a cubin with ptxas. */
  ptx: boolean;
  timeoutMs?: number;
}

export interface NvccResult {
  /** False on any error or warning: generated CUDA must compile cleanly. */
  ok: boolean;
  diagnostics: CudaDiagnostic[];
  /** The PTX, when `ptx` was asked for and compilation succeeded. */
  ptx?: string;
  stderr: string;
}

interface ToolRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  stdout: string;
  stderr: string;
}

/** Runs a program to completion; never rejects, so callers can word each failure themselves. */
function runTool(
  command: string,
  args: string[],
  options: { cwd?: string; timeoutMs: number },
): Promise<ToolRun> {
  return new Promise((resolve) => {
    execFile(
      command,
      args,
      { cwd: options.cwd, timeout: options.timeoutMs, maxBuffer: 64 << 20, killSignal: 'SIGKILL' },
      (error, stdout, stderr) => {
        const failure = error as
          (NodeJS.ErrnoException & { killed?: boolean; signal?: NodeJS.Signals }) | null;
        resolve({
          code: failure ? (typeof failure.code === 'number' ? failure.code : null) : 0,
          signal: failure?.signal ?? null,
          timedOut: failure?.killed === true,
          stdout,
          stderr: failure && typeof failure.code === 'string' ? `${failure.message}\n${stderr}` : stderr,
        });
      },
    );
  });
}

let nvccProbe: Promise<boolean> | undefined;

/** Whether `nvcc` is on the PATH and answers `--version`. */
export function nvccAvailable(): Promise<boolean> {
  nvccProbe ??= runTool('nvcc', ['--version'], { timeoutMs: 20_000 }).then((run) => run.code === 0);
  return nvccProbe;
}

/** Compiles CUDA source for `arch`; any warning fails it, as any error does. */
export async function compileWithNvcc(source: string, options: NvccOptions): Promise<NvccResult> {
  const dir = await mkdtemp(join(tmpdir(), 'ein-nvcc-'));
  try {
    await writeFile(join(dir, 'kernel.cu'), source);
    const output = options.ptx ? 'kernel.ptx' : 'kernel.cubin';
    const args = [`-arch=${options.arch}`, options.ptx ? '--ptx' : '-cubin', '-o', output, 'kernel.cu'];
    const run = await runTool('nvcc', args, { cwd: dir, timeoutMs: options.timeoutMs ?? 120_000 });
    if (run.timedOut) throw new EinCudaError('timeout', `nvcc ${args.join(' ')} did not finish in time`);
    const diagnostics = parseNvccDiagnostics(run.stderr + run.stdout);
    if (run.code !== 0 && !diagnostics.some((d) => d.severity === 'error')) {
      diagnostics.push({
        severity: 'error',
        message: `nvcc exited with ${run.code ?? run.signal}`,
        file: 'nvcc',
        line: 0,
      });
    }
    const ok = run.code === 0 && !diagnostics.some((d) => d.severity !== 'remark');
    const ptx = ok && options.ptx ? await readFile(join(dir, output), 'utf8') : undefined;
    return { ok, diagnostics, stderr: run.stderr, ...(ptx !== undefined ? { ptx } : {}) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * A header of this folder. The TypeScript build does not copy .h files, so from dist/ they are
 * found in the package's src/.
 */
function headerPath(name: string): string {
  const candidates = [
    new URL(`./${name}`, import.meta.url),
    new URL(`../../../src/backends/cuda/${name}`, import.meta.url),
  ];
  const found = candidates.map((url) => fileURLToPath(url)).find((path) => existsSync(path));
  if (!found) throw new EinCudaError('io', `cannot find ${name} beside ${fileURLToPath(import.meta.url)}`);
  return found;
}

/** The CUDA emulation header, for callers that compile with g++ themselves. */
export function emulatorHeaderPath(): string {
  return headerPath('ein_cuda_emu.h');
}

const GXX_FLAGS = ['-O2', '-std=c++17', '-pthread', '-DEIN_CUDA_EMU'];

/** Builds (or finds in the cache) the CPU binary of kernel + host source. */
async function buildEmulator(
  program: string,
  extraFlags: readonly string[],
  timeoutMs: number,
): Promise<string> {
  const included = [headerPath('ein_cuda_emu.h'), headerPath('ein_tensor_io.h')];
  // The emulation header includes these two; they are hashed too, so editing any header rebuilds.
  const headers = [...included, headerPath('ein_cuda_emu_fibers.h'), headerPath('ein_cuda_emu_runtime.h')];
  const flags = [...GXX_FLAGS, ...extraFlags];
  const hash = createHash('sha256').update(flags.join(' ')).update(program);
  for (const header of headers) hash.update(await readFile(header));
  const cacheDir = join(tmpdir(), 'ein-cuda-emu');
  const binary = join(cacheDir, hash.digest('hex').slice(0, 32));
  if (existsSync(binary)) return binary;

  await mkdir(cacheDir, { recursive: true });
  // Unique names, then an atomic rename: parallel test workers may build the same program.
  const partial = `${binary}.${process.pid}.${Math.random().toString(36).slice(2)}`;
  await writeFile(`${partial}.cu`, program);
  try {
    const args = [
      ...flags,
      ...included.flatMap((h) => ['-include', h]),
      '-x',
      'c++',
      `${partial}.cu`,
      '-o',
      partial,
    ];
    const run = await runTool('g++', args, { timeoutMs });
    if (run.timedOut)
      throw new EinCudaError('timeout', 'g++ did not finish compiling the emulated program in time');
    if (run.code !== 0)
      throw new EinCudaError('compile', `g++ failed on the emulated program:\n${run.stderr}`);
    await rename(partial, binary);
  } finally {
    await rm(`${partial}.cu`, { force: true });
    await rm(partial, { force: true });
  }
  return binary;
}

export type EmulatedTensor = Float32Array | Int32Array;

export interface EmulatedRun {
  /** Tensors the host program reads with ein_read_f32 / ein_read_i32 (see ein_tensor_io.h). */
  inputs?: Record<string, EmulatedTensor>;
  /** Tensors the host program writes with ein_write_f32 / ein_write_i32, and their element types. */
  outputs: Record<string, 'f32' | 'i32'>;
  args?: string[];
  /** Extra g++ flags, such as `-DEIN_EMU_USE_UCONTEXT` or `-g`. */
  gxxFlags?: string[];
  timeoutMs?: number;
}

export interface EmulatedResult {
  outputs: Record<string, EmulatedTensor>;
  stdout: string;
  stderr: string;
}

/**
 * Compiles `kernelSource` (the same source nvcc gets) and `hostSource` (which launches with
 * EIN_LAUNCH) with g++ and ein_cuda_emu.h, runs the program in a temporary folder, and returns the
 * tensors it wrote. Binaries are cached in os.tmpdir() by a hash of sources, headers and flags.
 */
export async function runEmulated(
  kernelSource: string,
  hostSource: string,
  run: EmulatedRun,
): Promise<EmulatedResult> {
  const timeoutMs = run.timeoutMs ?? 120_000;
  // #line keeps g++'s messages (and the emulator's barrier reports) pointing into each source.
  const program = `#line 1 "kernel.cu"\n${kernelSource}\n#line 1 "host.cu"\n${hostSource}\n`;
  const binary = await buildEmulator(program, run.gxxFlags ?? [], timeoutMs);
  const dir = await mkdtemp(join(tmpdir(), 'ein-emu-run-'));
  try {
    for (const [name, tensor] of Object.entries(run.inputs ?? {})) {
      const extension = tensor instanceof Float32Array ? 'f32' : 'i32';
      await writeFile(
        join(dir, `${name}.${extension}`),
        new Uint8Array(tensor.buffer, tensor.byteOffset, tensor.byteLength),
      );
    }
    const result = await runTool(binary, run.args ?? [], { cwd: dir, timeoutMs });
    if (result.timedOut)
      throw new EinCudaError('timeout', `the emulated program ran longer than ${timeoutMs} ms`);
    if (result.code !== 0) {
      const status = result.signal ? `signal ${result.signal}` : `exit status ${result.code}`;
      throw new EinCudaError('run', `the emulated program failed (${status}):\n${result.stderr}`);
    }
    const outputs: Record<string, EmulatedTensor> = {};
    for (const [name, type] of Object.entries(run.outputs)) {
      const path = join(dir, `${name}.${type}`);
      if (!existsSync(path)) throw new EinCudaError('io', `the emulated program wrote no ${name}.${type}`);
      const bytes = await readFile(path);
      if (bytes.byteLength % 4 !== 0)
        throw new EinCudaError('io', `${name}.${type} is not a whole number of elements`);
      const copy = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
      outputs[name] = type === 'f32' ? new Float32Array(copy) : new Int32Array(copy);
    }
    return { outputs, stdout: result.stdout, stderr: result.stderr };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
