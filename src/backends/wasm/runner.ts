// Running a compiled WebAssembly program: one shared memory, a persistent thread pool, inputs
// copied to their planned offsets, the steps run in order, outputs read back. The same code runs in
// Node and in browsers (the pool abstracts worker_threads and Web Workers).
import type { Tensor } from '../../ir/tensor.js';
import type { WasmProgram } from './program.js';
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
    const { layout, loops } = this.program;
    const buffer = this.memory.buffer;
    for (const b of loops.buffers) {
      if (b.role !== 'input') continue;
      const t = inputs[b.name];
      if (!t) throw new Error(`input ${b.name} was not given`);
      const view =
        b.dtype === 'i32'
          ? new Int32Array(buffer, layout.offsets.get(b.name)!, b.size)
          : new Float32Array(buffer, layout.offsets.get(b.name)!, b.size);
      view.set(t.data);
    }
    for (const step of this.program.steps) this.pool.parallelFor(step.exportName, step.count);
    return Object.fromEntries(
      loops.outputs.map((o) => {
        const b = loops.buffers.find((x) => x.name === o)!;
        const data = new Float32Array(buffer, layout.offsets.get(o)!, b.size).slice();
        return [o, { dtype: 'f32' as const, shape: b.shape, data }];
      }),
    );
  }

  async close(): Promise<void> {
    await this.pool.close();
  }
}
