// `ein generate`: text from a llama2.c checkpoint whose forward pass is examples/llama.ein, like
// llama2.c's `run model.bin -z tokenizer.bin -t T -p P -s SEED -n STEPS -i PROMPT`. stdout gets only
// the text as run.c prints it (prompt included, then a newline); stderr gets speed and memory.
import { InvalidArgumentError } from 'commander';
import { EinError } from '../../frontend/diagnostics.js';
import { EinRuntimeError } from '../../runtime/errors.js';
import { generate } from '../../runtime/generate-text.js';
import { Llama2cCheckpoint } from '../../runtime/llama2c.js';
import { LlamaModel } from '../../runtime/llama-runner.js';
import { describeMemory } from '../../runtime/model-memory.js';
import { openFileSource } from '../../runtime/node-file-io.js';
import { Sampler } from '../../runtime/sampler.js';
import { Llama2cTokenizer } from '../../runtime/tokenizer.js';
import type { CliIO } from '../io.js';
import { defaultThreads, persistentModelTargets, runners } from '../targets.js';
import { WasmLlamaModel } from '../../runtime/wasm-model-llama.js';
import { WgslLlamaModel } from '../../runtime/wgsl-model-llama.js';

export interface GenerateOptions {
  readonly model: string;
  readonly tokenizer: string;
  readonly prompt: string;
  readonly steps: number;
  readonly temperature: number;
  readonly topP: number;
  readonly seed?: number;
  readonly target: string;
  readonly maxMemory?: number;
}

/** A finite number option (temperature, top-p). */
export function parseNumberOption(text: string): number {
  const v = Number(text);
  if (text.trim() === '' || !Number.isFinite(v)) throw new InvalidArgumentError(`'${text}' is not a number`);
  return v;
}

export async function generateCommand(opts: GenerateOptions, io: CliIO): Promise<number> {
  try {
    return await generateText(opts, io);
  } catch (e) {
    // Bad files and options from the runtime are user errors: a message, no stack trace.
    if (e instanceof EinRuntimeError) throw new EinError({ message: e.message });
    throw e;
  }
}

async function generateText(opts: GenerateOptions, io: CliIO): Promise<number> {
  const runner = runners[opts.target];
  if (!runner)
    throw new EinError({
      message: `unknown target '${opts.target}'`,
      hint: `targets: ${Object.keys(runners).join(', ')}`,
    });
  if (opts.steps < 0) throw new EinError({ message: `--steps ${opts.steps}: must be 0 or more` });
  if (opts.temperature < 0)
    throw new EinError({ message: `--temperature ${opts.temperature}: must be 0 (greedy) or more` });
  if (opts.topP < 0 || opts.topP > 1)
    throw new EinError({ message: `--top-p ${opts.topP}: must be between 0 and 1` });

  const modelSource = await openFileSource(opts.model);
  let model: LlamaModel | WasmLlamaModel | WgslLlamaModel;
  try {
    const checkpoint = await Llama2cCheckpoint.open(modelSource);
    const maxMemoryBytes = opts.maxMemory;
    // wasm and wgsl: one persistent program for all kernels, weights and the KV cache resident in
    // WebAssembly memory (wasm-model-llama.ts) or GPU buffers (wgsl-model-llama.ts); the other
    // targets run each kernel call on its own.
    model = !persistentModelTargets.has(opts.target)
      ? await LlamaModel.load(checkpoint, { runner, maxMemoryBytes })
      : opts.target === 'wgsl'
        ? await WgslLlamaModel.load(checkpoint, { maxMemoryBytes })
        : await WasmLlamaModel.load(checkpoint, { threads: defaultThreads(), maxMemoryBytes });
  } finally {
    await modelSource.close();
  }
  try {
    return await generateWith(model, opts, io);
  } finally {
    if (!(model instanceof LlamaModel)) await model.close();
  }
}

async function generateWith(
  model: LlamaModel | WasmLlamaModel | WgslLlamaModel,
  opts: GenerateOptions,
  io: CliIO,
): Promise<number> {
  const tokenizerSource = await openFileSource(opts.tokenizer);
  let tokenizer: Llama2cTokenizer;
  try {
    tokenizer = await Llama2cTokenizer.load(tokenizerSource, model.config.vocabSize);
  } finally {
    await tokenizerSource.close();
  }
  const sampler = new Sampler({
    vocabSize: model.config.vocabSize,
    temperature: opts.temperature,
    topp: opts.topP,
    seed: opts.seed ?? 0,
  });

  let positions = 0;
  const start = performance.now();
  const result = await generate({
    tokenizer,
    sampler,
    steps: opts.steps,
    seqLen: model.config.seqLen,
    prompt: opts.prompt,
    forward: (token, pos) => {
      positions++;
      return model.forward(token, pos);
    },
  });
  const seconds = (performance.now() - start) / 1000;
  // run.c prints the pieces as they come and a newline at the end; CliIO writes whole lines.
  io.out(result.text + '\n');
  io.err(
    `achieved tok/s: ${(positions / seconds).toFixed(2)} (${positions} positions in ${seconds.toFixed(2)} s, target ${opts.target})`,
  );
  io.err(
    model instanceof LlamaModel
      ? describeMemory(model.memoryPrediction, model.memory)
      : model.describeMemory(),
  );
  return 0;
}
