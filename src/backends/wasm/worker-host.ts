/**
 * The one place that differs between Node (`worker_threads`) and browsers (Web Workers): spawn
 * a worker from JavaScript source text and exchange structured-clone messages with it. The
 * source runs with a `host` object in scope: `host.onMessage(listener)`, `host.post(message)`,
 * `host.close()`.
 */
export interface WorkerHandle {
  post(message: unknown): void;
  onMessage(listener: (message: unknown) => void): void;
  onError(listener: (error: Error) => void): void;
  /** Lets the process exit while this worker is idle (Node only; a no-op in browsers). */
  unref(): void;
  terminate(): Promise<void>;
}

const NODE_HOST = `const { parentPort } = require('node:worker_threads');
const host = {
  onMessage: (listener) => parentPort.on('message', listener),
  post: (message) => parentPort.postMessage(message),
  close: () => parentPort.close(),
};
`;

const BROWSER_HOST = `const host = {
  onMessage: (listener) => { self.onmessage = (event) => listener(event.data); },
  post: (message) => self.postMessage(message),
  close: () => self.close(),
};
`;

export function isNode(): boolean {
  return typeof process !== 'undefined' && typeof process.versions?.node === 'string';
}

export async function spawnWorker(source: string): Promise<WorkerHandle> {
  if (isNode()) {
    const { Worker } = await import('node:worker_threads');
    const worker = new Worker(NODE_HOST + source, { eval: true });
    return {
      post: (message) => worker.postMessage(message),
      onMessage: (listener) => worker.on('message', listener),
      onError: (listener) => worker.on('error', listener),
      unref: () => worker.unref(),
      terminate: async () => {
        await worker.terminate();
      },
    };
  }
  const url = URL.createObjectURL(new Blob([BROWSER_HOST + source], { type: 'text/javascript' }));
  const worker = new Worker(url);
  URL.revokeObjectURL(url);
  return {
    post: (message) => worker.postMessage(message),
    onMessage: (listener) => worker.addEventListener('message', (event) => listener(event.data)),
    onError: (listener) => worker.addEventListener('error', (event) => listener(new Error(event.message))),
    unref: () => undefined,
    terminate: async () => worker.terminate(),
  };
}
