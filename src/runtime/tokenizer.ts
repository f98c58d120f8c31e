import type { ByteSource } from './byte-source.js';
import { EinRuntimeError } from './errors.js';

// llama2.c's tokenizer (run.c: build_tokenizer, encode, decode, safe_printf), reproduced byte for
// byte. Token strings are C strings there, so every piece is kept as its bytes up to the first NUL.

export const bosToken = 1;
export const eosToken = 2;
// run.c encode: "+3 is here because the first 3 vocab elements are <unk>, <s>, </s>".
const byteFallbackOffset = 3;

const utf8Encoder = new TextEncoder();

export class Llama2cTokenizer {
  /** run.c keys its sorted vocabulary by C string; a Map over the bytes (as latin1) finds the same ids. */
  private readonly idsByPiece = new Map<string, number>();

  private constructor(
    readonly pieces: readonly Uint8Array[],
    readonly scores: Float32Array,
    readonly maxTokenLength: number,
  ) {
    // Duplicate pieces would make run.c's bsearch pick an arbitrary one; keep the first id.
    pieces.forEach((piece, id) => {
      const key = latin1(piece);
      if (!this.idsByPiece.has(key)) this.idsByPiece.set(key, id);
    });
  }

  get vocabSize(): number {
    return this.pieces.length;
  }

  /**
   * Parses a `tokenizer.bin` (int32 max_token_length, then per token: float32 score, int32 length,
   * bytes). run.c reads exactly the model's vocab_size entries; given `vocabSize`, so do we, and a
   * file of any other length is rejected. Without it, the entries run to the end of the file.
   */
  static parse(bytes: Uint8Array, sourceName: string, vocabSize?: number): Llama2cTokenizer {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const fail = (detail: string) =>
      new EinRuntimeError(`${sourceName}: not a llama2.c tokenizer: ${detail}`);
    if (bytes.length < 4) throw fail(`${bytes.length} bytes, too short for the max_token_length header`);
    const maxTokenLength = view.getInt32(0, true);
    if (maxTokenLength <= 0) throw fail(`max_token_length is ${maxTokenLength}`);
    const pieces: Uint8Array[] = [];
    const scores: number[] = [];
    let offset = 4;
    while (vocabSize === undefined ? offset < bytes.length : pieces.length < vocabSize) {
      const id = pieces.length;
      if (offset + 8 > bytes.length) {
        throw fail(
          `truncated at token ${id}: needs an 8-byte score and length at offset ${offset}, file has ${bytes.length} bytes`,
        );
      }
      const length = view.getInt32(offset + 4, true);
      if (length < 0 || length > maxTokenLength) {
        throw fail(`token ${id} has length ${length}, expected 0..${maxTokenLength} (max_token_length)`);
      }
      if (offset + 8 + length > bytes.length) {
        throw fail(
          `truncated at token ${id}: needs ${length} bytes at offset ${offset + 8}, file has ${bytes.length} bytes`,
        );
      }
      scores.push(view.getFloat32(offset, true));
      pieces.push(cString(bytes.slice(offset + 8, offset + 8 + length)));
      offset += 8 + length;
    }
    if (offset !== bytes.length) {
      throw fail(
        `${bytes.length - offset} bytes left after the ${vocabSize} tokens of the model's vocab_size`,
      );
    }
    if (pieces.length <= byteFallbackOffset + 255) {
      throw fail(`${pieces.length} tokens, too few for <unk>, <s>, </s> and the 256 byte tokens`);
    }
    return new Llama2cTokenizer(pieces, new Float32Array(scores), maxTokenLength);
  }

  static async load(source: ByteSource, vocabSize?: number): Promise<Llama2cTokenizer> {
    const bytes = new Uint8Array(source.size);
    await source.readInto(0, bytes);
    return Llama2cTokenizer.parse(bytes, source.name, vocabSize);
  }

  /** run.c encode(): dummy prefix, codepoint lookup with byte fallback, then greedy best-score merges. */
  encode(text: string, options: { bos?: boolean; eos?: boolean } = {}): number[] {
    const { bos = true, eos = false } = options;
    // run.c receives a C string: it ends at the first NUL.
    const bytes = cString(utf8Encoder.encode(text));
    const tokens: number[] = [];
    if (bos) tokens.push(bosToken);
    // add_dummy_prefix, "but only if text != """.
    if (bytes.length > 0) tokens.push(this.requireId(' ', 'the dummy prefix'));

    let codepoint: number[] = [];
    for (let i = 0; i < bytes.length; i++) {
      // A byte that is not a UTF-8 continuation (10xxxxxx) starts a new codepoint.
      if ((bytes[i] & 0xc0) !== 0x80) codepoint = [];
      codepoint.push(bytes[i]);
      // Keep gathering continuation bytes, but at most 4 bytes (run.c's buffer guard); the C string's
      // terminating NUL is not a continuation byte.
      const next = i + 1 < bytes.length ? bytes[i + 1] : 0;
      if ((next & 0xc0) === 0x80 && codepoint.length < 4) continue;
      const id = this.idsByPiece.get(String.fromCharCode(...codepoint));
      if (id !== undefined) tokens.push(id);
      else for (const byte of codepoint) tokens.push(byte + byteFallbackOffset);
      codepoint = [];
    }

    for (;;) {
      // Merge the adjacent pair whose concatenation is the best-scoring piece; the first wins ties
      // (run.c compares with a strict >, starting from -1e10). BOS takes part too, as in run.c.
      let bestScore = -1e10;
      let bestId = -1;
      let bestIndex = -1;
      for (let i = 0; i + 1 < tokens.length; i++) {
        const id = this.idsByPiece.get(latin1(this.pieces[tokens[i]]) + latin1(this.pieces[tokens[i + 1]]));
        if (id !== undefined && this.scores[id] > bestScore) {
          bestScore = this.scores[id];
          bestId = id;
          bestIndex = i;
        }
      }
      if (bestIndex === -1) break;
      tokens.splice(bestIndex, 2, bestId);
    }
    if (eos) tokens.push(eosToken);
    return tokens;
  }

  /**
   * run.c decode(): the bytes of `token`'s piece, without the leading space if it follows BOS
   * (sentencepiece strips it), and byte tokens like `<0x0A>` turned into that raw byte.
   */
  decodePiece(previousToken: number, token: number): Uint8Array {
    let piece = this.piece(token);
    if (previousToken === bosToken && piece[0] === 0x20) piece = piece.subarray(1);
    const byte = scanByteToken(piece);
    // run.c returns byte_pieces + 2 * byte: a one-byte C string, empty for byte 0.
    return byte === undefined ? piece : cString(Uint8Array.of(byte));
  }

  /** Decodes a token sequence that starts with BOS (as `encode` makes it) back to text. */
  decode(tokens: readonly number[]): string {
    const chunks: Uint8Array[] = [];
    for (let i = 1; i < tokens.length; i++) chunks.push(this.decodePiece(tokens[i - 1], tokens[i]));
    return new TextDecoder().decode(concatBytes(chunks));
  }

  piece(token: number): Uint8Array {
    if (!Number.isInteger(token) || token < 0 || token >= this.pieces.length) {
      throw new EinRuntimeError(`token id ${token} is outside the vocabulary (0..${this.pieces.length - 1})`);
    }
    return this.pieces[token];
  }

  private requireId(piece: string, role: string): number {
    const id = this.idsByPiece.get(piece);
    if (id === undefined)
      throw new EinRuntimeError(`the tokenizer has no token ${JSON.stringify(piece)} for ${role}`);
    return id;
  }
}

/**
 * run.c safe_printf(): what it writes for a decoded piece. Empty pieces print nothing, and a
 * single byte prints only if C's isprint or isspace accept it (C locale: 0x20..0x7E, \t \n \v \f \r),
 * so control bytes and lone bytes >= 0x80 from byte fallback are dropped.
 */
export function printablePiece(piece: Uint8Array): Uint8Array {
  if (piece.length === 1 && !isPrintOrSpace(piece[0])) return piece.subarray(0, 0);
  return piece;
}

function isPrintOrSpace(byte: number): boolean {
  return (byte >= 0x20 && byte <= 0x7e) || (byte >= 0x09 && byte <= 0x0d);
}

/**
 * Emulates run.c's `sscanf(piece, "<0x%02hhX>", &byte_val) == 1`: the literal "<0x", then %X's
 * optional whitespace and sign and at most 2 characters of hex, cast to unsigned char. The closing
 * '>' is never checked, since sscanf has already counted its one conversion.
 */
function scanByteToken(piece: Uint8Array): number | undefined {
  if (piece[0] !== 0x3c || piece[1] !== 0x30 || piece[2] !== 0x78) return undefined;
  let i = 3;
  while (i < piece.length && isCSpace(piece[i])) i++;
  const end = i + 2;
  let sign = 1;
  if (piece[i] === 0x2b || piece[i] === 0x2d) sign = piece[i++] === 0x2d ? -1 : 1;
  let value = 0;
  let digits = 0;
  for (; i < end && i < piece.length; i++, digits++) {
    const digit = hexDigit(piece[i]);
    if (digit === undefined) break;
    value = value * 16 + digit;
  }
  return digits === 0 ? undefined : (sign * value) & 0xff;
}

function isCSpace(byte: number): boolean {
  return byte === 0x20 || (byte >= 0x09 && byte <= 0x0d);
}

function hexDigit(byte: number): number | undefined {
  if (byte >= 0x30 && byte <= 0x39) return byte - 0x30;
  if (byte >= 0x41 && byte <= 0x46) return byte - 0x41 + 10;
  if (byte >= 0x61 && byte <= 0x66) return byte - 0x61 + 10;
  return undefined;
}

function cString(bytes: Uint8Array): Uint8Array {
  const nul = bytes.indexOf(0);
  return nul === -1 ? bytes : bytes.subarray(0, nul);
}

function latin1(bytes: Uint8Array): string {
  return String.fromCharCode(...bytes);
}

function concatBytes(chunks: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((sum, chunk) => sum + chunk.length, 0));
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}
