/**
 * One engine at one thread count on one model-block workload, in its own process (ORT reads its
 * thread count once per process, and peak RSS must be this engine's alone). Usage:
 * block-child.ts '<json BlockRequest>'; prints one JSON line with a BlockRow per size.
 * Memory: the growth of the process's peak RSS over its RSS before the engine was created, and for
 * Ein also the size of its WebAssembly memory (ORT's heap is internal to its module).
 */
import { createRequire } from 'node:module';
import * as ort from 'onnxruntime-web';
import { buildWasmProgram } from '../src/backends/wasm/program.js';
import { WasmRunner } from '../src/backends/wasm/runner.js';
import { checkSource } from '../src/frontend/index.js';
import type { Tensor } from '../src/ir/tensor.js';
import { compileKernel } from '../src/passes/pipeline.js';
import { workload, type Workload, type WorkloadName } from './block-workloads.js';
import { timeMedian, type TimingOptions } from './timing.js';

export type BlockEngine = 'ein' | 'ort-web';

export interface BlockRequest {
  workload: WorkloadName;
  sizes: number[];
  engine: BlockEngine;
  threads: number;
  timing: TimingOptions;
}

export interface BlockRow {
  size: number;
  label: string;
  medianMs: number;
  runs: number;
  gflops: number;
  peakRssGrowthMB: number;
  wasmMemoryMB?: number;
  samples: number[];
}

interface Engine {
  run(): Promise<void> | void;
  output(): Promise<Float32Array>;
  wasmBytes?: () => number;
  dispose(): Promise<void>;
}

async function einEngine(w: Workload, threads: number): Promise<Engine> {
  const program = checkSource(w.einSource, 'bench.ein');
  const state = compileKernel(program, { ranks: w.ranks, threads });
  const runner = await WasmRunner.create(buildWasmProgram(state, { threads, relaxedSimd: true }));
  const inputs: Record<string, Tensor> = Object.fromEntries(
    w.inputs.map((i) => [i.name, { dtype: 'f32' as const, shape: i.dims, data: i.data }]),
  );
  let last: Float32Array | undefined;
  return {
    run: () => {
      last = runner.run(inputs)[w.output.name]!.data as Float32Array;
    },
    output: async () => last!,
    wasmBytes: () => runner.memory.buffer.byteLength,
    dispose: () => runner.close(),
  };
}

async function ortEngine(w: Workload, threads: number): Promise<Engine> {
  const wasmFile = createRequire(import.meta.url).resolve('onnxruntime-web/ort-wasm-simd-threaded.wasm');
  ort.env.wasm.wasmPaths = wasmFile.slice(0, wasmFile.lastIndexOf('/') + 1);
  ort.env.wasm.numThreads = threads;
  const session = await ort.InferenceSession.create(w.onnx(), {
    executionProviders: ['wasm'],
    graphOptimizationLevel: 'all',
  });
  const feeds = Object.fromEntries(
    w.inputs
      .filter((i) => w.onnxInputs.includes(i.name))
      .map((i) => [i.name, new ort.Tensor('float32', i.data, i.dims)]),
  );
  let last: ort.Tensor | undefined;
  return {
    run: async () => {
      last = (await session.run(feeds))[w.output.name];
    },
    output: async () => (await last!.getData()) as Float32Array,
    dispose: () => session.release(),
  };
}

const request = JSON.parse(process.argv[2] ?? '{}') as BlockRequest;
const rows: BlockRow[] = [];
for (const size of request.sizes) {
  const w = workload(request.workload, size);
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const baseline = process.memoryUsage().rss;
  const engine =
    request.engine === 'ein' ? await einEngine(w, request.threads) : await ortEngine(w, request.threads);
  const timing = await timeMedian(() => engine.run(), request.timing);
  const out = await engine.output();
  rows.push({
    size,
    label: w.label,
    medianMs: timing.medianMs,
    runs: timing.runs,
    gflops: w.flops / (timing.medianMs * 1e6),
    peakRssGrowthMB: (process.resourceUsage().maxRSS * 1024 - baseline) / 2 ** 20,
    ...(engine.wasmBytes ? { wasmMemoryMB: engine.wasmBytes() / 2 ** 20 } : {}),
    samples: w.samples.map((p) => out[p]!),
  });
  await engine.dispose();
}
console.log(JSON.stringify(rows));
process.exit(0);
