import { EinRuntimeError } from './errors.js';
import { bosToken, printablePiece, type Llama2cTokenizer } from './tokenizer.js';

// run.c generate(): feed the prompt's tokens (forced), then sampled ones, printing each decoded piece,
// until `steps` positions are done or BOS is produced. How the logits are computed is the caller's.

export type ForwardFunction = (token: number, pos: number) => Float32Array | Promise<Float32Array>;

export interface GenerateOptions {
  tokenizer: Llama2cTokenizer;
  sampler: { sample(logits: Float32Array): number };
  /** Positions to run, prompt included (run.c's -n); negative counts as 0. */
  steps: number;
  /** run.c main: with seqLen given, steps of 0 or more than seqLen become seqLen. */
  seqLen?: number;
  prompt?: string;
  forward: ForwardFunction;
  /** Receives the text as run.c's safe_printf would write it, piece by piece. */
  onText?: (text: string) => void;
}

export interface GenerateResult {
  /** BOS, the prompt's tokens and the generated ones, as fed or produced (a final BOS excluded). */
  readonly tokens: readonly number[];
  readonly promptTokenCount: number;
  /** Everything passed to onText (run.c's final newline is left to the caller). */
  readonly text: string;
}

export async function generate(options: GenerateOptions): Promise<GenerateResult> {
  const { tokenizer, sampler, forward, onText, prompt = '', seqLen } = options;
  if (!Number.isInteger(options.steps)) {
    throw new EinRuntimeError(`generate: steps must be an integer, got ${options.steps}`);
  }
  // run.c main: "if (steps < 0) steps = 0;" and, knowing seq_len, "if (steps == 0 || steps > seq_len)
  // steps = seq_len;".
  const requested = Math.max(options.steps, 0);
  const steps = seqLen !== undefined && (requested === 0 || requested > seqLen) ? seqLen : requested;
  const promptTokens = tokenizer.encode(prompt, { bos: true, eos: false });

  // Pieces are bytes; a streaming decoder joins a UTF-8 character split across pieces.
  const utf8 = new TextDecoder();
  let text = '';
  const emit = (chunk: string) => {
    if (chunk === '') return;
    text += chunk;
    onText?.(chunk);
  };

  const tokens = [promptTokens[0]];
  let token = promptTokens[0];
  for (let pos = 0; pos < steps;) {
    const logits = await forward(token, pos);
    // While inside the prompt, force its next token; afterwards sample.
    const next = pos < promptTokens.length - 1 ? promptTokens[pos + 1] : sampler.sample(logits);
    pos++;
    // The BOS token delimits sequences: a sampled BOS ends generation.
    if (next === bosToken) break;
    emit(utf8.decode(printablePiece(tokenizer.decodePiece(token, next)), { stream: true }));
    tokens.push(next);
    token = next;
  }
  emit(utf8.decode());
  return { tokens, promptTokenCount: promptTokens.length, text };
}
