// AutoChunk (the `chunking` pass) end to end. A long-sequence attention (the 3-pass cascade, which
// materializes the score matrix) and an MLP whose hidden activations cross kernels are brought
// under a fifth of their unchunked peak; a cascade whose halves chunk along different ranks (an MLP
// over t, a reduction over t, then a projection over n) and one whose halves chunk along t on both
// sides of a softmax over t need the search repeated at the moved peak. Every chunked WASM run
// equals the interpreter, and the predicted peak is within 5% of the activation bytes the run
// really touched. Sizes are scaled down from the benchmark's sequence of 16,384 (bench/memory.ts),
// with a proportionally small fusion scratchpad so the intermediates still cross kernels.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { EinError } from '../../src/frontend/diagnostics.js';
import { checkFile, checkSource } from '../../src/frontend/index.js';
import { einsums, type CascadeProgram } from '../../src/ir/cascade.js';
import { chunkDimensions } from '../../src/passes/chunk-candidates.js';
import type { ChunkPlan } from '../../src/passes/chunking.js';
import { regionDimensions } from '../../src/passes/chunk-regions.js';
import { compileKernel } from '../../src/passes/pipeline.js';
import { ein } from '../support/cli-run.js';
import { execute, reference, worstError } from './support.js';

/** An MLP over t, a column sum over t (t cannot be chunked across it), a sigmoid layer over n. */
const TWO_RANKS = 'bench/two-ranks.ein';

/** Two MLPs over t with a softmax over t (column-wise) between them. */
const SOFTMAX_BETWEEN = `kernel softmax_between(X: f32[T, D], W1: f32[D, H], W2: f32[H, D], W3: f32[D, H], W4: f32[H, D]) -> Y2 {
  U[t, h] = sum[d] X[t, d] * W1[d, h]
  G[t, h] = 0.5 * U[t, h] * (1 + erf(U[t, h] / sqrt(2)))
  Y[t, d] = sum[h] G[t, h] * W2[h, d]
  M[d] = max[t] Y[t, d]
  E[t, d] = exp(Y[t, d] - M[d])
  SE[d] = sum[t] E[t, d]
  V[t, h] = sum[d] E[t, d] * W3[d, h] / SE[d]
  Y2[t, d] = sum[h] V[t, h] * W4[h, d]
}`;

interface Case {
  readonly program: CascadeProgram;
  readonly ranks: Record<string, number>;
  /** Fusion scratchpad (bytes per workgroup), and the budget as a fraction of the unchunked peak. */
  readonly scratchpad: number;
  readonly fraction: number;
}

const CASES: Record<string, Case> = {
  attention: {
    program: checkFile('examples/attention.ein'),
    ranks: { P: 512, M: 512, E: 8, F: 8 },
    scratchpad: 1024,
    fraction: 0.2,
  },
  mlp: {
    program: checkFile('examples/mlp.ein'),
    ranks: { T: 512, D: 16, H: 128 },
    scratchpad: 256,
    fraction: 0.2,
  },
  'two ranks': {
    program: checkFile(TWO_RANKS),
    ranks: { T: 512, D: 16, H: 128, N: 1024 },
    scratchpad: 256,
    fraction: 0.2,
  },
  'softmax between': {
    program: checkSource(SOFTMAX_BETWEEN, 'softmax_between.ein'),
    ranks: { T: 512, D: 16, H: 128 },
    scratchpad: 256,
    fraction: 0.3,
  },
};

function compileCase(c: Case, threads: number, maxMemoryBytes?: number) {
  return compileKernel(c.program, {
    ranks: c.ranks,
    threads,
    scratchpadBytes: c.scratchpad,
    online: 'off',
    ...(maxMemoryBytes !== undefined ? { maxMemoryBytes } : {}),
  });
}

/** Chunks the case under its budget, runs both programs, checks results and prediction. */
async function chunkAndRun(c: Case, threads: number) {
  const { inputs, want } = reference(c.program, c.ranks);
  const unchunked = compileCase(c, threads);
  const budget = Math.floor(unchunked.memory!.peakBytes * c.fraction);
  const chunked = compileCase(c, threads, budget);
  const plan = chunked.chunking!;
  const before = await execute(unchunked, inputs, threads);
  const after = await execute(chunked, inputs, threads);
  expect(worstError(before.outputs, want)).toBeLessThan(1e-5);
  expect(worstError(after.outputs, want)).toBeLessThan(1e-5);
  expect(plan.predictedPeakBytes).toBeLessThanOrEqual(budget);
  // Measured: activation bytes the runs wrote (intermediates, tensors between regions, slice
  // copies, worker scratch), against the plan's predictions.
  const off = (predicted: number, measured: number) => Math.abs(predicted - measured) / measured;
  expect(off(plan.predictedPeakBytes, after.touchedBytes)).toBeLessThan(0.05);
  expect(off(plan.unchunkedPeakBytes, before.touchedBytes)).toBeLessThan(0.05);
  expect(after.touchedBytes).toBeLessThanOrEqual(budget);
  return { plan, budget, before, after };
}

/** The formatted EinError `f` throws. */
function einError(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(EinError);
    return (e as EinError).format();
  }
  throw new Error('expected an EinError');
}

const einsumAt = (c: Case, i: number) => einsums(c.program.kernels[0]!)[i]!;

describe('AutoChunk', () => {
  test.each(['attention', 'mlp'])(
    '%s: under a fifth of the peak, equal to the interpreter, predicted = measured within 5 percent',
    async (name) => {
      for (const threads of [1, 2]) {
        const { plan, before, after } = await chunkAndRun(CASES[name]!, threads);
        expect(after.touchedBytes).toBeLessThan(before.touchedBytes / 5);
        expect(plan.steps.length).toBeGreaterThan(0);
      }
    },
  );

  test('two regions along different ranks: the search repeats at the moved peak', async () => {
    const c = CASES['two ranks']!;
    for (const threads of [1, 2]) {
      const { plan, budget } = await chunkAndRun(c, threads);
      const chunked = plan.segments.filter((s) => s.chunk);
      expect(new Set(chunked.map((s) => s.chunk!.rank))).toEqual(new Set(['T', 'N']));
      // The first step alone left the kernel over budget: the repeat was needed.
      expect(plan.steps.length).toBeGreaterThanOrEqual(2);
      expect(plan.steps[0]!.peakAfterBytes).toBeGreaterThan(budget);
      for (const [i, s] of plan.steps.entries()) {
        expect(s.peakAfterBytes).toBeLessThan(s.peakBeforeBytes);
        if (i > 0) expect(s.peakBeforeBytes).toBe(plan.steps[i - 1]!.peakAfterBytes);
      }
      // C = sum[t] Y reduces t: no region chunked along t holds it.
      for (const s of chunked)
        for (let i = s.einsums[0]; i < s.einsums[1]; i++)
          expect(einsumAt(c, i).reduced).not.toContain(s.chunk!.index);
    }
  });

  test('two regions along the same rank, with a softmax over it between them', async () => {
    const c = CASES['softmax between']!;
    const { plan } = await chunkAndRun(c, 2);
    const alongT = plan.segments.filter((s) => s.chunk?.index === 't');
    expect(alongT.length).toBeGreaterThanOrEqual(2);
    for (const s of alongT)
      for (let i = s.einsums[0]; i < s.einsums[1]; i++) expect(einsumAt(c, i).reduced).not.toContain('t');
  });

  test('finds the dimensions that flow through a region unreduced', () => {
    const attention = checkFile('examples/attention.ein').kernels[0]!;
    expect(chunkDimensions(attention).map((d) => [d.index, d.rank])).toEqual([['p', 'P']]);
    expect(chunkDimensions(attention)[0]!.axes).toEqual({ Q: 0, K: -1, V: -1, AV: 0 });
    const two = CASES['two ranks']!.program.kernels[0]!;
    // The whole kernel has none; its MLP (U..Y) has t, its last layer (S..Z) n.
    expect(chunkDimensions(two)).toEqual([]);
    expect(regionDimensions(two, 0, 3).map((d) => d.index)).toEqual(['t']);
    expect(regionDimensions(two, 4, 8).map((d) => d.index)).toEqual(['n']);
    expect(regionDimensions(two, 4, 8)[0]!.axes).toEqual({ P: 0, C: -1, W3: -1, Z: 0 });
    // Y..C: t is reduced by C, so only d flows through.
    expect(regionDimensions(two, 2, 4).map((d) => d.index)).toEqual(['d']);
    // causal attention uses P in the mask (m <= p + M - P): chunks of the whole kernel are not
    // independent copies, but the weighted sum after the mask is a region p flows through.
    const causal = checkFile('examples/causal_attention.ein').kernels[0]!;
    expect(chunkDimensions(causal)).toEqual([]);
    const last = causal.steps.length;
    expect(regionDimensions(causal, last - 1, last).map((d) => d.index)).toEqual(['p', 'f']);
  });

  test('ein explain prints every step, and the JSON report carries them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ein-autochunk-'));
    const ranks = Object.entries(CASES['two ranks']!.ranks).flatMap(([r, v]) => ['--rank', `${r}=${v}`]);
    const report = join(dir, 'report.json');
    const budget = 120_000;
    const r = await ein(
      'explain',
      TWO_RANKS,
      ...ranks,
      '--kernel-scratchpad',
      '256',
      '--max-memory',
      `${budget}`,
      '--report',
      report,
    );
    expect(r.code).toBe(0);
    const { chunking } = JSON.parse(readFileSync(report, 'utf8')) as { chunking: ChunkPlan };
    expect(chunking.steps.length).toBeGreaterThanOrEqual(2);
    expect(chunking.predictedPeakBytes).toBeLessThanOrEqual(budget);
    for (const [i, s] of chunking.steps.entries())
      expect(r.out).toContain(
        `${i + 1}. ${s.region} (Einsums ${s.einsums[0]}..${s.einsums[1] - 1}): chunk ${s.index} (rank ${s.rank} = ${s.extent}) into ${s.count} chunks of ${s.size}: `,
      );
    expect(r.out).toMatch(/^ {2}\d+\. .*: .* → .* \(region .*\), cost .*; \d+ of \d+ candidates fit$/m);
  });

  test('a kernel over the tensor-size limit is chunked under it, even within budget', async () => {
    const c = CASES.attention!;
    const limits = { maxTensorBytes: 256 * 1024 }; // the 512 × 512 score matrix is 1 MiB
    const options = { ranks: c.ranks, scratchpadBytes: c.scratchpad, online: 'off' as const, limits };
    expect(() => compileKernel(c.program, options)).toThrow(/QK needs 1 MiB .* beyond the limit of 256 KiB/);
    const state = compileKernel(c.program, { ...options, maxMemoryBytes: 1 << 30 });
    const plan = state.chunking!;
    expect(plan.steps.length).toBeGreaterThan(0);
    for (const region of plan.compiled)
      for (const b of region.state.loops!.buffers)
        expect(b.size * 4).toBeLessThanOrEqual(limits.maxTensorBytes);
    const { inputs, want } = reference(c.program, c.ranks);
    expect(worstError((await execute(state, inputs)).outputs, want)).toBeLessThan(1e-5);
  });

  test('no chunking when the peak is already within budget', () => {
    const program = checkFile('examples/attention.ein');
    const state = compileKernel(program, { ranks: { P: 64, M: 64, E: 8, F: 8 }, maxMemoryBytes: 1 << 30 });
    expect(state.chunking).toBeUndefined();
    expect(state.decisions.find((d) => d.pass === 'chunking')?.choice).toBe('no chunking');
  });

  test.each([
    ['attention', ['p']],
    ['two ranks', ['n', 't']],
  ])(
    '%s: an impossible budget gets a certificate: the smallest peak chunking reaches, and how',
    (name, indices) => {
      const c = CASES[name]!;
      let error: unknown;
      try {
        compileCase(c, 1, 100);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(EinError);
      const text = (error as EinError).format();
      expect(text).toMatch(/--max-memory 100 B cannot be met: the smallest peak any chunking reaches is /);
      const smallest = Number(/reaches is [^(]+\((\d+) B\)/.exec(text)?.[1]);
      expect(text).toContain(`use --max-memory ${smallest} or more`);
      // How: every region that must be chunked, along its own index.
      const how = [...text.matchAll(/chunking (\w+) by \d+ over \S+/g)].map((m) => m[1]);
      expect(new Set(how)).toEqual(new Set(indices));
      // The certificate is tight: its budget compiles.
      expect(compileCase(c, 1, smallest).chunking!.predictedPeakBytes).toBeLessThanOrEqual(smallest);
    },
  );

  test('a kernel that cannot be chunked says why, and names the unchunked peak as the least budget', () => {
    // Every tensor has two axes of rank N: re-binding N for one index would resize the other.
    const program = checkSource(
      `kernel square(A: f32[N, N]) -> C {
  B[i, j] = exp(A[i, j])
  C[i, j] = sum[k] B[i, k] * B[k, j]
}`,
      'square.ein',
    );
    const text = einError(() => compileKernel(program, { ranks: { N: 64 }, maxMemoryBytes: 100 }));
    expect(text).toMatch(
      /square cannot be chunked: no region around the peak has an index that is a plain left-side index/,
    );
    expect(text).toContain('the smallest budget that fits is 16384 B, the unchunked peak');
  });
});
