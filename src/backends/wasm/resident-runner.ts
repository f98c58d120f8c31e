// A WebAssembly program whose buffers stay resident: the host writes an input once (weights, a KV
// cache) or in place (a token id, a position), runs any subset of the program's kernels, and reads
// outputs through views, with no per-call copy of anything it did not change. WasmRunner.run copies
// every input on every call, which is right for one-shot kernels and far too slow for a model that
// calls a few kernels per token over megabytes of weights. Same memory, module and pool as WasmRunner.
import type { BufferDecl, LoopKernel } from '../../ir/loops.js';
import type { WasmProgram, WasmStep } from './program.js';
import { kernelWork, POOL_MIN_WORK } from './step-work.js';
import { WasmThreadPool } from './threads.js';

type RangeFunction = (start: number, end: number) => void;

export class ResidentWasmRunner {
  private readonly buffers: ReadonlyMap<string, BufferDecl>;
  private readonly prepared = new Map<string, () => void>();
  /** One view of the whole memory: it never grows (its maximum is its size), so the view stays valid. */
  private readonly bytes: Uint8Array;

  private constructor(
    readonly program: WasmProgram,
    readonly memory: WebAssembly.Memory,
    private readonly pool: WasmThreadPool,
  ) {
    this.buffers = new Map(program.loops.buffers.map((b) => [b.name, b]));
    this.bytes = new Uint8Array(memory.buffer);
    if (program.layout.cosma || program.chunking)
      throw new Error('a resident program runs its steps as they are: no COSMA or AutoChunk plan');
  }

  static async create(program: WasmProgram): Promise<ResidentWasmRunner> {
    const memory = new WebAssembly.Memory({
      initial: program.layout.pages,
      maximum: program.layout.pages,
      shared: true,
    });
    const module = await WebAssembly.compile(program.bytes);
    const pool = await WasmThreadPool.create({ module, memory, threads: program.threads });
    return new ResidentWasmRunner(program, memory, pool);
  }

  /** A live view of a global buffer in the arena (f32 or i32 as declared): reads and writes in place. */
  view(name: string): Float32Array | Int32Array {
    const b = this.buffers.get(name);
    if (!b) throw new Error(`no buffer ${name} in ${this.program.loops.name}`);
    const offset = this.program.layout.offsets.get(name)!;
    return b.dtype === 'i32'
      ? new Int32Array(this.memory.buffer, offset, b.size)
      : new Float32Array(this.memory.buffer, offset, b.size);
  }

  f32(name: string): Float32Array {
    const v = this.view(name);
    if (!(v instanceof Float32Array)) throw new Error(`buffer ${name} is not f32`);
    return v;
  }

  i32(name: string): Int32Array {
    const v = this.view(name);
    if (!(v instanceof Int32Array)) throw new Error(`buffer ${name} is not i32`);
    return v;
  }

  /** Copy `elements` f32 elements inside the arena (an output row into a cache, say); no host copy. */
  copyWithin(from: string, fromElement: number, to: string, toElement: number, elements: number): void {
    const at = (name: string, element: number) => this.program.layout.offsets.get(name)! + 4 * element;
    const source = at(from, fromElement);
    this.bytes.copyWithin(at(to, toElement), source, source + 4 * elements);
  }

  /** Runs the steps of the given Loop IR kernels, in program order. */
  runKernels(kernels: readonly string[]): void {
    this.prepare(kernels)();
  }

  /**
   * The steps of the given Loop IR kernels as one function, for a caller that runs them per token:
   * a step with little work (step-work.ts) calls its export directly on this thread, with no pool
   * dispatch and no per-call lookups; a larger one goes through the pool.
   */
  prepare(kernels: readonly string[]): () => void {
    const key = kernels.join('\n');
    let run = this.prepared.get(key);
    if (!run) {
      const calls = stepsOf(this.program, kernels).map(({ step, kernel }): (() => void) => {
        const { exportName, count } = step;
        if (count === 0) return () => undefined;
        if (this.pool.threads > 1 && count > 1 && kernelWork(kernel) >= POOL_MIN_WORK)
          return () => this.pool.parallelFor(exportName, count);
        const f = this.pool.instance.exports[exportName] as RangeFunction;
        return () => f(0, count);
      });
      run = () => {
        for (const call of calls) call();
      };
      this.prepared.set(key, run);
    }
    return run;
  }

  async close(): Promise<void> {
    await this.pool.close();
  }
}

/**
 * The steps of `kernels`: a loop kernel is one step named as the kernel, a GEMM kernel is its pack
 * and compute phases (named from the kernel); steps come in program order, matched by position.
 */
function stepsOf(program: WasmProgram, kernels: readonly string[]): { step: WasmStep; kernel: LoopKernel }[] {
  const wanted = new Set(kernels);
  const out: { step: WasmStep; kernel: LoopKernel }[] = [];
  let at = 0;
  for (const k of program.loops.kernels) {
    // Each Loop IR kernel owns the consecutive steps whose export names start with its name.
    const mine: WasmStep[] = [];
    while (at < program.steps.length && program.steps[at]!.exportName.startsWith(k.name))
      mine.push(program.steps[at++]!);
    if (mine.length === 0) throw new Error(`internal: no step for kernel ${k.name}`);
    if (wanted.has(k.name)) out.push(...mine.map((step) => ({ step, kernel: k })));
  }
  return out;
}
