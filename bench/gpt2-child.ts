/**
 * One GPT-2 engine at one thread count, in its own process (ORT reads its thread count once per
 * process, and the peak RSS must be this engine's alone). Usage: gpt2-child.ts '<json Gpt2Request>';
 * prints one JSON line with a Gpt2ChildRow. Engines: Ein's persistent WASM model, onnxruntime-web on
 * the merged prefill/decode graph of gpt2-graph.ts. Ein's child also measures the streaming-read
 * bandwidth before each decode round, over the first weight-bytes of its own arena (bandwidth.ts).
 */
import { createRequire } from 'node:module';
import * as ort from 'onnxruntime-web';
import { WasmGpt2Model } from '../src/runtime/wasm-model-gpt2.js';
import type { WasmModelTimings } from '../src/runtime/wasm-model.js';
import { measureReadBandwidth } from './bandwidth.js';
import { benchPrompt, decodeWeightBytes, fillGpt2Weight, gpt2OnnxGraph, GPT2_SMALL } from './gpt2-graph.js';
import { encodeModel } from './onnx-graph.js';
import { timeMedian, type TimingOptions } from './timing.js';

export type Gpt2Engine = 'ein' | 'ort-web';

export interface Gpt2Request {
  engine: Gpt2Engine;
  threads: number;
  promptTokens: number;
  decodeSteps: number;
  decodeRounds: number;
  timing: TimingOptions;
}

export interface Gpt2ChildRow {
  prefillMs?: number;
  prefillRuns?: number;
  /** Median over decodeRounds × decodeSteps steps at positions promptTokens, promptTokens + 1, ... */
  decodeMs?: number;
  loadMs?: number;
  /** Ein: compile + module build + instantiate, the start-up before any weight is written. */
  startupMs?: number;
  peakRssMB?: number;
  baselineRssMB?: number;
  wasmMemoryMB?: number;
  /** Ein: the median streaming-read bandwidth measured before each decode round. */
  bandwidthGBs?: number;
  /** Logits after the prompt and after the first decode step, to compare engines. */
  prefillLogits?: number[];
  decodeLogits?: number[];
}

/** What both engines implement: a prompt from position 0, then one token at a time. */
interface Engine {
  prefill(tokens: number[]): Promise<Float32Array>;
  decode(token: number, pos: number): Promise<Float32Array>;
  wasmBytes?: () => number;
  startupMs?: number;
  /** The engine's WebAssembly memory, when it is one the bandwidth probe can read. */
  arena?: WebAssembly.Memory;
  dispose(): Promise<void>;
}

const startupOf = (t: WasmModelTimings) =>
  Object.values(t.compileMs).reduce((a, b) => a + b, 0) + t.buildMs + t.instantiateMs;

async function einEngine(threads: number, promptTokens: number): Promise<Engine> {
  const model = await WasmGpt2Model.load(GPT2_SMALL, fillGpt2Weight, { threads, promptTokens });
  return {
    prefill: async (tokens) => model.prefill(tokens),
    decode: async (token, pos) => model.forward(token, pos),
    wasmBytes: () => model.model.memoryBytes,
    startupMs: startupOf(model.model.timings),
    arena: model.model.runner.memory,
    dispose: () => model.close(),
  };
}

async function ortEngine(threads: number): Promise<Engine> {
  const wasmFile = createRequire(import.meta.url).resolve('onnxruntime-web/ort-wasm-simd-threaded.wasm');
  ort.env.wasm.wasmPaths = wasmFile.slice(0, wasmFile.lastIndexOf('/') + 1);
  ort.env.wasm.numThreads = threads;
  const session = await ort.InferenceSession.create(encodeModel(gpt2OnnxGraph(GPT2_SMALL)), {
    executionProviders: ['wasm'],
    graphOptimizationLevel: 'all',
  });
  const { nHeads: H, dim, nLayers } = GPT2_SMALL;
  const E = dim / H;
  let past: Record<string, ort.Tensor> = {};
  const run = async (tokens: number[], start: number, mask: Float32Array) => {
    const T = tokens.length;
    const out = await session.run({
      input_ids: new ort.Tensor('int64', BigInt64Array.from(tokens.map(BigInt)), [T]),
      position_ids: new ort.Tensor('int64', BigInt64Array.from(tokens.map((_, t) => BigInt(start + t))), [T]),
      attention_mask: new ort.Tensor('float32', mask, [T, start + T]),
      ...past,
    });
    past = {};
    for (let l = 0; l < nLayers; l++)
      for (const kind of ['key', 'value']) past[`past_${kind}_${l}`] = out[`present_${kind}_${l}`]!;
    return (await out['logits']!.getData()) as Float32Array;
  };
  return {
    prefill: async (tokens) => {
      past = {};
      for (let l = 0; l < nLayers; l++)
        for (const kind of ['key', 'value'])
          past[`past_${kind}_${l}`] = new ort.Tensor('float32', new Float32Array(0), [H, 0, E]);
      const T = tokens.length;
      const causal = new Float32Array(T * T);
      for (let t = 0; t < T; t++) for (let s = t + 1; s < T; s++) causal[t * T + s] = -Infinity;
      return run(tokens, 0, causal);
    },
    decode: (token, pos) => run([token], pos, new Float32Array(pos + 1)),
    dispose: () => session.release(),
  };
}

const sample = (logits: Float32Array) => Array.from(logits.subarray(0, 64));

const request = JSON.parse(process.argv[2] ?? '{}') as Gpt2Request;
const gc = (globalThis as { gc?: () => void }).gc;
let row: Gpt2ChildRow;
{
  gc?.();
  const baseline = process.memoryUsage().rss;
  const loadStart = performance.now();
  const engine =
    request.engine === 'ein'
      ? await einEngine(request.threads, request.promptTokens)
      : await ortEngine(request.threads);
  const loadMs = performance.now() - loadStart;
  const prompt = benchPrompt(request.promptTokens, GPT2_SMALL.vocabSize);
  const prefillLogits = sample(await engine.prefill(prompt));
  const prefill = await timeMedian(() => engine.prefill(prompt), request.timing);
  // Decode rounds: a prefill, then decodeSteps tokens (the prompt's continuation, the same tokens
  // for both engines); the first round warms up.
  const continuation = benchPrompt(request.promptTokens + request.decodeSteps, GPT2_SMALL.vocabSize).slice(
    request.promptTokens,
  );
  const steps: number[] = [];
  const bandwidths: number[] = [];
  let peakRss = 0;
  let decodeLogits: number[] = [];
  for (let round = 0; round <= request.decodeRounds; round++) {
    // The peak RSS is the engine's after a prefill and a round of decoding, before the probe's
    // thread pool (its workers' own memory) exists.
    if (round === 1) peakRss = process.resourceUsage().maxRSS * 1024;
    if (engine.arena && round > 0)
      bandwidths.push(
        await measureReadBandwidth(request.threads, {
          memory: engine.arena,
          bytes: decodeWeightBytes(GPT2_SMALL),
          runs: 5,
        }),
      );
    await engine.prefill(prompt);
    for (let i = 0; i < request.decodeSteps; i++) {
      const start = performance.now();
      const logits = await engine.decode(continuation[i]!, request.promptTokens + i);
      if (round > 0) steps.push(performance.now() - start);
      if (i === 0) decodeLogits = sample(logits);
    }
  }
  steps.sort((a, b) => a - b);
  row = {
    prefillMs: prefill.medianMs,
    prefillRuns: prefill.runs,
    decodeMs: steps[steps.length >> 1]!,
    loadMs,
    ...(engine.startupMs !== undefined ? { startupMs: engine.startupMs } : {}),
    peakRssMB: (peakRss || process.resourceUsage().maxRSS * 1024) / 2 ** 20,
    baselineRssMB: baseline / 2 ** 20,
    ...(engine.wasmBytes ? { wasmMemoryMB: engine.wasmBytes() / 2 ** 20 } : {}),
    ...(bandwidths.length ? { bandwidthGBs: bandwidths.sort((a, b) => a - b)[bandwidths.length >> 1]! } : {}),
    prefillLogits,
    decodeLogits,
  };
  await engine.dispose();
}
console.log(JSON.stringify(row));
// ORT's Emscripten runtime may keep handles open; the measurement is done.
process.exit(0);
