import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { memoryByteSource } from '../../src/runtime/byte-source.js';
import { EinRuntimeError } from '../../src/runtime/errors.js';
import { Llama2cTokenizer, printablePiece } from '../../src/runtime/tokenizer.js';
import { buildTokenizerFile, llamaStyleVocab } from './fixtures.js';
import { haveStoriesModel, missingModelMessage, storiesTokenizerPath } from './model-files.js';

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

describe('llama2.c tokenizer on a synthetic vocabulary', () => {
  const vocab = llamaStyleVocab([
    { piece: ' ', score: -1 },
    { piece: 'a', score: -1 },
    { piece: 'b', score: -1 },
    { piece: 'é', score: -1 },
    { piece: ' a', score: -2 },
    { piece: 'ab', score: -3 },
    { piece: ' ab', score: -0.5 },
  ]);
  const tokenizer = Llama2cTokenizer.parse(buildTokenizerFile(vocab), 'synthetic.bin');
  const id = (piece: string) => vocab.findIndex((token) => token.piece === piece);

  it('encodes with BOS, the dummy prefix and best-score merges', () => {
    // " ab" needs " a" (score -2) and "ab" (-3) first; " a" wins, then " a"+"b" → " ab".
    expect(tokenizer.encode('ab')).toEqual([1, id(' ab')]);
    expect(tokenizer.encode('ab', { bos: false, eos: true })).toEqual([id(' ab'), 2]);
    expect(tokenizer.encode('')).toEqual([1]);
  });

  it('falls back to byte tokens (+3) for unknown codepoints and keeps known multi-byte ones', () => {
    expect(tokenizer.encode('é')).toEqual([1, id(' '), id('é')]);
    // ö is 0xC3 0xB6: unknown, so two byte tokens.
    expect(tokenizer.encode('ö')).toEqual([1, id(' '), 0xc3 + 3, 0xb6 + 3]);
    expect(tokenizer.encode('a\nb')).toEqual([1, id(' a'), 0x0a + 3, id('b')]);
  });

  it('decodes pieces like run.c: space stripped after BOS, byte tokens become raw bytes', () => {
    expect(text(tokenizer.decodePiece(1, id(' ab')))).toBe('ab');
    expect(text(tokenizer.decodePiece(id('a'), id(' ab')))).toBe(' ab');
    expect(tokenizer.decodePiece(5, 0x0a + 3)).toEqual(Uint8Array.of(0x0a));
    expect(tokenizer.decodePiece(5, 0xc3 + 3)).toEqual(Uint8Array.of(0xc3));
    expect(tokenizer.decodePiece(5, 3)).toEqual(new Uint8Array(0)); // <0x00> is an empty C string
    expect(tokenizer.decode(tokenizer.encode('ab ö\n'))).toBe('ab ö\n');
  });

  it("filters single unprintable bytes like run.c's safe_printf", () => {
    expect(printablePiece(Uint8Array.of(0x0a))).toEqual(Uint8Array.of(0x0a));
    expect(printablePiece(Uint8Array.of(0x41))).toEqual(Uint8Array.of(0x41));
    expect(printablePiece(Uint8Array.of(0x07)).length).toBe(0);
    expect(printablePiece(Uint8Array.of(0xc3)).length).toBe(0);
    expect(printablePiece(Uint8Array.of(0xc3, 0xa9))).toEqual(Uint8Array.of(0xc3, 0xa9));
  });

  it('rejects truncated files and vocabulary size mismatches with clear messages', () => {
    const file = buildTokenizerFile(vocab);
    expect(() => Llama2cTokenizer.parse(file.subarray(0, file.length - 2), 'tok.bin')).toThrow(
      /tok\.bin: not a llama2.c tokenizer: truncated at token 265/,
    );
    expect(() => Llama2cTokenizer.parse(file, 'tok.bin', vocab.length + 1)).toThrow(/truncated at token 266/);
    expect(() => Llama2cTokenizer.parse(file, 'tok.bin', vocab.length - 1)).toThrow(
      /bytes left after the 265 tokens of the model's vocab_size/,
    );
    expect(() => Llama2cTokenizer.parse(Uint8Array.of(1), 'tok.bin')).toThrow(EinRuntimeError);
    expect(() => tokenizer.decodePiece(1, vocab.length)).toThrow(/token id 266 is outside the vocabulary/);
  });
});

describe.skipIf(!haveStoriesModel)('llama2.c tokenizer on tok512.bin', () => {
  if (!haveStoriesModel) console.warn(missingModelMessage);
  const load = () => Llama2cTokenizer.parse(readFileSync(storiesTokenizerPath), storiesTokenizerPath, 512);

  it('encodes exactly as llama2.c run.c does', async () => {
    const tokenizer = await Llama2cTokenizer.load(
      memoryByteSource(readFileSync(storiesTokenizerPath), 'tok512'),
      512,
    );
    // Token ids printed by llama2.c's encode() for the same strings.
    expect(tokenizer.encode('Once upon a time')).toEqual([1, 403, 407, 261, 378]);
    expect(tokenizer.encode('Hello, world!\nNew line')).toEqual([
      1, 346, 306, 414, 432, 263, 304, 341, 443, 13, 458, 411, 424, 278, 271, 411,
    ]);
    expect(tokenizer.encode('café 日本 🎉')).toEqual([
      1, 280, 412, 431, 485, 410, 233, 154, 168, 233, 159, 175, 410, 243, 162, 145, 140,
    ]);
    expect(tokenizer.encode('<0x41>')).toEqual([1, 410, 504, 477, 444, 484, 475, 505]);
  });

  it('round-trips varied text, UTF-8 and newlines included', () => {
    const tokenizer = load();
    const samples = [
      'Once upon a time',
      '',
      ' leading and  double  spaces ',
      'line1\nline2\n\n',
      'tabs\tand\rreturns',
      'héllo wörld – “quotes”',
      '日本語のテキスト',
      'emoji 🎉🐱‍👤 end',
      'Ünïcödé ñ ç ß ø å',
    ];
    for (const sample of samples) expect(tokenizer.decode(tokenizer.encode(sample))).toBe(sample);
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 40 }), (sample) => {
        fc.pre(!sample.includes('\0'));
        expect(tokenizer.decode(tokenizer.encode(sample))).toBe(sample);
      }),
      { numRuns: 300 },
    );
  });
});
