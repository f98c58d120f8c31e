import { CLAIM_BYTE_OFFSET, CONTROL } from './pool-control.js';

/**
 * Source of a thread-pool worker (run through worker-host.ts, so it is plain JavaScript): it
 * instantiates the posted module against the shared memory, then serves parallel-for
 * generations until told to quit, never returning to its event loop in between.
 *
 * Waiting follows pthreadpool (src/threadpool-common.h): spin on the sequence word for a bounded
 * number of iterations (≈0.3 µs wake-up), then sleep in Atomics.wait (≈60 µs wake-up, design
 * notes §8). `claimAndRun` is the same algorithm as `claimAndRun` in threads.ts.
 */
export function poolWorkerSource(spinIterations: number): string {
  return `
const C = ${JSON.stringify(CONTROL)};
const SPIN_ITERATIONS = ${spinIterations};

function claimAndRun(control, claim, sequence, count, chunk, run) {
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
    } catch (error) {
      Atomics.store(control, C.failed, 1);
      host.post({ type: 'error', message: String(error) });
    }
    if (Atomics.add(control, C.completed, end - start) + (end - start) === count) Atomics.notify(control, C.completed);
  }
}

function serve(control, claim, functions, seen) {
  for (;;) {
    let sequence = Atomics.load(control, C.sequence);
    for (let spins = 0; sequence === seen || (sequence & 1) === 1; sequence = Atomics.load(control, C.sequence)) {
      if (++spins >= SPIN_ITERATIONS) {
        Atomics.wait(control, C.sequence, sequence);
        spins = 0;
      }
    }
    seen = sequence;
    if (Atomics.load(control, C.quit) !== 0) return;
    const run = functions[control[C.functionIndex]];
    const count = control[C.count];
    const chunk = control[C.chunk];
    // Seqlock check: the descriptor was read whole within one generation.
    if (Atomics.load(control, C.sequence) !== sequence) continue;
    claimAndRun(control, claim, sequence, count, chunk, run);
  }
}

host.onMessage(async (message) => {
  try {
    const instance = await WebAssembly.instantiate(message.module, { env: { memory: message.memory } });
    const control = new Int32Array(message.control, 0, ${CLAIM_BYTE_OFFSET / 4});
    const claim = new BigInt64Array(message.control, ${CLAIM_BYTE_OFFSET}, 1);
    const functions = message.exportNames.map((name) => instance.exports[name]);
    // Read before 'ready': the first dispatch can only come after the caller sees it.
    const seen = Atomics.load(control, C.sequence);
    host.post({ type: 'ready' });
    serve(control, claim, functions, seen);
  } catch (error) {
    host.post({ type: 'error', message: String(error) });
  }
  host.close();
});
`;
}
