// The other half of the mutation fuzzing (see mutations.test.ts): mutants of random well-formed
// programs from test/support/random-cascade.ts, in their own file so the halves run in parallel.
import { describe, expect, test } from 'vitest';
import { mutate } from '../support/mutate.js';
import { generateCascade } from '../support/random-cascade.js';
import { campaign, describeFailures, fuzzOne } from './harness.js';

const RUNS = Number(process.env.EIN_FUZZ_RUNS ?? 10000);
const SEED = 0x5eed;
const HALF = Math.floor(RUNS / 2);
const TIMEOUT = Math.max(120_000, HALF * 20);

const randomPrograms = Array.from({ length: 64 }, (_, i) => generateCascade(SEED + i).source);
const mutant = (source: string, seed: number) => mutate(source, seed).source;

describe('mutation fuzzing of random programs', () => {
  test('the unmutated programs run', () => {
    for (const source of randomPrograms) {
      const o = fuzzOne(source);
      expect(o.kind === 'ok' ? 'ok' : `${o.kind}: ${'text' in o ? o.text : ''}\n${source}`).toBe('ok');
    }
  });

  test(
    `${HALF} mutants of random programs give only diagnostics`,
    () => {
      const result = campaign(randomPrograms, HALF, SEED + 1_000_000, mutant);
      if (result.failures.length) expect.fail(describeFailures(result));
      expect(result.counts['ok'] ?? 0).toBeGreaterThan(HALF * 0.05);
      expect(result.interpreted).toBeGreaterThan(HALF * 0.05);
    },
    TIMEOUT,
  );
});
