// Random mutations (fixed seed) of the examples and a kitchen-sink program (this file) and of random
// well-formed programs (random-mutations.test.ts), half of EIN_FUZZ_RUNS each (default 10000 in all;
// `npm run fuzz` runs 200000): each mutant gives a diagnostic or runs; an exception that is not an
// EinError, a broken fmt/print round trip or a hang fails with the mutant's source and a shrunk one.
import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { mutate } from '../support/mutate.js';
import { campaign, describeFailures, fuzzOne, withTimeGuard } from './harness.js';

const RUNS = Number(process.env.EIN_FUZZ_RUNS ?? 10000);
const SEED = 0x5eed;
const HALF = Math.ceil(RUNS / 2);
const TIMEOUT = Math.max(120_000, HALF * 20);

const examples = readdirSync('examples')
  .filter((f) => f.endsWith('.ein'))
  .sort()
  .map((f) => readFileSync(`examples/${f}`, 'utf8'));
const handWritten = [...examples, readFileSync('test/fuzz/kitchen-sink.ein', 'utf8')];

const mutant = (source: string, seed: number) => mutate(source, seed).source;

describe('mutation fuzzing of hand-written programs', () => {
  test('the unmutated bases check, and run when their ranks allow (all symbolic ranks are 3)', () => {
    const ok = (source: string) => {
      const o = fuzzOne(source);
      return o.kind === 'ok' || (o.kind === 'diagnostic' && o.stage.startsWith('bind'))
        ? 'fine'
        : `${o.kind}: ${'text' in o ? o.text : ''}\n${source}`;
    };
    for (const source of handWritten) expect(ok(source)).toBe('fine');
  });

  test(
    `${HALF} mutants of the examples give only diagnostics`,
    () => {
      const result = campaign(handWritten, HALF, SEED, mutant);
      if (result.failures.length) expect.fail(describeFailures(result));
      // The mix must stay useful: many mutants get past the parser, some run.
      expect(result.counts['ok'] ?? 0).toBeGreaterThan(HALF * 0.05);
      expect(result.counts['diagnostic at check'] ?? 0).toBeGreaterThan(HALF * 0.1);
    },
    TIMEOUT,
  );

  test('the time guard stops a runaway case', () => {
    const start = performance.now();
    expect(
      withTimeGuard(() => {
        for (;;);
      }, 200),
    ).toEqual({ timedOut: true });
    expect(performance.now() - start).toBeLessThan(5000);
    expect(withTimeGuard(() => 42, 1000)).toEqual({ timedOut: false, value: 42 });
  });
});
