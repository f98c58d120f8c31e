/**
 * stories260K tokens/s on the persistent WASM model (1 and 2 threads), greedy, 256 positions of
 * "Once upon a time", beside a llama2.c-style C forward pass measured in the same run on the same
 * token sequence (bench/peers/llama2c-forward.c, built like llama2.c's `make run` and `make runfast`):
 * the ratio Ein / C, and whether the C peer produced the same greedy token ids (the same work).
 * Also the start-up (check + compile + module + instantiate) and the predicted (linked memory plan)
 * vs measured (WebAssembly memory) peak.
 */
import { existsSync } from 'node:fs';
import { generate } from '../src/runtime/generate-text.js';
import { Llama2cCheckpoint } from '../src/runtime/llama2c.js';
import { openFileSource } from '../src/runtime/node-file-io.js';
import { Sampler } from '../src/runtime/sampler.js';
import { Llama2cTokenizer } from '../src/runtime/tokenizer.js';
import { WasmLlamaModel } from '../src/runtime/wasm-model-llama.js';
import {
  buildLlama2cPeer,
  LLAMA2C_BUILDS,
  runLlama2cPeer,
  type Llama2cBuild,
  type Llama2cResult,
} from './peers/llama2c.js';

const models = new URL('../../shared/models/', import.meta.url).pathname;
const STEPS = 256;
const PROMPT = 'Once upon a time';
/** Timed generations per side (the median is reported), after as many untimed ones for Ein. */
const REPEATS = 9;

/** Positions a generation ran: `steps`, or fewer when a sampled BOS ended it (run.c's rule). */
const positionsOf = (tokens: readonly number[]) => Math.min(tokens.length, STEPS);

/** The median of some samples. */
function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[sorted.length >> 1]!;
}

/** A loaded model and one timed greedy generation on it (tokens/s), with its tokens. */
async function loadEin(threads: number, tokenizer: Llama2cTokenizer) {
  const start = performance.now();
  const checkpoint = await Llama2cCheckpoint.open(await openFileSource(`${models}stories260K.bin`));
  const model = await WasmLlamaModel.load(checkpoint, { threads });
  await checkpoint.close();
  const loadMs = performance.now() - start;
  let tokens: readonly number[] = [];
  const once = async () => {
    const sampler = new Sampler({ vocabSize: model.config.vocabSize, temperature: 0, topp: 0.9, seed: 0 });
    const t = performance.now();
    const result = await generate({
      tokenizer,
      sampler,
      steps: STEPS,
      seqLen: model.config.seqLen,
      prompt: PROMPT,
      forward: (token, pos) => model.forward(token, pos),
    });
    tokens = result.tokens;
    return positionsOf(tokens) / ((performance.now() - t) / 1000);
  };
  return { model, loadMs, once, tokens: () => tokens };
}

export async function benchLlama(): Promise<unknown> {
  if (!existsSync(`${models}stories260K.bin`)) {
    console.log(`skipped: no stories260K in ${models}`);
    return [];
  }
  const source = await openFileSource(`${models}tok512.bin`);
  const tokenizer = await Llama2cTokenizer.load(source, 512);
  await source.close();
  const promptTokens = tokenizer.encode(PROMPT, { bos: true, eos: false });
  const built = await buildLlama2cPeer();
  if ('skipped' in built) console.log(`C peer skipped: ${built.skipped}`);
  const binaries = 'skipped' in built ? undefined : built;
  const builds = binaries ? (Object.keys(binaries) as Llama2cBuild[]) : [];
  // Ein's generations and the C peer's (each the median of 3) alternate, so both see the same load
  // on a shared machine.
  const cSamples = new Map<Llama2cBuild, Llama2cResult[]>(builds.map((b) => [b, []]));
  const ein = [];
  for (const threads of [1, 2]) {
    const { model, loadMs, once, tokens } = await loadEin(threads, tokenizer);
    try {
      // Warm-up lets V8 tier the kernels up from Liftoff to TurboFan.
      for (let i = 0; i < REPEATS; i++) await once();
      const samples = [];
      for (let i = 0; i < REPEATS; i++) {
        samples.push(await once());
        for (const b of builds)
          cSamples
            .get(b)!
            .push(await runLlama2cPeer(binaries![b], `${models}stories260K.bin`, STEPS, 3, promptTokens));
      }
      const memory = model.memoryReport();
      ein.push({
        threads,
        tokensPerSecond: median(samples),
        tokens: tokens(),
        loadMs,
        memory,
        timings: model.model.timings,
      });
    } finally {
      await model.close();
    }
  }
  const peer: Partial<Record<Llama2cBuild, { tokensPerSecond: number; tokens: readonly number[] }>> = {};
  for (const [b, samples] of cSamples) {
    peer[b] = { tokensPerSecond: median(samples.map((x) => x.tokensPerSecond)), tokens: samples[0]!.tokens };
    console.log(
      `C peer (llama2.c make ${b}: ${LLAMA2C_BUILDS[b].join(' ')}): ${peer[b]!.tokensPerSecond.toFixed(0)} tokens/s`,
    );
  }
  const rows = [];
  for (const { threads, tokensPerSecond, tokens, loadMs, memory, timings: t } of ein) {
    const ratio = (c: { tokensPerSecond: number } | undefined) =>
      c ? +(tokensPerSecond / c.tokensPerSecond).toFixed(2) : null;
    const row = {
      threads,
      tokensPerSecond: Math.round(tokensPerSecond),
      cTokensPerSecond: peer.run ? Math.round(peer.run.tokensPerSecond) : null,
      cFastTokensPerSecond: peer.runfast ? Math.round(peer.runfast.tokensPerSecond) : null,
      ratioToC: ratio(peer.run),
      ratioToCFast: ratio(peer.runfast),
      // The same greedy ids prove the same work (and the same model) on both sides.
      sameTokensAsC: peer.run ? peer.run.tokens.join() === tokens.join() : null,
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
  }
  return rows;
}
