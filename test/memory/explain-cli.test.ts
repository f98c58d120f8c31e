// `ein explain`: the ILP plan beside the greedy one, per-step addresses, and certificates (exit 1
// with the smallest budget that fits) instead of a bare "out of memory".
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { ein, expectNoStackTrace } from '../support/cli-run.js';

const MLP = [
  'explain',
  'examples/mlp.ein',
  '--rank',
  'T=64',
  '--rank',
  'D=32',
  '--rank',
  'H=128',
  '--kernel-scratchpad',
  '16',
];

describe('ein explain', () => {
  test('mlp at 64KiB: an optimal ILP plan (gap 0) beside the greedy one, then the compile explanation', async () => {
    const r = await ein(...MLP, '--scratchpad', '64KiB');
    expect(r.code).toBe(0);
    expect(r.out).toContain('== ILP plan ==');
    expect(r.out).toContain('== greedy plan (baseline) ==');
    expect(r.out).toMatch(/solver: optimal, .*gap 0\.00%/);
    expect(r.out).toMatch(/on chip: .*G \[\d+,\d+\)/);
    expect(r.out).toMatch(/summary: ilp 0 B of spills \+ reloads vs greedy 0 B; saves 0 B/);
    expect(r.out).toContain('kernels:');
    expect(r.out).toContain('decisions:');
  });

  test('attention at its M_R: the ILP fits where greedy first-fit fragments', async () => {
    const r = await ein(
      'explain',
      'examples/attention.ein',
      '--rank',
      'P=16',
      '--rank',
      'M=32',
      '--rank',
      'E=8',
      '--rank',
      'F=8',
      '--no-online',
      '--kernel-scratchpad',
      '16',
      '--scratchpad',
      '4224',
    );
    expect(r.code).toBe(0);
    expect(r.out).toContain('greedy first-fit found no plan at this capacity');
    expect(r.out).toMatch(/solver: optimal/);
  });

  test('a scratchpad too small for any tiling: the smallest that fits, exit 1, and it does fit', async () => {
    const r = await ein(...MLP, '--scratchpad', '1KiB');
    expect(r.code).toBe(1);
    expectNoStackTrace(r.err);
    const stated =
      /no scratchpad plan fits 1 KiB \(1024 B\): the smallest scratchpad that fits is .* \((\d+) B\)/.exec(
        r.err,
      );
    expect(stated).not.toBeNull();
    expect(r.err).toMatch(/split into \d+ tile operators \(.* by \d+/);
    expect(r.err).not.toMatch(/out of memory/i);
    const fits = await ein(...MLP, '--scratchpad', stated![1]!, '--time-limit', '2');
    expect(fits.code).toBe(0);
    expect(fits.out).toMatch(/tile operators from \d+ kernels/);
  }, 120_000);

  test('the MLP at T=64 D=128 H=512 in 64 KiB, fused as compiled: tile operators, an optimal plan beside greedy, the report', async () => {
    const report = join(mkdtempSync(join(tmpdir(), 'ein-cosma-')), 'report.json');
    const r = await ein(
      'explain',
      'examples/mlp.ein',
      ...['--rank', 'T=64', '--rank', 'D=128', '--rank', 'H=512'],
      ...['--scratchpad', '64KiB', '--report', report],
    );
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/COSMA scratchpad 64 KiB \(65536 B\), \d+ tile operators from \d+ kernels/);
    expect(r.out).toContain('== ILP plan ==');
    expect(r.out).toContain('== greedy plan (baseline) ==');
    expect(r.out).toMatch(/on chip: .*W1\[:,0:\d+\] \[\d+,\d+\)/);
    expect(r.out).toMatch(/solver: optimal, .*gap 0\.00%/);
    expect(r.out).toMatch(
      /summary: ilp \d+ B of spills \+ reloads vs greedy \d+ B; saves \d+ B \(solver optimal, gap 0\.00%/,
    );
    const json = JSON.parse(readFileSync(report, 'utf8')) as {
      cosma: {
        savedBytes: number;
        solver: { status: string; gap: number };
        tiling: { operators: unknown[] };
        plan: { steps: { resident: unknown[] }[] };
      };
    };
    expect(json.cosma.solver).toMatchObject({ status: 'optimal', gap: 0 });
    expect(json.cosma.savedBytes).toBeGreaterThanOrEqual(0);
    expect(json.cosma.plan.steps.length).toBe(json.cosma.tiling.operators.length);
    expect(json.cosma.plan.steps[0]!.resident.length).toBeGreaterThan(0);
  }, 300_000);

  test('--max-memory below any chunking: the smallest budget and the chunking that reaches it, exit 1', async () => {
    const r = await ein(
      'explain',
      'examples/attention.ein',
      '--rank',
      'P=512',
      '--rank',
      'M=512',
      '--rank',
      'E=8',
      '--rank',
      'F=8',
      '--no-online',
      '--kernel-scratchpad',
      '1KiB',
      '--max-memory',
      '100',
    );
    expect(r.code).toBe(1);
    expectNoStackTrace(r.err);
    expect(r.err).toMatch(/the smallest peak any chunking reaches is .* \(\d+ B\), chunking p by 1/);
  });

  test('--max-memory that chunking meets: AutoChunk in the explanation', async () => {
    const r = await ein(
      'explain',
      'examples/attention.ein',
      '--rank',
      'P=512',
      '--rank',
      'M=512',
      '--rank',
      'E=8',
      '--rank',
      'F=8',
      '--no-online',
      '--kernel-scratchpad',
      '1KiB',
      '--max-memory',
      '256KiB',
    );
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/chunk p \(rank P = 512\) into \d+ chunks of \d+/);
    expect(r.out).toMatch(/chunking +p \(P = 512\)/);
  });
});
