// Running a compiled WebAssembly program: one shared memory, a persistent thread pool, inputs
// copied to their planned offsets, the steps run in order, outputs read back. The same code runs in
// Node and in browsers (the pool abstracts worker_threads and Web Workers).
//
// Two memory plans add work between steps: a COSMA scratchpad plan's spills, loads, reloads and
// stores are memory copies inside the arena (cosma-layout.ts), and an AutoChunk plan runs its regions
// in order, a chunked one once per chunk between copies of its slices (chunked-program.ts).
import type { BufferDecl } from '../../ir/loops.js';
import type { Tensor } from '../../ir/tensor.js';
import { gatherChunk, scatterChunk } from './chunk-slices.js';
import type { SliceCopy } from '../../passes/chunk-layout.js';
import type { ChunkedRun } from './chunked-program.js';
import type { BufferCopy } from './cosma-layout.js';
import type { WasmProgram, WasmStep } from './program.js';
import { WasmThreadPool } from './threads.js';

export class WasmRunner {
  private constructor(
    readonly program: WasmProgram,
    readonly memory: WebAssembly.Memory,
    private readonly pool: WasmThreadPool,
  ) {}

  static async create(program: WasmProgram): Promise<WasmRunner> {
    const memory = new WebAssembly.Memory({
      initial: program.layout.pages,
      maximum: program.layout.pages,
      shared: true,
    });
    const module = await WebAssembly.compile(program.bytes);
    const pool = await WasmThreadPool.create({ module, memory, threads: program.threads });
    return new WasmRunner(program, memory, pool);
  }

  /** Copy `inputs` in, run every step, return the outputs (copies, so the arena can be reused). */
  run(inputs: Readonly<Record<string, Tensor>>): Record<string, Tensor> {
    const { loops, chunking } = this.program;
    const given = (b: BufferDecl) => {
      const t = inputs[b.name];
      if (!t) throw new Error(`input ${b.name} was not given`);
      return t;
    };
    const inputBuffers = loops.buffers.filter((b) => b.role === 'input');
    const outputBuffers = loops.outputs.map((o) => loops.buffers.find((x) => x.name === o)!);
    for (const b of inputBuffers) this.view(b).set(given(b).data);
    if (chunking) this.runChunked(chunking);
    else this.runSteps(this.program.steps);
    return Object.fromEntries(
      outputBuffers.map((b) => [
        b.name,
        { dtype: 'f32' as const, shape: b.shape, data: this.outputView(b).slice() },
      ]),
    );
  }

  /** AutoChunk: the regions in order; a chunked one once per chunk, between copies of its slices. */
  private runChunked(chunking: ChunkedRun): void {
    for (const segment of chunking.segments)
      for (let chunk = 0; chunk < segment.count; chunk++) {
        const spec = (g: SliceCopy) => ({ shape: g.shape, axis: g.axis, size: segment.size, chunk });
        const slice = (g: SliceCopy) => this.words(g.sliceOffset, g.shape, segment.size, g.axis);
        for (const g of segment.gathers) gatherChunk(this.words(g.wholeOffset, g.shape), slice(g), spec(g));
        this.runSteps(segment.steps);
        for (const g of segment.scatters) scatterChunk(slice(g), this.words(g.wholeOffset, g.shape), spec(g));
      }
  }

  /** The words of a tensor of `shape` at `offset`, or of one chunk of `size` along `axis`. */
  private words(offset: number, shape: readonly number[], size?: number, axis?: number): Int32Array {
    const elements = shape.reduce((n, d, i) => n * (i === axis ? size! : d), 1);
    return new Int32Array(this.memory.buffer, offset, elements);
  }

  /** A global buffer where the host reads and writes it (under a COSMA plan: its DRAM home). */
  private view(b: BufferDecl): Float32Array | Int32Array {
    const offset = this.program.layout.offsets.get(b.name)!;
    return b.dtype === 'i32'
      ? new Int32Array(this.memory.buffer, offset, b.size)
      : new Float32Array(this.memory.buffer, offset, b.size);
  }

  /** Outputs are read as f32, as the interpreter returns them. */
  private outputView(b: BufferDecl): Float32Array {
    return new Float32Array(this.memory.buffer, this.program.layout.offsets.get(b.name)!, b.size);
  }

  private runSteps(steps: readonly WasmStep[]): void {
    for (const step of steps) {
      if (step.copiesBefore) this.copy(step.copiesBefore);
      this.pool.parallelFor(step.exportName, step.count);
      if (step.copiesAfter) this.copy(step.copiesAfter);
    }
  }

  /** COSMA's spills, loads, reloads and stores, in the plan's order, on the shared arena. */
  private copy(copies: readonly BufferCopy[]): void {
    const bytes = new Uint8Array(this.memory.buffer);
    for (const c of copies) bytes.copyWithin(c.to, c.from, c.from + c.bytes);
  }

  async close(): Promise<void> {
    await this.pool.close();
  }
}
