/**
 * The machine's memory bandwidth as WebAssembly sees it: a streaming read of a buffer far larger
 * than the caches (SIMD loads into four independent accumulators, so the loop is bound by memory,
 * not by an add chain), split over the same thread pool Ein's kernels use. A decode step must read
 * every weight once, so weight bytes / this bandwidth is the floor of its time.
 */
import binaryen from 'binaryen';
import { buildKernelModule } from '../src/backends/wasm/kernel-module.js';
import { WasmThreadPool } from '../src/backends/wasm/threads.js';

const BLOCK_BYTES = 1 << 16;
const LANES = 4;

/**
 * Median GB/s (1e9 bytes per second) of `runs` full reads of `bytes` bytes with `threads` threads:
 * of a fresh buffer, or of the first `bytes` of an existing shared memory (a model's arena, so the
 * probe costs no memory and runs in the same process and conditions as the model it is the floor of).
 */
export async function measureReadBandwidth(
  threads: number,
  options: { bytes?: number; runs?: number; memory?: WebAssembly.Memory } = {},
): Promise<number> {
  const { bytes = 768 * 2 ** 20, runs = 9 } = options;
  const blocks = Math.floor(bytes / BLOCK_BYTES);
  const pages = options.memory ? options.memory.buffer.byteLength / 65536 : (blocks * BLOCK_BYTES) / 65536;
  const wasm = buildKernelModule({ memoryPages: pages, maximumPages: pages, shared: true }, (mod) => {
    // read(start, end): blocks [start, end) summed into four f32x4 accumulators, returned so the
    // loads cannot be optimized away (nothing is written: the memory may be a model's arena).
    const [start, end, at, stop, ...acc] = [0, 1, 2, 3, 4, 5, 6, 7];
    const i32 = (l: number) => mod.local.get(l, binaryen.i32);
    const v = (l: number) => mod.local.get(l, binaryen.v128);
    const body = [
      mod.local.set(at, mod.i32.mul(i32(start), mod.i32.const(BLOCK_BYTES))),
      mod.local.set(stop, mod.i32.mul(i32(end), mod.i32.const(BLOCK_BYTES))),
      mod.loop(
        'stream',
        mod.block(null, [
          ...acc.map((a, j) => mod.local.set(a, mod.f32x4.add(v(a), mod.v128.load(16 * j, 16, i32(at))))),
          mod.local.set(at, mod.i32.add(i32(at), mod.i32.const(16 * LANES))),
          mod.br('stream', mod.i32.lt_u(i32(at), i32(stop))),
        ]),
      ),
      mod.f32x4.extract_lane(
        mod.f32x4.add(mod.f32x4.add(v(acc[0]!), v(acc[1]!)), mod.f32x4.add(v(acc[2]!), v(acc[3]!))),
        0,
      ),
    ];
    const locals = [binaryen.i32, binaryen.i32, ...acc.map(() => binaryen.v128)];
    mod.addFunction(
      'read',
      binaryen.createType([binaryen.i32, binaryen.i32]),
      binaryen.f32,
      locals,
      mod.block(null, body, binaryen.f32),
    );
    mod.addFunctionExport('read', 'read');
  });
  let memory = options.memory;
  if (!memory) {
    memory = new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
    // Touch every page so the first run does not measure page faults.
    new Uint8Array(memory.buffer).fill(1);
  }
  const pool = await WasmThreadPool.create({ module: await WebAssembly.compile(wasm), memory, threads });
  try {
    const times: number[] = [];
    for (let r = 0; r < runs + 2; r++) {
      const t = performance.now();
      pool.parallelFor('read', blocks, Math.ceil(blocks / threads));
      times.push(performance.now() - t);
    }
    times.sort((a, b) => a - b);
    return (blocks * BLOCK_BYTES) / (times[times.length >> 1]! / 1000) / 1e9;
  } finally {
    await pool.close();
  }
}
