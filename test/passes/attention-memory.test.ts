// The FuseMax story as a test (issue: the pass pipeline): at P = M = 4096, E = F = 64, the 3-pass
// attention keeps the whole score matrix alive (≥ 64 MiB), while its 1-pass form streams the keys and
// needs under 1 MiB, a peak that does not grow with the sequence.
import { describe, expect, test } from 'vitest';
import { checkFile } from '../../src/frontend/index.js';
import { compileKernel } from '../../src/passes/pipeline.js';

const MiB = 1024 * 1024;
const ranks = (n: number) => ({ P: n, M: n, E: 64, F: 64 });

describe('attention memory at sequence 4096', () => {
  test('without the 1-pass form the score matrix is materialized', () => {
    const state = compileKernel(checkFile('examples/attention.ein'), { ranks: ranks(4096), online: 'off' });
    expect(state.memory!.peakBytes).toBeGreaterThanOrEqual(64 * MiB);
  });

  test('with the online rewrite the peak is under 1 MiB, and no higher at twice the length', () => {
    const program = checkFile('examples/attention.ein');
    const rewritten = compileKernel(program, { ranks: ranks(4096) });
    expect(rewritten.passcount!.before.find((r) => r.rank === 'M')!.passes).toBe(3);
    expect(rewritten.passcount!.after!.find((r) => r.rank === 'M')!.passes).toBe(1);
    expect(rewritten.loops!.kernels).toHaveLength(1);
    const at4k = rewritten.memory!.peakBytes;
    const at8k = compileKernel(program, { ranks: ranks(8192) }).memory!.peakBytes;
    expect(at4k).toBeLessThanOrEqual(MiB);
    expect(at8k).toBeLessThanOrEqual(2 * at4k);
  });

  test('the hand-written 1-pass form (FuseMax Cascade 5) peaks under 1 MiB too', () => {
    const program = checkFile('examples/attention_1pass.ein');
    const at4k = compileKernel(program, { ranks: ranks(4096) }).memory!.peakBytes;
    const at8k = compileKernel(program, { ranks: ranks(8192) }).memory!.peakBytes;
    expect(at4k).toBeLessThanOrEqual(MiB);
    expect(at8k).toBeLessThanOrEqual(2 * at4k);
  });
});
