// AutoChunk (the `chunking` pass) end to end: a long-sequence attention (the 3-pass cascade, which
// materializes the score matrix) and an MLP whose hidden activations cross kernels are brought
// under a budget a fifth of their unchunked peak; the chunked WASM run equals the interpreter, and
// the predicted peak is within 5% of the bytes the run really touched. Sizes are scaled down from
// the benchmark's sequence of 16,384 (bench/memory.ts), with a proportionally small fusion
// scratchpad so the intermediates still cross kernels.
import { describe, expect, test } from 'vitest';
import { EinError } from '../../src/frontend/diagnostics.js';
import { checkFile } from '../../src/frontend/index.js';
import { chunkDimensions } from '../../src/passes/chunk-candidates.js';
import { compileKernel } from '../../src/passes/pipeline.js';
import { execute, reference, worstError } from './support.js';

const CASES: [string, Record<string, number>, number][] = [
  // name, ranks, fusion scratchpad (bytes per workgroup)
  ['attention', { P: 512, M: 512, E: 8, F: 8 }, 1024],
  ['mlp', { T: 512, D: 16, H: 128 }, 256],
];

describe('AutoChunk', () => {
  test.each(CASES)(
    '%s %o: under a budget of 1/5 of the peak, equal to the interpreter, predicted = measured ±5%%',
    async (name, ranks, kernelScratchpad) => {
      const program = checkFile(`examples/${name}.ein`);
      const { inputs, want } = reference(program, ranks);
      for (const threads of [1, 2]) {
        const options = { ranks, threads, scratchpadBytes: kernelScratchpad, online: 'off' as const };
        const unchunked = compileKernel(program, options);
        const budget = Math.floor(unchunked.memory!.peakBytes / 5);
        const chunked = compileKernel(program, { ...options, maxMemoryBytes: budget });
        const plan = chunked.chunking!;
        expect(plan.unchunkedPeakBytes).toBe(unchunked.memory!.peakBytes);
        expect(plan.predictedPeakBytes).toBeLessThanOrEqual(budget);
        expect(plan.predictedPeakBytes).toBe(chunked.memory!.peakBytes);
        const before = await execute(unchunked, inputs, threads);
        const after = await execute(chunked, inputs, threads);
        expect(worstError(after.outputs, want)).toBeLessThan(1e-5);
        expect(worstError(before.outputs, want)).toBeLessThan(1e-5);
        // Measured: intermediate bytes the chunked run wrote (global intermediates + worker scratch).
        expect(Math.abs(after.touchedBytes - plan.predictedPeakBytes) / plan.predictedPeakBytes).toBeLessThan(
          0.05,
        );
        expect(after.touchedBytes).toBeLessThan(before.touchedBytes / 5);
      }
    },
  );

  test('finds the unreduced index and rejects ranks used as values', () => {
    const attention = checkFile('examples/attention.ein').kernels[0]!;
    expect(chunkDimensions(attention).map((d) => [d.index, d.rank])).toEqual([['p', 'P']]);
    expect(chunkDimensions(attention)[0]!.axes).toEqual({ Q: 0, K: -1, V: -1, AV: 0 });
    const mlp = checkFile('examples/mlp.ein').kernels[0]!;
    expect(chunkDimensions(mlp).map((d) => d.index)).toEqual(['t']);
    // causal attention uses P in the mask (m <= p + M - P): chunks are not independent copies.
    expect(chunkDimensions(checkFile('examples/causal_attention.ein').kernels[0]!)).toEqual([]);
  });

  test('no chunking when the peak is already within budget', () => {
    const program = checkFile('examples/attention.ein');
    const state = compileKernel(program, { ranks: { P: 64, M: 64, E: 8, F: 8 }, maxMemoryBytes: 1 << 30 });
    expect(state.chunking).toBeUndefined();
    expect(state.decisions.find((d) => d.pass === 'chunking')?.choice).toBe('no chunking');
  });

  test('an impossible budget gets a certificate: the smallest budget chunking reaches, and how', () => {
    const program = checkFile('examples/attention.ein');
    const compile = (maxMemoryBytes: number) =>
      compileKernel(program, {
        ranks: { P: 512, M: 512, E: 8, F: 8 },
        scratchpadBytes: 1024,
        online: 'off',
        maxMemoryBytes,
      });
    let error: unknown;
    try {
      compile(100);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(EinError);
    const text = (error as EinError).format();
    const smallest = Number(/reaches is [^(]+\((\d+) B\)/.exec(text)?.[1]);
    expect(text).toMatch(
      /--max-memory 100 B cannot be met: the smallest peak any chunking reaches is .* chunking p by 1/,
    );
    expect(text).toContain(`use --max-memory ${smallest} or more`);
    // The certificate is tight: its budget compiles.
    expect(compile(smallest).chunking?.predictedPeakBytes).toBeLessThanOrEqual(smallest);
  });

  test('a kernel that cannot be chunked says why', () => {
    const program = checkFile('examples/causal_attention.ein');
    expect(() =>
      compileKernel(program, {
        ranks: { P: 256, M: 256, E: 4, F: 4 },
        scratchpadBytes: 256,
        online: 'off',
        maxMemoryBytes: 1000,
      }),
    ).toThrow(/cannot be chunked: no index is a plain left-side index of every Einsum/);
  });
});
