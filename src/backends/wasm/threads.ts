import { CLAIM_BYTE_OFFSET, CONTROL, CONTROL_BYTES } from './pool-control.js';
import { poolWorkerSource } from './pool-worker-source.js';
import { isNode, spawnWorker, type WorkerHandle } from './worker-host.js';

/**
 * A persistent pool of workers that run exported functions `f(start, end)` of one compiled
 * WebAssembly module over sub-ranges of [0, count), all instances sharing one
 * `WebAssembly.Memory({ shared: true })` (design notes §8, pthreadpool style):
 *  - the module is compiled once and posted to every worker;
 *  - the calling thread takes a share of the items, so `threads = 1 + workers`;
 *  - dispatch publishes a descriptor under a seqlock sequence number; workers spin a bounded
 *    time on it, then Atomics.wait;
 *  - items are claimed dynamically in chunks by compare-exchange on a word tagged with the
 *    sequence (pool-control.ts), and the caller waits for claimed items only.
 * Browsers need cross-origin isolation (COOP/COEP) for SharedArrayBuffer, and their main thread
 * may not block, so there it busy-waits for the workers instead of Atomics.wait.
 */
export interface ThreadPoolOptions {
  module: WebAssembly.Module;
  /** Must be shared when `threads > 1`; imported by the module as `env.memory`. */
  memory: WebAssembly.Memory;
  /** Total threads including the caller; 1 runs everything on the caller. */
  threads: number;
  /** Spins before sleeping; pthreadpool uses 1,000,000 (PTHREADPOOL_SPIN_WAIT_ITERATIONS). */
  spinIterations?: number;
}

type RangeFunction = (start: number, end: number) => void;

const DEFAULT_SPIN_ITERATIONS = 1_000_000;

export class WasmThreadPool {
  private closed = false;

  private constructor(
    readonly threads: number,
    readonly instance: WebAssembly.Instance,
    private readonly exportIndex: Map<string, number>,
    private readonly control: Int32Array,
    private readonly claim: BigInt64Array,
    private readonly workers: WorkerHandle[],
    private readonly spinIterations: number,
    private readonly canBlock: boolean,
  ) {}

  static async create(options: ThreadPoolOptions): Promise<WasmThreadPool> {
    const { module, memory, threads } = options;
    if (!Number.isInteger(threads) || threads < 1)
      throw new Error(`thread count must be a positive integer, got ${threads}`);
    if (threads > 1 && !(memory.buffer instanceof SharedArrayBuffer))
      throw new Error('a thread pool with more than one thread needs a shared WebAssembly.Memory');
    const spinIterations = options.spinIterations ?? DEFAULT_SPIN_ITERATIONS;
    const exportNames = WebAssembly.Module.exports(module)
      .filter((entry) => entry.kind === 'function')
      .map((entry) => entry.name);
    const controlBuffer = threads > 1 ? new SharedArrayBuffer(CONTROL_BYTES) : new ArrayBuffer(CONTROL_BYTES);
    const control = new Int32Array(controlBuffer, 0, CLAIM_BYTE_OFFSET / 4);
    const claim = new BigInt64Array(controlBuffer, CLAIM_BYTE_OFFSET, 1);
    // The workers start (a Node worker takes tens of ms) while this thread instantiates; if either
    // side fails, the workers that did start are terminated.
    const starting = Promise.allSettled(
      Array.from({ length: threads - 1 }, () =>
        startWorker(module, memory, controlBuffer, exportNames, spinIterations),
      ),
    );
    const instancing = Promise.allSettled([WebAssembly.instantiate(module, { env: { memory } })]);
    const [[instance], results] = await Promise.all([instancing, starting]);
    const workers = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    const failure = [instance, ...results].find((r) => r.status === 'rejected');
    if (instance.status === 'rejected' || failure) {
      await Promise.all(workers.map((w) => w.terminate()));
      throw failure?.reason;
    }
    const exportIndex = new Map(exportNames.map((name, index) => [name, index]));
    return new WasmThreadPool(
      threads,
      instance.value,
      exportIndex,
      control,
      claim,
      workers,
      spinIterations,
      mayBlock(),
    );
  }

  /**
   * Runs the export `name(start, end)` over [0, count) split in chunks of `chunk` items, and
   * returns when all items are done. Throws if any call trapped.
   */
  parallelFor(name: string, count: number, chunk = defaultChunk(count, this.threads)): void {
    if (this.closed) throw new Error('the thread pool is closed');
    const index = this.exportIndex.get(name);
    const run = this.instance.exports[name];
    if (index === undefined || typeof run !== 'function')
      throw new Error(`module has no exported function '${name}'`);
    if (!Number.isInteger(count) || count < 0)
      throw new Error(`item count must be a non-negative integer, got ${count}`);
    if (!Number.isInteger(chunk) || chunk < 1)
      throw new Error(`chunk must be a positive integer, got ${chunk}`);
    if (count === 0) return;
    if (this.workers.length === 0 || count <= chunk) {
      (run as RangeFunction)(0, count);
      return;
    }
    if (count >= 2 ** 31) throw new Error(`item count ${count} exceeds 2^31`);
    const { control, claim } = this;
    const sequence = Atomics.load(control, CONTROL.sequence) + 2;
    Atomics.store(control, CONTROL.sequence, sequence - 1);
    control[CONTROL.functionIndex] = index;
    control[CONTROL.count] = count;
    control[CONTROL.chunk] = chunk;
    Atomics.store(control, CONTROL.completed, 0);
    Atomics.store(control, CONTROL.failed, 0);
    Atomics.store(claim, 0, BigInt(sequence) << 32n);
    Atomics.store(control, CONTROL.sequence, sequence);
    Atomics.notify(control, CONTROL.sequence);

    let callerError: unknown;
    try {
      claimAndRun(control, claim, sequence, count, chunk, run as RangeFunction);
    } catch (error) {
      callerError = error;
      // Claim (without running) what is left, so the wait below ends; workers may still be
      // writing to shared memory, so it must not be skipped.
      claimAndRun(control, claim, sequence, count, count, () => undefined);
    }
    this.waitForCompletion(count);
    if (callerError !== undefined) throw callerError;
    if (Atomics.load(control, CONTROL.failed) !== 0) throw new Error(`'${name}' trapped in a pool worker`);
  }

  /** Stops and terminates the workers; the pool cannot be used afterwards. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    Atomics.store(this.control, CONTROL.quit, 1);
    Atomics.add(this.control, CONTROL.sequence, 2);
    Atomics.notify(this.control, CONTROL.sequence);
    await Promise.all(this.workers.map((worker) => worker.terminate()));
  }

  private waitForCompletion(count: number): void {
    const control = this.control;
    let spins = 0;
    for (;;) {
      const completed = Atomics.load(control, CONTROL.completed);
      if (completed === count) return;
      if (this.canBlock && ++spins >= this.spinIterations) {
        Atomics.wait(control, CONTROL.completed, completed);
        spins = 0;
      }
    }
  }
}

/**
 * Claims chunks of the generation `sequence` and runs them until none is left; a trap in `run`
 * propagates after its items are counted. Same algorithm as the worker's (pool-worker-source.ts).
 */
function claimAndRun(
  control: Int32Array,
  claim: BigInt64Array,
  sequence: number,
  count: number,
  chunk: number,
  run: RangeFunction,
): void {
  const tag = BigInt(sequence) << 32n;
  for (;;) {
    const word = Atomics.load(claim, 0);
    if ((word & ~0xffffffffn) !== tag) return;
    const start = Number(word & 0xffffffffn);
    if (start >= count) return;
    const end = Math.min(start + chunk, count);
    if (Atomics.compareExchange(claim, 0, word, tag | BigInt(end)) !== word) continue;
    try {
      run(start, end);
    } finally {
      if (Atomics.add(control, CONTROL.completed, end - start) + (end - start) === count)
        Atomics.notify(control, CONTROL.completed);
    }
  }
}

/** About 8 chunks per thread balances load while keeping Atomics.add traffic negligible. */
function defaultChunk(count: number, threads: number): number {
  return Math.max(1, Math.floor(count / (8 * threads)));
}

/** Whether this thread may call Atomics.wait (not a browser's main thread). */
function mayBlock(): boolean {
  if (isNode()) return true;
  try {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0);
    return true;
  } catch {
    return false;
  }
}

async function startWorker(
  module: WebAssembly.Module,
  memory: WebAssembly.Memory,
  control: ArrayBufferLike,
  exportNames: string[],
  spinIterations: number,
): Promise<WorkerHandle> {
  const worker = await spawnWorker(poolWorkerSource(spinIterations));
  await new Promise<void>((resolve, reject) => {
    worker.onError(reject);
    worker.onMessage((message) => {
      const { type, message: text } = message as { type: string; message?: string };
      if (type === 'ready') resolve();
      else if (type === 'error') reject(new Error(`pool worker failed: ${text}`));
    });
    worker.post({ module, memory, control, exportNames });
  }).catch(async (error: unknown) => {
    await worker.terminate();
    throw error;
  });
  // Idle workers must not keep a Node process alive if the pool is never closed.
  worker.unref();
  return worker;
}
