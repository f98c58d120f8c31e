/**
 * Run by threads.test.ts as a child process: starts a 2-thread pool, runs a parallel-for, and
 * then either closes the pool or (with `--leave-open`) forgets it. Either way the process must
 * exit by itself; the parent fails on a timeout.
 */
import { WasmThreadPool } from '../../src/backends/wasm/threads.js';
import { buildPoolTestModule } from './pool-harness.js';

const { module, memory } = buildPoolTestModule(1 << 20);
const pool = await WasmThreadPool.create({ module, memory, threads: 2 });
pool.parallelFor('mark', 5000, 7);
const marks = new Int32Array(memory.buffer, 0, 5000);
console.log(JSON.stringify({ allMarkedOnce: marks.every((value) => value === 1) }));
if (!process.argv.includes('--leave-open')) await pool.close();
