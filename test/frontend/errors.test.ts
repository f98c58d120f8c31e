// One test per user error the front-end, the binder, the interpreter and the .npy reader produce: the
// message, the line and column it points at, and the rendered form `FILE:LINE:COL: error: MESSAGE`
// with the source line and a caret under the spot.
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { decodeNpy, encodeNpy } from '../../src/cli/npy.js';
import { EinError } from '../../src/frontend/diagnostics.js';
import { checkFile, checkSource } from '../../src/frontend/index.js';
import { bindKernel } from '../../src/ir/bind.js';
import { interpret } from '../../src/ir/interpreter.js';
import type { Tensor } from '../../src/ir/tensor.js';

const FILE = 'test.ein';

interface Case {
  /** What the test is about. */
  readonly name: string;
  readonly src: string;
  readonly message: string;
  readonly line: number;
  readonly col: number;
  /** Text the caret line underlines, when worth checking. */
  readonly underlines?: string;
  readonly hint?: string;
}

/** Source from lines, so that line numbers in the cases are easy to read. */
const src = (...lines: string[]) => lines.join('\n') + '\n';

function caught(f: () => unknown): EinError {
  try {
    f();
  } catch (e) {
    if (e instanceof EinError) return e;
    throw new Error(`expected an EinError, got ${e instanceof Error ? e.stack : String(e)}`);
  }
  throw new Error('expected an EinError, but nothing was thrown');
}

/** The error's message, place, and its rendering: header, source line, caret (and hint). */
function expectPlaced(e: EinError, c: Omit<Case, 'src' | 'name'>, source: string, file = FILE): void {
  expect(e.message).toContain(c.message);
  expect({ line: e.line, col: e.col }).toEqual({ line: c.line, col: c.col });
  const text = e.format();
  const lines = text.split('\n');
  expect(lines[0]).toMatch(new RegExp(`^${escape(file)}:${c.line}:${c.col}: error: `));
  expect(lines[0]).toContain(c.message);
  const sourceLine = source.split('\n')[c.line - 1]!;
  expect(lines[1]).toBe(` ${c.line} | ${sourceLine}`);
  const gutter = ' '.repeat(String(c.line).length);
  const caret = new RegExp(`^ ${gutter} \\| ${' '.repeat(c.col - 1)}\\^+$`);
  expect(lines[2]).toMatch(caret);
  if (c.underlines !== undefined) {
    const width = lines[2]!.length - lines[2]!.indexOf('^');
    expect(sourceLine.slice(c.col - 1, c.col - 1 + width)).toBe(c.underlines);
  }
  if (c.hint !== undefined) expect(text).toContain(`  hint: ${c.hint}`);
  expect(text).not.toMatch(/\n\s+at /); // never a stack trace
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function checkCases(cases: readonly Case[]): void {
  test.each(cases.map((c) => [c.name, c] as const))('%s', (_, c) => {
    const e = caught(() => checkSource(c.src, FILE));
    expectPlaced(e, c, c.src);
  });
}

describe('lexical and syntax errors', () => {
  checkCases([
    {
      name: 'a character that is not part of the language',
      src: src('kernel f(A: f32[N]) -> B {', '  B[i] = A[i] $ 2', '}'),
      message: 'unexpected character "$"',
      line: 2,
      col: 15,
      hint: 'Ein uses # for comments; names are letters, digits and _',
    },
    {
      name: 'an unclosed subscript list',
      src: src('kernel f(A: f32[N]) -> B {', '  B[i = A[i]', '}'),
      message: "expected ']' but found '='",
      line: 2,
      col: 7,
    },
    {
      name: 'a statement without =',
      src: src('kernel f(A: f32[N]) -> B {', '  B[i] A[i]', '}'),
      message: "expected '=' but found 'A'",
      line: 2,
      col: 8,
    },
    {
      name: 'a kernel without ->',
      src: src('kernel f(A: f32[N]) B {', '  B[i] = A[i]', '}'),
      message: "expected '->' but found 'B'",
      line: 1,
      col: 21,
      hint: 'a kernel declares its outputs: kernel f(A: f32[N]) -> B { ... }',
    },
    {
      name: 'a kernel without a name',
      src: src('kernel (A: f32[N]) -> B {', '  B[i] = A[i]', '}'),
      message: "expected a name but found '('",
      line: 1,
      col: 8,
    },
    {
      name: 'a file that ends inside a kernel (points at the last token)',
      src: src('kernel f(A: f32[N]) -> B {', '  B[i] = A[i] * 2'),
      message: "expected '}' but found the end of the file",
      line: 2,
      col: 17,
    },
    {
      name: 'an unclosed parenthesis',
      src: src('kernel f(A: f32[N]) -> B {', '  B[i] = (A[i] + 1', '}'),
      message: "expected ')' but found '}'",
      line: 3,
      col: 1,
    },
    {
      name: 'an operator with no right operand',
      src: src('kernel f(A: f32[N]) -> B {', '  B[i] = A[i] +', '}'),
      message: "expected an expression but found '}'",
      line: 3,
      col: 1,
    },
    {
      name: 'an empty right side',
      src: src('kernel f(A: f32[N]) -> B {', '  B[i] = A[i] * )', '}'),
      message: "expected an expression but found ')'",
      line: 2,
      col: 17,
    },
    {
      name: 'a statement that does not start with a name',
      src: src('kernel f(A: f32[N]) -> B {', '  = A[i]', '}'),
      message: "expected '}' but found '='",
      line: 2,
      col: 3,
      hint: 'a kernel body holds statements `T[i] = expr` and `rank R = n`, one per line',
    },
    {
      name: 'something that is not a declaration at the top level',
      src: src('kernel f(A: f32[N]) -> B {', '  B[i] = A[i]', '}', 'foo'),
      message: "unexpected 'foo'",
      line: 4,
      col: 1,
      hint: 'a program is a list of `rank`, `kernel` and `schedule` declarations',
    },
    {
      name: 'a stray closing brace',
      src: src('kernel f(A: f32[N]) -> B {', '  B[i] = A[i]', '}', '}'),
      message: "unexpected '}'",
      line: 4,
      col: 1,
    },
    {
      name: 'two statements on one line',
      src: src('kernel f(A: f32[N]) -> B {', '  B[i] = 1 2', '}'),
      message: "unexpected '2' after the end of the statement",
      line: 2,
      col: 12,
      hint: 'put each statement on its own line',
    },
    {
      name: 'a missing operator after a tensor element',
      src: src('kernel f(A: f32[N]) -> B {', '  B[i] = A[i] 2', '}'),
      message: "expected an operator after A[...] but found '2'",
      line: 2,
      col: 15,
    },
    {
      name: 'chained comparisons',
      src: src('kernel f(A: f32[N]) -> B {', '  B[i] = A[i] < 1 < 2', '}'),
      message: 'comparisons do not chain',
      line: 2,
      col: 19,
    },
    {
      name: '=> for >=',
      src: src('kernel f(A: f32[N]) -> B {', '  B[i] = A[i] => 0', '}'),
      message: "'=>' is not an operator",
      line: 2,
      col: 15,
      underlines: '=>',
      hint: 'write >= for greater-or-equal',
    },
    {
      name: 'an unknown reduction',
      src: src('kernel f(A: f32[N]) -> B {', '  B[] = avg[i] A[i]', '}'),
      message: "unknown reduction 'avg'",
      line: 2,
      col: 9,
      underlines: 'avg',
    },
    {
      name: 'a reduction over an expression',
      src: src('kernel f(A: f32[N, K]) -> B {', '  B[i] = sum[k + 1] A[i, k]', '}'),
      message: 'a reduction lists index names',
      line: 2,
      col: 14,
      underlines: 'k + 1',
    },
    {
      name: 'a reduction over nothing',
      src: src('kernel f(A: f32[N]) -> B {', '  B[] = sum[] A[i]', '}'),
      message: 'a reduction needs at least one index',
      line: 2,
      col: 9,
    },
    {
      name: 'an unknown schedule directive',
      src: src('kernel f(A: f32[N]) -> B {', '  B[i] = A[i]', '}', 'schedule f {', '  unroll i by 4', '}'),
      message: "unknown schedule directive 'unroll'",
      line: 5,
      col: 3,
      hint: 'use tile, fuse, chunk or scratchpad',
    },
    {
      name: 'tile without by',
      src: src('kernel f(A: f32[N]) -> B {', '  B[i] = A[i]', '}', 'schedule f {', '  tile i with 4', '}'),
      message: "expected 'by' but found 'with'",
      line: 5,
      col: 10,
    },
    {
      name: 'a tile size of zero',
      src: src('kernel f(A: f32[N]) -> B {', '  B[i] = A[i]', '}', 'schedule f {', '  chunk i by 0', '}'),
      message: 'expected a positive whole number',
      line: 5,
      col: 14,
    },
    {
      name: 'a fractional tile size',
      src: src('kernel f(A: f32[N]) -> B {', '  B[i] = A[i]', '}', 'schedule f { tile i by 1.5 }'),
      message: 'expected a positive whole number',
      line: 4,
      col: 24,
    },
    {
      name: 'an empty scratchpad',
      src: src('kernel f(A: f32[N]) -> B {', '  B[i] = A[i]', '}', 'schedule f {', '  scratchpad 0KiB', '}'),
      message: 'scratchpad size must be a positive whole number of bytes',
      line: 5,
      col: 14,
      underlines: '0KiB',
    },
  ]);
});

describe('names: unknown, misspelt, redefined', () => {
  checkCases([
    {
      name: 'an unknown tensor, with a suggestion',
      src: src('kernel f(A: f32[N]) -> B {', '  B[i] = A2[i]', '}'),
      message: "unknown tensor 'A2'",
      line: 2,
      col: 10,
      underlines: 'A2[i]',
      hint: 'did you mean A?',
    },
    {
      name: 'an unknown function, with a suggestion',
      src: src('kernel f(A: f32[N]) -> B {', '  B[i] = tanhh(A[i])', '}'),
      message: "unknown function 'tanhh'",
      line: 2,
      col: 10,
      hint: 'did you mean tanh?',
    },
    {
      name: 'an unknown kernel, indexed',
      src: src('kernel f(A: f32[N]) -> B {', '  B[i] = nope(A)[i]', '}'),
      message: "unknown function 'nope'",
      line: 2,
      col: 10,
    },
    {
      name: 'an unknown uppercase name',
      src: src('kernel f(A: f32[N]) -> B {', '  B[i] = A[i] * Q', '}'),
      message: "unknown name 'Q'",
      line: 2,
      col: 17,
    },
    {
      name: 'an unknown rank in a rank definition',
      src: src('rank R = Q + 1', 'kernel f(A: f32[N]) -> B {', '  B[i] = A[i] * R', '}'),
      message: "unknown rank 'Q'",
      line: 1,
      col: 10,
      hint: 'declare it: rank Q = ...',
    },
    {
      name: 'a lowercase rank',
      src: src('rank r = 3', 'kernel f(A: f32[N]) -> B {', '  B[i] = A[i]', '}'),
      message: 'rank names are UPPERCASE',
      line: 1,
      col: 6,
      hint: 'write rank R = ...',
    },
    {
      name: 'a lowercase size',
      src: src('kernel f(A: f32[n]) -> B {', '  B[i] = A[i]', '}'),
      message: "'n' cannot be a size: rank names are UPPERCASE",
      line: 1,
      col: 17,
    },
    {
      name: 'a rank defined twice',
      src: src('rank R = 3', 'rank R = 4', 'kernel f(A: f32[N]) -> B {', '  B[i] = A[i]', '}'),
      message: 'rank R is defined twice',
      line: 2,
      col: 6,
    },
    {
      name: 'a kernel redefining a top-level rank',
      src: src('rank R = 3', 'kernel f(A: f32[N]) -> B {', '  rank R = 4', '  B[i] = A[i] * R', '}'),
      message: 'rank R is defined twice',
      line: 3,
      col: 8,
    },
    {
      name: 'a default for a defined rank',
      src: src('rank R = 3', 'default rank R = 4', 'kernel f(A: f32[R]) -> B {', '  B[i] = A[i]', '}'),
      message: 'rank R is defined, so a default cannot change it',
      line: 2,
      col: 14,
    },
    {
      name: 'a default no kernel uses',
      src: src('default rank Q = 4', 'kernel f(A: f32[N]) -> B {', '  B[i] = A[i]', '}'),
      message: 'no kernel has a symbolic rank Q for this default to set',
      line: 1,
      col: 14,
    },
    {
      name: 'a default given twice',
      src: src(
        'default rank N = 4',
        'default rank N = 5',
        'kernel f(A: f32[N]) -> B {',
        '  B[i] = A[i]',
        '}',
      ),
      message: 'rank N is defined twice',
      line: 2,
      col: 14,
    },
    {
      name: 'a default inside a kernel',
      src: src('kernel f(A: f32[N]) -> B {', '  default rank N = 4', '  B[i] = A[i]', '}'),
      message: 'a default rank goes at the top level of the file',
      line: 2,
      col: 3,
    },
    {
      name: 'a rank defined twice in one kernel',
      src: src('kernel f(A: f32[N]) -> B {', '  rank K = 3', '  rank K = 4', '  B[i] = A[i] * K', '}'),
      message: 'rank K is defined twice',
      line: 3,
      col: 8,
    },
    {
      name: 'a kernel defined twice',
      src: src(
        'kernel f(A: f32[N]) -> B {',
        '  B[i] = A[i]',
        '}',
        'kernel f(A: f32[N]) -> B {',
        '  B[i] = A[i]',
        '}',
      ),
      message: 'kernel f is defined twice',
      line: 4,
      col: 8,
    },
    {
      name: 'a kernel named like a rank',
      src: src('rank R = 3', 'kernel R(A: f32[N]) -> B {', '  B[i] = A[i]', '}'),
      message: 'R is already a rank',
      line: 2,
      col: 8,
    },
    {
      name: 'a parameter named like a rank',
      src: src('rank R = 3', 'kernel f(R: f32[N]) -> B {', '  B[i] = R[i]', '}'),
      message: 'R is already a rank',
      line: 2,
      col: 10,
    },
    {
      name: 'a parameter declared twice',
      src: src('kernel f(A: f32[N], A: f32[N]) -> B {', '  B[i] = A[i]', '}'),
      message: 'A is declared twice',
      line: 1,
      col: 21,
    },
    {
      name: 'an output named like a parameter',
      src: src('kernel f(A: f32[N]) -> A {', '  A[i] = 1', '}'),
      message: 'A is declared twice',
      line: 1,
      col: 24,
    },
    {
      name: 'an output listed twice',
      src: src('kernel f(A: f32[N]) -> (B, B) {', '  B[i] = A[i]', '}'),
      message: 'B is declared twice',
      line: 1,
      col: 28,
    },
    {
      name: 'a tensor defined twice',
      src: src('kernel f(A: f32[N]) -> B {', '  B[i] = A[i]', '  B[i] = A[i] + 1', '}'),
      message: 'B is defined twice',
      line: 3,
      col: 3,
      underlines: 'B[i]',
    },
    {
      name: 'an input assigned',
      src: src('kernel f(A: f32[N]) -> B {', '  A[i] = 1', '  B[i] = A[i]', '}'),
      message: 'A is an input: it cannot be assigned',
      line: 2,
      col: 3,
    },
    {
      name: 'a rank assigned',
      src: src('kernel f(A: f32[N]) -> B {', '  rank K = 3', '  K[i] = A[i]', '  B[i] = A[i]', '}'),
      message: 'K is a rank, not a tensor',
      line: 3,
      col: 3,
    },
    {
      name: 'an output never defined',
      src: src('kernel f(A: f32[N]) -> (B, C) {', '  B[i] = A[i]', '}'),
      message: 'output C is never defined',
      line: 1,
      col: 28,
      hint: 'add a statement C[...] = ...',
    },
    {
      name: 'a schedule for an unknown kernel',
      src: src('kernel f(A: f32[N]) -> B {', '  B[i] = A[i]', '}', 'schedule g {', '  tile i by 4', '}'),
      message: "schedule for unknown kernel 'g'",
      line: 4,
      col: 10,
    },
    {
      name: 'an index tiled twice',
      src: src(
        'kernel f(A: f32[N]) -> B {',
        '  B[i] = A[i]',
        '}',
        'schedule f {',
        '  tile i by 4, i by 8',
        '}',
      ),
      message: 'index i is tiled twice',
      line: 5,
      col: 16,
    },
    {
      name: 'an index chunked twice',
      src: src(
        'kernel f(A: f32[N]) -> B {',
        '  B[i] = A[i]',
        '}',
        'schedule f { chunk i by 4; chunk i by 8 }',
      ),
      message: 'index i is chunked twice',
      line: 4,
      col: 28,
    },
    {
      name: 'a schedule naming an index the kernel does not have',
      src: src('kernel f(A: f32[N]) -> B {', '  B[i] = A[i]', '}', 'schedule f {', '  tile q by 4', '}'),
      message: 'index q does not appear in f',
      line: 5,
      col: 8,
      hint: 'indices of f: i',
    },
    {
      name: 'two schedules for one kernel',
      src: src(
        'kernel f(A: f32[N]) -> B {',
        '  B[i] = A[i]',
        '}',
        'schedule f { tile i by 4 }',
        'schedule f { chunk i by 8 }',
      ),
      message: 'kernel f has two schedules',
      line: 5,
      col: 10,
    },
    {
      name: 'fusing an input',
      src: src('kernel f(A: f32[N]) -> B {', '  B[i] = A[i]', '}', 'schedule f {', '  fuse A .. B', '}'),
      message: "fuse names tensors defined in f; 'A' is not one",
      line: 5,
      col: 3,
    },
  ]);
});

describe('types and sizes', () => {
  checkCases([
    {
      name: 'an unknown dtype',
      src: src('kernel f(A: f16[N]) -> B {', '  B[i] = A[i]', '}'),
      message: "unknown dtype 'f16'",
      line: 1,
      col: 13,
      underlines: 'f16[N]',
      hint: 'tensors are f32 or i32',
    },
    {
      name: 'an i32 output',
      src: src('kernel f(A: f32[N]) -> B: i32[N] {', '  B[i] = A[i]', '}'),
      message: 'outputs hold computed values, which are f32',
      line: 1,
      col: 27,
    },
    {
      name: 'a fractional rank',
      src: src('rank R = 2.5', 'kernel f(A: f32[N]) -> B {', '  B[i] = A[i]', '}'),
      message: 'a size must be a whole number',
      line: 1,
      col: 10,
    },
    {
      name: 'a comparison as a size',
      src: src('kernel f(A: f32[N < 2]) -> B {', '  B[i] = A[i]', '}'),
      message: 'a size is made of whole numbers, ranks and + - * /',
      line: 1,
      col: 17,
    },
    {
      name: 'an output declared with the wrong number of axes',
      src: src('kernel f(A: f32[N]) -> B: f32[N, N] {', '  B[i] = A[i]', '}'),
      message: 'B is declared with 2 axes but defined with 1',
      line: 2,
      col: 3,
    },
  ]);
});

describe('subscripts and indices', () => {
  checkCases([
    {
      name: 'too few subscripts',
      src: src('kernel f(A: f32[N, K]) -> B {', '  B[i] = A[i]', '}'),
      message: 'A has 2 axes but 1 subscript was given',
      line: 2,
      col: 10,
      hint: 'write A[i, j]',
    },
    {
      name: 'subscripts on a scalar',
      src: src('kernel f(A: f32[N], pos: i32) -> B {', '  B[i] = A[i] + pos[0]', '}'),
      message: 'pos has 0 axes but 1 subscript was given',
      line: 2,
      col: 17,
      hint: 'write pos without brackets',
    },
    {
      name: 'one index used for two different ranks',
      src: src('kernel f(A: f32[N], C: f32[M]) -> B {', '  B[i] = A[i] * C[i]', '}'),
      message: 'index i is used for two different ranks: N (A axis 0) and M (C axis 0)',
      line: 2,
      col: 17,
      underlines: 'C[i]',
      hint: 'use a different index name for each rank',
    },
    {
      name: 'an index bounded differently by a declared output',
      src: src('kernel f(A: f32[N]) -> B: f32[M] {', '  B[i] = A[i]', '}'),
      message: 'index i is used for two different ranks: M (B axis 0) and N (A axis 0)',
      line: 2,
      col: 10,
    },
    {
      name: 'a left-side index nothing bounds',
      src: src('kernel f(A: f32[N]) -> B {', '  B[i, j] = A[i]', '}'),
      message: 'left-side index j is not bounded by anything',
      line: 2,
      col: 3,
      underlines: 'B[i, j]',
    },
    {
      name: 'a right-side index nothing bounds',
      src: src('kernel f(A: f32[N]) -> B {', '  B[i] = A[i] * j', '}'),
      message: 'index j is not bounded by anything',
      line: 2,
      col: 3,
    },
    {
      name: 'an index only inside an affine subscript',
      src: src('kernel f(X: f32[L]) -> Y {', '  Y[t] = X[t + 1]', '}'),
      message: 'left-side index t is not bounded by anything',
      line: 2,
      col: 3,
      hint: "use t as a plain subscript of a tensor with a known shape, declare rank T = ..., or declare the output's shape",
    },
    {
      name: 'an uppercase left-side subscript',
      src: src('kernel f(A: f32[N]) -> B {', '  B[I] = A[I]', '}'),
      message: "'I' is not an index name: indices are lowercase",
      line: 2,
      col: 5,
    },
    {
      name: 'an index twice on the left side',
      src: src('kernel f(A: f32[N]) -> B {', '  B[i, i] = A[i]', '}'),
      message: 'index i appears twice on the left side',
      line: 2,
      col: 8,
    },
    {
      name: 'an expression on the left side',
      src: src('kernel f(A: f32[N]) -> B {', '  B[i * 2] = A[i]', '}'),
      message: 'left-side subscripts are index names',
      line: 2,
      col: 5,
      underlines: 'i * 2',
    },
    {
      name: 'a tensor name on the left side',
      src: src('kernel f(b: f32[N]) -> B {', '  B[b] = b[b]', '}'),
      message: "'b' is a tensor: left-side subscripts are index names",
      line: 2,
      col: 5,
    },
    {
      name: 'a fractional subscript',
      src: src('kernel f(A: f32[N]) -> B {', '  B[] = A[1.5]', '}'),
      message: 'a subscript must be a whole number, not 1.5',
      line: 2,
      col: 11,
    },
    {
      name: 'division in a subscript',
      src: src('kernel f(A: f32[N]) -> B {', '  B[i] = A[i / 2]', '}'),
      message: 'subscripts use + - * on indices, ranks, whole numbers and i32 tensors',
      line: 2,
      col: 12,
    },
    {
      name: 'a gather through an f32 tensor',
      src: src('kernel f(A: f32[N], I: f32[N]) -> B {', '  B[i] = A[I[i]]', '}'),
      message: 'I is f32: only i32 tensors can be read inside a subscript',
      line: 2,
      col: 12,
      hint: 'declare I as i32',
    },
  ]);
});

describe('reductions', () => {
  checkCases([
    {
      name: 'reducing over a rank',
      src: src('kernel f(A: f32[N, K]) -> B {', '  B[i] = sum[K] A[i, k]', '}'),
      message: "'K' cannot be reduced over: index names are lowercase",
      line: 2,
      col: 10,
    },
    {
      name: 'an outermost reduction over an index its body lacks',
      src: src('kernel f(A: f32[N, K]) -> B {', '  B[i] = sum[j] A[i, k]', '}'),
      message: 'sum[j] but j does not appear in what it reduces',
      line: 2,
      col: 10,
      underlines: 'sum[j] A[i, k]',
    },
    {
      name: 'an inner reduction over an index its body lacks',
      src: src('kernel f(A: f32[N, K]) -> B {', '  B[i] = (max[j] A[i, 0]) + 1', '}'),
      message: 'max[j] but j does not appear in what it reduces',
      line: 2,
      col: 10,
    },
    {
      name: 'reducing a left-side index',
      src: src('kernel f(A: f32[N, K]) -> B {', '  B[i] = 1 + sum[i] A[i, k]', '}'),
      message: 'i is on the left side, so it cannot be reduced by sum[i]',
      line: 2,
      col: 14,
    },
    {
      name: 'an index listed twice in a reduction',
      src: src('kernel f(A: f32[N, K]) -> B {', '  B[i] = 1 + sum[k, k] A[i, k]', '}'),
      message: 'an index is listed twice in sum[...]',
      line: 2,
      col: 14,
    },
    {
      name: 'a nested reduction reusing the enclosing reduction’s index',
      src: src('kernel f(A: f32[N, K]) -> B {', '  B[i] = max[k] (sum[k] A[i, k]) + A[i, k]', '}'),
      message: 'k is already reduced outside sum[k]',
      line: 2,
      col: 17,
      hint: 'a nested reduction needs an index of its own: sum[k2] ...',
    },
    {
      name: 'a nested reduction reusing an index the einsum rule sums',
      src: src('kernel f(A: f32[N, K]) -> B {', '  B[i] = A[i, k] * (sum[k] A[i, k])', '}'),
      message: 'k is already reduced outside sum[k]',
      line: 2,
      col: 20,
    },
  ]);
});

describe('iterative ranks', () => {
  checkCases([
    {
      name: 'a tensor reading itself',
      src: src('kernel f(A: f32[N]) -> B {', '  B[i] = B[i] + A[i]', '}'),
      message: 'B reads itself',
      line: 2,
      col: 10,
    },
    {
      name: 'an update without an initialisation',
      src: src(
        'kernel f(L: f32[M, P]) -> B {',
        '  R[m + 1, p] = max(R[m, p], L[m, p])',
        '  B[p] = R[M, p]',
        '}',
      ),
      message: 'iterative tensor R has no initial statement',
      line: 2,
      col: 3,
      hint: 'add R[0, ...] = (initial value)',
    },
    {
      name: 'an initialisation without an update',
      src: src('kernel f(L: f32[M, P]) -> B {', '  R[0, p] = 0', '  B[p] = R[0, p]', '}'),
      message: 'a constant left-side subscript only initialises an iterative tensor',
      line: 2,
      col: 3,
    },
    {
      name: 'an update reading the generation it defines',
      src: src(
        'kernel f(L: f32[M, P]) -> B {',
        '  R[0, p] = 0',
        '  R[m + 1, p] = R[m + 1, p] + L[m, p]',
        '  B[p] = R[M, p]',
        '}',
      ),
      message: 'an iterative update reads only the previous generation of R',
      line: 3,
      col: 17,
      hint: 'read R[..., m, ...]',
    },
    {
      name: 'init and update on different axes',
      src: src(
        'kernel f(L: f32[M, P]) -> B {',
        '  R[0, p] = 0',
        '  R[p, m + 1] = R[p, m] + L[m, p]',
        '  B[p] = R[0, p]',
        '}',
      ),
      message: 'the init and the update of R must use the same axis for generations',
      line: 3,
      col: 3,
    },
    {
      name: 'two generation axes',
      src: src(
        'kernel f(L: f32[M, P]) -> B {',
        '  R[0, 0] = 0',
        '  R[m + 1, p] = R[m, p] + L[m, p]',
        '  B[p] = R[M, p]',
        '}',
      ),
      message: 'only one axis of R can hold generations',
      line: 2,
      col: 8,
    },
    {
      name: 'a step other than + 1',
      src: src(
        'kernel f(L: f32[M, P]) -> B {',
        '  R[0, p] = 0',
        '  R[m + 2, p] = R[m, p] + L[m, p]',
        '  B[p] = R[M, p]',
        '}',
      ),
      message: 'left-side subscripts are index names',
      line: 3,
      col: 5,
      hint: 'write T[i, j] = ...; an iterative rank uses T[i + 1, ...] and T[0, ...]',
    },
  ]);
});

describe('dependencies', () => {
  checkCases([
    {
      name: 'cyclic definitions',
      src: src('kernel f(A: f32[N]) -> B {', '  C[i] = B[i] + A[i]', '  B[i] = C[i]', '}'),
      message: 'cyclic definition: B → C → B',
      line: 3,
      col: 3,
      hint: 'a cascade defines each tensor from ones defined without it',
    },
    {
      name: 'cyclic kernel calls',
      src: src(
        'kernel f(A: f32[N]) -> B {',
        '  B[i] = g(A)[i]',
        '}',
        'kernel g(A: f32[N]) -> B {',
        '  B[i] = f(A)[i]',
        '}',
      ),
      message: 'cyclic kernel calls: g → f → g',
      line: 4,
      col: 8,
      hint: 'kernels cannot be recursive, directly or through other kernels',
    },
    {
      name: 'a kernel calling itself',
      src: src('kernel f(A: f32[N]) -> B {', '  B[i] = f(A)[i]', '}'),
      message: 'kernel f calls itself',
      line: 2,
      col: 10,
      hint: 'kernels cannot be recursive',
    },
  ]);
});

describe('kernel calls', () => {
  const g2 = ['kernel g(A: f32[N], C: f32[N]) -> B {', '  B[i] = A[i] + C[i]', '}'];
  const pair = ['kernel g(A: f32[N]) -> (B, C) {', '  B[i] = A[i]', '  C[i] = -A[i]', '}'];
  checkCases([
    {
      name: 'too few arguments',
      src: src(...g2, 'kernel f(A: f32[N]) -> B {', '  B[i] = g(A)[i]', '}'),
      message: 'kernel g takes 2 arguments, not 1',
      line: 5,
      col: 10,
      hint: 'g(A, C)',
    },
    {
      name: 'an argument with the wrong dtype',
      src: src(
        'kernel g(A: i32[N]) -> B {',
        '  B[i] = A[i]',
        '}',
        'kernel f(A: f32[N]) -> B {',
        '  B[i] = g(A)[i]',
        '}',
      ),
      message: 'argument A is f32 but g expects i32 for A',
      line: 5,
      col: 12,
    },
    {
      name: 'an argument with the wrong number of axes',
      src: src(
        'kernel g(A: f32[N, N]) -> B {',
        '  B[i] = A[i, i]',
        '}',
        'kernel f(A: f32[N]) -> B {',
        '  B[i] = g(A)[i]',
        '}',
      ),
      message: 'argument A has 1 axis but g expects 2 for A',
      line: 5,
      col: 12,
    },
    {
      name: 'an argument that is not a tensor',
      src: src(
        'kernel g(A: f32[N]) -> B {',
        '  B[i] = A[i]',
        '}',
        'kernel f(A: f32[N]) -> B {',
        '  B[i] = g(A[i])[i]',
        '}',
      ),
      message: 'kernel arguments are tensors: pass a tensor name or a kernel call',
      line: 5,
      col: 12,
    },
    {
      name: 'an argument sized differently from what the callee needs',
      src: src(
        'kernel g(A: f32[4]) -> B {',
        '  B[i] = A[i]',
        '}',
        'kernel f(X: f32[5]) -> Y {',
        '  Y[i] = g(X)[i]',
        '}',
      ),
      message: "X axis 0 for g's A must have size 4, not 5",
      line: 5,
      col: 10,
    },
    {
      name: 'two arguments that give one rank two sizes',
      src: src(...g2, 'kernel f(A: f32[3], C: f32[4]) -> B {', '  B[i] = g(A, C)[i]', '}'),
      message: "g needs N = 3, but C axis 0 for g's C is 4",
      line: 5,
      col: 10,
    },
    {
      name: 'a callee whose output size its arguments do not fix',
      src: src(
        'kernel g(A: f32[N]) -> Y: f32[R] {',
        '  Y[r] = A[0] * r',
        '}',
        'kernel f(A: f32[N]) -> B {',
        '  B[i] = g(A)[i]',
        '}',
      ),
      message: 'the arguments of g do not determine its rank R',
      line: 5,
      col: 10,
    },
    {
      name: 'a multi-output kernel indexed in place',
      src: src(...pair, 'kernel f(A: f32[N]) -> B {', '  B[i] = g(A)[i]', '}'),
      message: 'kernel g returns 2 tensors: bind them',
      line: 6,
      col: 10,
      hint: 'B, C = g(...)',
    },
    {
      name: 'too few names in a binding',
      src: src(...pair, 'kernel f(A: f32[N]) -> B {', '  X = g(A)', '  B[i] = X[i]', '}'),
      message: 'kernel g returns 2 tensors, but 1 name was given',
      line: 6,
      col: 7,
    },
    {
      name: 'a kernel result used without subscripts',
      src: src(
        'kernel g(A: f32[N]) -> B {',
        '  B[i] = A[i]',
        '}',
        'kernel f(A: f32[N]) -> B {',
        '  B[i] = g(A) + 1',
        '}',
      ),
      message: 'the result of kernel g is a tensor: index it',
      line: 5,
      col: 10,
    },
    {
      name: 'a builtin indexed like a kernel',
      src: src('kernel f(A: f32[N]) -> B {', '  B[i] = exp(A)[i]', '}'),
      message: 'exp is a function, not a kernel: it cannot be indexed',
      line: 2,
      col: 10,
    },
    {
      name: 'a builtin with the wrong number of arguments',
      src: src('kernel f(A: f32[N]) -> B {', '  B[i] = exp(A[i], 2)', '}'),
      message: 'exp takes 1 argument, not 2',
      line: 2,
      col: 10,
    },
    {
      name: 'a binding of something that is not a call',
      src: src('kernel f(X: f32[N]) -> S {', '  S = sum[n] X[n]', '}'),
      message: "the right side of 'S = ...' must be a kernel call",
      line: 2,
      col: 7,
      hint: 'a tensor is defined with subscripts: S[i, ...] = ..., or S[] = ... for a scalar',
    },
  ]);
});

describe('binding ranks and sizes', () => {
  /** Check, then bind with `opts`; the error comes from binding, with the file and source attached. */
  function bindError(source: string, opts: Parameters<typeof bindKernel>[2], kernel = 'f'): EinError {
    const program = checkSource(source, FILE);
    return caught(() => bindKernel(program, kernel, opts)).withSource(FILE, source);
  }

  test('a subscript that leaves its axis (static check)', () => {
    const s = src('kernel f(X: f32[T]) -> Y {', '  Y[t] = X[t + 1] - X[t]', '}');
    const e = bindError(s, { ranks: { T: 4 } });
    expectPlaced(
      e,
      {
        message: 'subscript t + 1 of X ranges over 1..4, but axis 0 has 4 elements (0..3)',
        line: 2,
        col: 10,
        underlines: 'X[t + 1]',
      },
      s,
    );
  });

  test('a generation past the last one', () => {
    const s = src(
      'kernel f(L: f32[M, P]) -> B {',
      '  R[0, p] = 0',
      '  R[m + 1, p] = R[m, p] + L[m, p]',
      '  B[p] = R[M + 1, p]',
      '}',
    );
    const e = bindError(s, { ranks: { M: 3, P: 2 } });
    expectPlaced(
      e,
      { message: 'subscript M + 1 of R ranges over 4..4, but axis 0 has 4 elements', line: 4, col: 10 },
      s,
    );
  });

  test('a tensor beyond the size limit names the limit and the flag', () => {
    const s = src('kernel f(A: f32[M, K], B: f32[K, N]) -> C {', '  C[m, n] = A[m, k] * B[k, n]', '}');
    const e = bindError(s, { ranks: { M: 100_000, K: 100_000, N: 2 } });
    expectPlaced(
      e,
      {
        message: 'A needs 37.3 GiB (shape [100000, 100000]), beyond the limit of 1 GiB per tensor',
        line: 1,
        col: 10,
        hint: 'raise the limit with --max-tensor-bytes BYTES, or use smaller ranks',
      },
      s,
    );
  });

  test('a lowered limit applies to every tensor, intermediates too', () => {
    const s = src('kernel f(A: f32[N]) -> B {', '  O[i, j] = A[i] * A[j]', '  B[i] = O[i, j]', '}');
    const e = bindError(s, { ranks: { N: 64 }, limits: { maxTensorBytes: 1024 } });
    expectPlaced(
      e,
      { message: 'O needs 16 KiB (shape [64, 64]), beyond the limit of 1 KiB per tensor', line: 2, col: 3 },
      s,
    );
    expect(e.format()).toContain('--max-tensor-bytes');
  });

  test('an axis of size zero', () => {
    const s = src('kernel f(X: f32[L], W: f32[R]) -> Y: f32[L - R + 1] {', '  Y[t] = X[t + r] * W[r]', '}');
    const e = bindError(s, { ranks: { L: 2, R: 3 } });
    expectPlaced(e, { message: 'Y axis 0 has size 0 (L - R + 1)', line: 2, col: 3 }, s);
  });

  test('a rank with no value', () => {
    const s = src('kernel f(A: f32[M, K], B: f32[K, N]) -> C {', '  C[m, n] = A[m, k] * B[k, n]', '}');
    const e = bindError(s, { ranks: { M: 2, N: 2 } });
    expectPlaced(
      e,
      {
        message: 'rank K has no value',
        line: 1,
        col: 20,
        hint: 'pass --rank K=INT, or an input whose shape sets it',
      },
      s,
    );
  });

  test('a default rank fills in only what nothing else sets', () => {
    const program = checkSource(
      src(
        'default rank K = 3',
        'default rank N = 2 * K',
        'kernel f(A: f32[M, K]) -> C: f32[M, N] {',
        '  C[m, n] = A[m, 0] * n',
        '}',
      ),
    );
    const ranksOf = (opts: Parameters<typeof bindKernel>[2]) =>
      Object.fromEntries(bindKernel(program, 'f', opts).ranks);
    expect(ranksOf({ ranks: { M: 1 } })).toEqual({ M: 1, K: 3, N: 6 });
    expect(ranksOf({ ranks: { M: 1, K: 5 } })).toEqual({ M: 1, K: 5, N: 10 });
    expect(ranksOf({ inputShapes: { A: [2, 4] } })).toEqual({ M: 2, K: 4, N: 8 });
    expect(ranksOf({ ranks: { M: 1, N: 1 } })).toEqual({ M: 1, K: 3, N: 1 });
    expect(
      bindError(src('default rank K = 3', 'kernel f(A: f32[M, K]) -> C {', '  C[m] = A[m, 0]', '}'), {})
        .message,
    ).toBe('rank M has no value');
  });

  test('a defined rank that depends on a rank with no value', () => {
    const s = src('kernel f(X: f32[M]) -> Y {', '  rank H = M / 2', '  Y[h] = X[h]', '}');
    const e = bindError(s, {});
    expectPlaced(e, { message: 'rank M has no value', line: 2, col: 12 }, s);
  });

  test('a rank size that does not divide evenly', () => {
    const s = src(
      'rank M0 = 4',
      'kernel f(X: f32[M]) -> Y {',
      '  rank M1 = M / M0',
      '  Y[m1] = X[m1 * M0]',
      '}',
    );
    const e = bindError(s, { ranks: { M: 6 } });
    expectPlaced(e, { message: '6 / 4 does not divide evenly', line: 3, col: 13, underlines: 'M / M0' }, s);
  });

  test('inputs that give one rank two sizes', () => {
    const s = src('kernel f(A: f32[M, K], B: f32[K, N]) -> C {', '  C[m, n] = A[m, k] * B[k, n]', '}');
    const e = bindError(s, { inputShapes: { A: [2, 3], B: [4, 5] } });
    expectPlaced(e, { message: 'input B axis 0 has size 4, but K = 3', line: 1, col: 24 }, s);
  });

  test('an input with the wrong number of axes', () => {
    const s = src('kernel f(A: f32[M, K]) -> C {', '  C[m] = A[m, k]', '}');
    const e = bindError(s, { inputShapes: { A: [2] } });
    expectPlaced(e, { message: 'input A has 1 axis but f declares 2', line: 1, col: 10 }, s);
  });

  test('an input whose shape disagrees with a fixed size', () => {
    const s = src('kernel f(A: f32[3]) -> C {', '  C[i] = A[i]', '}');
    const e = bindError(s, { inputShapes: { A: [4] } });
    expectPlaced(e, { message: 'input A has shape [4] but f expects [3]', line: 1, col: 10 }, s);
  });

  test('a rank defined in the source set from outside (no place: an option)', () => {
    const program = checkSource(
      src('rank R = 3', 'kernel f(A: f32[N]) -> B {', '  B[i] = A[i] * R', '}'),
      FILE,
    );
    const e = caught(() => bindKernel(program, 'f', { ranks: { R: 4, N: 2 } }));
    expect(e.message).toBe('rank R is defined in the source; it cannot be set from outside');
    expect(e.line).toBeUndefined();
    expect(e.format()).toBe('error: rank R is defined in the source; it cannot be set from outside');
  });

  test('an unknown kernel lists the kernels', () => {
    const program = checkSource(src('kernel f(A: f32[N]) -> B {', '  B[i] = A[i]', '}'), FILE);
    const e = caught(() => bindKernel(program, 'g', {}));
    expect(e.format()).toBe("error: no kernel named 'g'\n  hint: kernels: f");
  });
});

describe('run-time errors of the interpreter', () => {
  const f32 = (...shape: number[]): Tensor => ({
    dtype: 'f32',
    shape,
    data: new Float32Array(shape.reduce((a, b) => a * b, 1)),
  });
  const i32 = (values: number[]): Tensor => ({
    dtype: 'i32',
    shape: [values.length],
    data: Int32Array.from(values),
  });
  const gather = src('kernel embed(wte: f32[V, D], tok: i32[T]) -> X {', '  X[t, d] = wte[tok[t], d]', '}');

  test('a gather out of range', () => {
    const program = checkSource(gather, FILE);
    const e = caught(() => interpret(program, 'embed', { wte: f32(5, 2), tok: i32([1, 7, 2]) })).withSource(
      FILE,
      gather,
    );
    expectPlaced(
      e,
      {
        message: 'wte[...] reads position 7 on axis 0, outside its 5 elements',
        line: 2,
        col: 13,
        underlines: 'wte[tok[t], d]',
        hint: 'an index tensor (a gather) holds a value out of range',
      },
      gather,
    );
  });

  test('a negative gather index', () => {
    const program = checkSource(gather, FILE);
    const e = caught(() => interpret(program, 'embed', { wte: f32(5, 2), tok: i32([-1]) }));
    expect(e.message).toContain('reads position -1 on axis 0');
  });

  test('a missing input', () => {
    const program = checkSource(gather, FILE);
    const e = caught(() => interpret(program, 'embed', { wte: f32(5, 2) }, { ranks: { T: 3 } })).withSource(
      FILE,
      gather,
    );
    expectPlaced(e, { message: 'input tok of embed was not given', line: 1, col: 30 }, gather);
  });

  test('an input of the wrong dtype', () => {
    const program = checkSource(gather, FILE);
    const e = caught(() => interpret(program, 'embed', { wte: f32(5, 2), tok: f32(3) })).withSource(
      FILE,
      gather,
    );
    expectPlaced(e, { message: 'input tok is f32 but embed declares i32', line: 1, col: 30 }, gather);
  });

  test('a callee bound with sizes that differ only symbolically at check time', () => {
    const s = src(
      'kernel g(A: f32[N], C: f32[N]) -> B {',
      '  B[i] = A[i] + C[i]',
      '}',
      'kernel f(A: f32[N], D: f32[M]) -> B {',
      '  B[i] = g(A, D)[i]',
      '}',
    );
    const program = checkSource(s, FILE);
    const e = caught(() => interpret(program, 'f', { A: f32(3), D: f32(4) })).withSource(FILE, s);
    expectPlaced(e, { message: 'input C axis 0 has size 4, but N = 3', line: 1, col: 21 }, s);
  });
});

describe('files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ein-errors-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('a missing file', () => {
    const e = caught(() => checkFile(join(dir, 'nope.ein')));
    expect(e.message).toBe(`${join(dir, 'nope.ein')}: no such file`);
    expect(e.format()).toBe(`error: ${join(dir, 'nope.ein')}: no such file`);
  });

  test('a directory', () => {
    mkdirSync(join(dir, 'sub.ein'));
    expect(caught(() => checkFile(join(dir, 'sub.ein'))).message).toBe(
      `${join(dir, 'sub.ein')} is a directory`,
    );
  });

  test('errors in a file carry its name', () => {
    const e = caught(() =>
      checkSource(src('kernel f(A: f32[N]) -> B {', '  B[i] = A2[i]', '}'), 'models/x.ein'),
    );
    expect(e.format().split('\n')[0]).toBe("models/x.ein:2:10: error: unknown tensor 'A2'");
  });

  test('tabs keep the caret aligned', () => {
    const s = 'kernel f(A: f32[N]) -> B {\n\tB[i] = A2[i]\n}\n';
    const lines = caught(() => checkSource(s, FILE))
      .format()
      .split('\n');
    expect(lines[1]).toBe(' 2 | \tB[i] = A2[i]');
    expect(lines[2]).toBe('   | \t       ^^^^^');
  });
});

describe('.npy files', () => {
  const good = encodeNpy({ dtype: 'f32', shape: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, 6]) });
  /** `good` with its header text edited (same length, so the preamble stays valid). */
  const withHeader = (from: string, to: string): Uint8Array => {
    expect(to.length).toBe(from.length);
    const text = new TextDecoder().decode(good.subarray(0, 128));
    const at = text.indexOf(from);
    expect(at).toBeGreaterThan(0);
    const out = good.slice();
    out.set(new TextEncoder().encode(to), at);
    return out;
  };
  const npyError = (bytes: Uint8Array) => caught(() => decodeNpy(bytes, 'x.npy'));

  test('a round trip through encode and decode', () => {
    const t = decodeNpy(good, 'x.npy');
    expect(t.dtype).toBe('f32');
    expect(t.shape).toEqual([2, 3]);
    expect(Array.from(t.data)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  test.each([
    [
      'bad magic',
      new TextEncoder().encode('PK\x03\x04 this is a zip file'),
      'x.npy: not a .npy file (bad magic)',
    ],
    ['too short for a header', good.subarray(0, 8), 'x.npy: not a .npy file (bad magic)'],
    [
      'an unsupported version',
      Uint8Array.from(good, (b, i) => (i === 6 ? 9 : b)),
      'x.npy: unsupported .npy version 9',
    ],
    ['a truncated header', good.subarray(0, 40), 'x.npy: truncated header'],
    [
      'a malformed header',
      withHeader("'fortran_order': False", "'fortran_ordur': False"),
      'x.npy: malformed header',
    ],
    [
      'Fortran order',
      withHeader("'fortran_order': False", "'fortran_order': True "),
      'x.npy: Fortran-order arrays are not supported',
    ],
    [
      'float64 data',
      withHeader("'descr': '<f4'", "'descr': '<f8'"),
      'x.npy: dtype <f8 is not supported: Ein reads float32 (<f4) and int32 (<i4)',
    ],
    ['big-endian data', withHeader("'descr': '<f4'", "'descr': '>f4'"), 'x.npy: dtype >f4 is not supported'],
    ['a bad shape', withHeader("'shape': (2, 3)", "'shape': (2, x)"), 'x.npy: bad shape (2, x)'],
    [
      'truncated data',
      good.subarray(0, good.length - 4),
      'x.npy: holds 20 data bytes, but shape (2, 3) needs 24',
    ],
  ] as const)('%s', (_, bytes, message) => {
    const e = npyError(bytes);
    expect(e.message).toContain(message);
    expect(e.format()).toMatch(/^error: x\.npy: /);
  });

  test('a file read into a pooled Node Buffer decodes its own bytes', () => {
    // readFileSync returns a Buffer that may sit at an offset in a shared pool.
    const pool = Buffer.alloc(good.length + 13, 0x7f);
    pool.set(good, 13);
    const t = decodeNpy(pool.subarray(13), 'x.npy');
    expect(Array.from(t.data)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(t.data.byteOffset).toBe(0);
  });

  test('the hints say how to convert', () => {
    expect(npyError(withHeader("'descr': '<f4'", "'descr': '<f8'")).format()).toContain(
      'hint: convert with a.astype(numpy.float32) or a.astype(numpy.int32)',
    );
    expect(npyError(withHeader("'fortran_order': False", "'fortran_order': True ")).format()).toContain(
      'hint: save numpy.ascontiguousarray(a)',
    );
  });
});
