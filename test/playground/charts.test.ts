// The playground's charts and shareable state, in Node: the charts are SVG strings, the state a hash.
import { describe, expect, test } from 'vitest';
import { arenaChartSvg, cosmaChartSvg, trafficChartSvg } from '../../playground/src/memory-chart.js';
import { decodeState, encodeState } from '../../playground/src/share.js';
import type { ScratchpadPlan } from '../../src/passes/cosma/plan.js';
import { compile } from '../../src/index.js';

const count = (svg: string, className: string) => svg.split(`class="${className}"`).length - 1;

describe('charts', () => {
  test('the arena chart has a box per buffer and per worker scratch', async () => {
    const k = await compile(
      'kernel mm(A: f32[M, K], B: f32[K, N]) -> C {\n  C[m, n] = A[m, k] * B[k, n]\n}\n',
      { ranks: { M: 8, K: 8, N: 8 }, threads: 2, target: 'interp' },
    );
    const svg = arenaChartSvg(
      k.report.memory!,
      k.report.kernels.map((x) => x.name),
    );
    expect(svg.startsWith('<svg')).toBe(true);
    expect(count(svg, 'buffer input')).toBe(2);
    expect(count(svg, 'buffer output')).toBe(1);
    const traffic = trafficChartSvg(k.report.kernels);
    expect(count(traffic, 'moved')).toBe(k.report.kernels.length);
    expect(count(traffic, 'bound')).toBe(k.report.kernels.length);
  });

  test('the COSMA chart marks spills and reloads', () => {
    const plan: ScratchpadPlan = {
      method: 'greedy',
      capacity: 1024,
      peakResidentBytes: 1024,
      solver: null,
      traffic: {
        spillBytes: 256,
        reloadBytes: 256,
        nonCompulsoryBytes: 512,
        compulsoryLoadBytes: 512,
        compulsoryStoreBytes: 256,
        compulsoryBytes: 768,
      },
      steps: [
        {
          step: 1,
          operator: 'k1',
          resident: [
            { tensor: 'A', offset: 0, bytes: 256 },
            { tensor: 'T', offset: 256, bytes: 256 },
          ],
          spills: [],
          reloads: [],
          loads: ['A'],
          stores: [],
        },
        {
          step: 2,
          operator: 'k2',
          resident: [{ tensor: 'B', offset: 0, bytes: 768 }],
          spills: ['T'],
          reloads: [],
          loads: ['B'],
          stores: [],
        },
        {
          step: 3,
          operator: 'k3',
          resident: [
            { tensor: 'T', offset: 0, bytes: 256 },
            { tensor: 'Y', offset: 256, bytes: 256 },
          ],
          spills: [],
          reloads: ['T'],
          loads: [],
          stores: ['Y'],
        },
      ],
    };
    const svg = cosmaChartSvg(plan);
    expect(count(svg, 'spill')).toBe(1);
    expect(count(svg, 'reload')).toBe(1);
    expect(count(svg, 'resident')).toBe(4);
    expect(svg).toContain('256 B spilled, 256 B reloaded');
  });

  test('names are escaped', () => {
    const svg = trafficChartSvg([
      {
        name: 'k<1>',
        statements: [],
        tiles: {},
        passes: {},
        flops: 0,
        bytesMoved: { global: 8, scratchpad: 0 },
        lowerBoundBytes: 4,
        lowerBoundFormula: 'a & b',
        scratchpadBytes: 0,
      },
    ]);
    expect(svg).toContain('k&lt;1&gt;');
    expect(svg).toContain('a &amp; b');
  });
});

test('the shareable state survives the URL hash, Unicode included', () => {
  const state = {
    source: 'kernel k(X: f32[N]) -> Y {\n  Y[n] = X[n]  # “quoted” → ok\n}\n',
    kernel: 'k',
    ranks: { N: 4 },
    threads: 2,
    cosmaScratchpad: 4096,
  };
  const hash = encodeState(state);
  expect(hash).toMatch(/^#p=[A-Za-z0-9_-]+$/);
  expect(decodeState(hash)).toEqual({ ...state, scratchpad: undefined });
  expect(decodeState('#p=not*valid')).toBeUndefined();
  expect(decodeState('')).toBeUndefined();
});
