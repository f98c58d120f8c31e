// Runs kernels off the page's main thread. The WASM thread pool's calling thread busy-waits for its
// workers during a run (a browser's main thread may not Atomics.wait), so the call must not be made
// from the page; here it only blocks this worker. The interpreter runs here too, for the same reason.
//
// The handler is installed before anything heavy loads: binaryen has a top-level await, and a
// module worker whose imports are still evaluating drops the messages that arrive meanwhile.
import type { RunRequest } from './run-protocol.js';

const tasks = import('./run-tasks.js');

self.onmessage = async (event: MessageEvent<RunRequest>) => {
  const { handle } = await tasks;
  self.postMessage(await handle(event.data));
};
