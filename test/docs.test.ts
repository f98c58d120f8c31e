// Every ```ein block of docs/language.md (and README.md, when there is one) is a complete program that
// checks, formats idempotently and runs on small random inputs; every ```ein-error block fails with the
// message stated in its first line, `# error: MESSAGE`, at a line and column of the block.
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { EinError } from '../src/frontend/diagnostics.js';
import { format } from '../src/frontend/format.js';
import { checkSource } from '../src/frontend/index.js';
import { interpret, runBound } from '../src/ir/interpreter.js';
import { printProgram } from '../src/ir/print.js';
import { randomInputs } from '../src/ir/random-inputs.js';
import { bindFours, bindSmall, expectedError, extractBlocks, type DocBlock } from './support/docs-blocks.js';

const DOCS = ['docs/language.md', 'README.md'].filter((f) => existsSync(f));

function blocksOf(file: string, lang: string): [string, DocBlock][] {
  return extractBlocks(readFileSync(file, 'utf8'))
    .filter((b) => b.lang === lang)
    .map((b) => [`${file}:${b.line}`, b]);
}

/** Check, then run every kernel of the program; the error of whichever stage fails. */
function checkAndRun(code: string, where: string, bind = bindSmall): void {
  const program = checkSource(code, where);
  for (const k of program.kernels) {
    const bound = bind(program, k.name);
    const outputs = runBound(bound, randomInputs(bound, 1));
    for (const o of k.outputs) {
      expect(outputs[o], `${k.name} output ${o}`).toBeDefined();
      expect(outputs[o]!.shape).toEqual(bound.shapes.get(o));
    }
  }
}

test('the language reference exists and has examples of both kinds', () => {
  expect(DOCS).toContain('docs/language.md');
  expect(blocksOf('docs/language.md', 'ein').length).toBeGreaterThanOrEqual(15);
  expect(blocksOf('docs/language.md', 'ein-error').length).toBeGreaterThanOrEqual(8);
});

for (const file of DOCS) {
  describe(file, () => {
    const programs = blocksOf(file, 'ein');
    const errors = blocksOf(file, 'ein-error');

    test.each(programs)('%s checks and runs', (where, block) => {
      checkAndRun(block.code, where);
    });

    test.each(programs)('%s formats idempotently to the same program', (where, block) => {
      const once = format(block.code, where);
      expect(format(once, where)).toBe(once);
      expect(printProgram(checkSource(once, where))).toBe(printProgram(checkSource(block.code, where)));
    });

    test.each(errors)('%s fails as stated', (where, block) => {
      const message = expectedError(block);
      expect(message, 'an ein-error block starts with `# error: MESSAGE`').toBeDefined();
      let error: unknown;
      try {
        checkAndRun(block.code, where, bindFours);
      } catch (e) {
        error = e;
      }
      expect(error, `expected an error containing "${message}"`).toBeInstanceOf(EinError);
      const e = error as EinError;
      expect(e.message).toContain(message);
      // The error points into the block, below the `# error:` line.
      expect(e.line).toBeGreaterThan(1);
      expect(e.line).toBeLessThanOrEqual(block.code.split('\n').length);
      expect(e.col).toBeGreaterThanOrEqual(1);
    });
  });
}

test('the einsum-rule pitfall the reference describes is what the interpreter does', () => {
  const block = blocksOf('docs/language.md', 'ein').find(([, b]) => b.code.includes('kernel bias('));
  expect(block).toBeDefined();
  const program = checkSource(block![1].code, block![0]);
  const [T, D, H] = [2, 3, 2];
  const X = { dtype: 'f32', shape: [T, D], data: Float32Array.from([1, 2, 3, 4, 5, 6]) } as const;
  const W = { dtype: 'f32', shape: [D, H], data: Float32Array.from([1, 0, 0, 1, 1, 1]) } as const;
  const b = { dtype: 'f32', shape: [H], data: Float32Array.from([10, 20]) } as const;
  const { WRONG, RIGHT } = interpret(program, 'bias', { X, W, b });
  expect(Array.from(RIGHT!.data)).toEqual([4 + 10, 5 + 20, 10 + 10, 11 + 20]);
  // WRONG adds b once per value of d: D times instead of once.
  expect(Array.from(WRONG!.data)).toEqual(Array.from(RIGHT!.data, (v, i) => v + (D - 1) * b.data[i % H]!));
});
