/**
 * stories260K tokens/s on the persistent WASM model (1 and 2 threads), greedy, 256 positions of
 * "Once upon a time", beside llama2.c's C code on one core of this machine (a teammate's figure:
 * not measured in this run). Also the start-up (check + compile + module + instantiate) and the
 * predicted (linked memory plan) vs measured (WebAssembly memory) peak.
 */
import { existsSync } from 'node:fs';
import { generate } from '../src/runtime/generate-text.js';
import { Llama2cCheckpoint } from '../src/runtime/llama2c.js';
import { openFileSource } from '../src/runtime/node-file-io.js';
import { Sampler } from '../src/runtime/sampler.js';
import { Llama2cTokenizer } from '../src/runtime/tokenizer.js';
import { WasmLlamaModel } from '../src/runtime/wasm-model-llama.js';

const models = new URL('../../shared/models/', import.meta.url).pathname;
/** llama2.c run.c, one core of this machine, stories260K (measured by a teammate, not here). */
const LLAMA2C_TOKENS_PER_SECOND = 5000;
const STEPS = 256;

export async function benchLlama(): Promise<unknown> {
  if (!existsSync(`${models}stories260K.bin`)) {
    console.log(`skipped: no stories260K in ${models}`);
    return [];
  }
  const rows = [];
  for (const threads of [1, 2]) {
    const start = performance.now();
    const checkpoint = await Llama2cCheckpoint.open(await openFileSource(`${models}stories260K.bin`));
    const model = await WasmLlamaModel.load(checkpoint, { threads });
    await checkpoint.close();
    const loadMs = performance.now() - start;
    const source = await openFileSource(`${models}tok512.bin`);
    const tokenizer = await Llama2cTokenizer.load(source, model.config.vocabSize);
    await source.close();
    const once = async () => {
      const sampler = new Sampler({ vocabSize: model.config.vocabSize, temperature: 0, topp: 0.9, seed: 0 });
      const t = performance.now();
      await generate({
        tokenizer,
        sampler,
        steps: STEPS,
        seqLen: model.config.seqLen,
        prompt: 'Once upon a time',
        forward: (token, pos) => model.forward(token, pos),
      });
      return performance.now() - t;
    };
    // Warm-up lets V8 tier the kernels up from Liftoff to TurboFan.
    for (let i = 0; i < 10; i++) await once();
    const times = [];
    for (let i = 0; i < 9; i++) times.push(await once());
    times.sort((a, b) => a - b);
    const tokensPerSecond = STEPS / (times[times.length >> 1]! / 1000);
    const memory = model.memoryReport();
    const t = model.model.timings;
    const row = {
      threads,
      tokensPerSecond: Math.round(tokensPerSecond),
      llama2cTokensPerSecond: LLAMA2C_TOKENS_PER_SECOND,
      ratioToLlama2c: +(tokensPerSecond / LLAMA2C_TOKENS_PER_SECOND).toFixed(2),
      loadMs: Math.round(loadMs),
      compileKernelsMs: Math.round(Object.values(t.compileMs).reduce((a, b) => a + b, 0)),
      buildModuleMs: Math.round(t.buildMs),
      instantiateMs: Math.round(t.instantiateMs),
      predictedBytes: memory.predictedBytes,
      measuredBytes: memory.measuredBytes,
      memoryError: +((memory.measuredBytes - memory.predictedBytes) / memory.predictedBytes).toFixed(3),
    };
    console.log(JSON.stringify(row));
    rows.push(row);
    await model.close();
  }
  return rows;
}
