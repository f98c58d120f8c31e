/**
 * One engine at one thread count, in its own process (engines keep process-wide thread pools and
 * ORT reads its thread count once). Usage: gemm-child.ts '<json ChildRequest>'; prints one JSON
 * line with a ChildRow per shape.
 */
import { einEngine } from './gemm-engine-ein.js';
import { ortEngine } from './gemm-engine-ort.js';
import { tfjsEngine } from './gemm-engine-tfjs.js';
import { gemmInputs, samplePositions, type GemmEngine, type GemmShape } from './gemm-engine.js';
import { timeMedian, type TimingOptions } from './timing.js';

export type EngineName = 'ein-relaxed' | 'ein-simd128' | 'ort-web' | 'tfjs-wasm';

export interface ChildRequest {
  engine: EngineName;
  threads: number;
  shapes: GemmShape[];
  timing: TimingOptions;
}

export interface ChildRow {
  shape: GemmShape;
  gflops: number;
  medianMs: number;
  runs: number;
  samples: number[];
}

async function createEngine(name: EngineName, threads: number): Promise<GemmEngine> {
  switch (name) {
    case 'ein-relaxed':
      return einEngine(threads, true);
    case 'ein-simd128':
      return einEngine(threads, false);
    case 'ort-web':
      return ortEngine(threads);
    case 'tfjs-wasm':
      return tfjsEngine(threads);
  }
}

const request = JSON.parse(process.argv[2] ?? '{}') as ChildRequest;
const engine = await createEngine(request.engine, request.threads);
const rows: ChildRow[] = [];
for (const shape of request.shapes) {
  const { a, b } = gemmInputs(shape);
  await engine.prepare(shape, a, b);
  const timing = await timeMedian(() => engine.run(), request.timing);
  const c = await engine.result();
  rows.push({
    shape,
    gflops: (2 * shape.m * shape.n * shape.k) / (timing.medianMs * 1e6),
    medianMs: timing.medianMs,
    runs: timing.runs,
    samples: samplePositions(shape).map((position) => c[position]),
  });
}
await engine.dispose();
console.log(JSON.stringify(rows));
// ORT's and tfjs's Emscripten runtimes may keep handles open; the measurement is done.
process.exit(0);
