/**
 * Run by relaxed-simd.test.ts in a child `node --experimental-wasm-relaxed-simd` (vitest's Node 20
 * has no relaxed SIMD): checks the relaxed_madd GEMM kernels and feature detection, and prints
 * one JSON line with the failures.
 */
import { hasRelaxedSimd } from '../../src/backends/wasm/features.js';
import { firstMismatch, runGemmCases, SHAPES, type GemmCase } from './gemm-harness.js';

const failures: string[] = [];
if (!hasRelaxedSimd()) failures.push('hasRelaxedSimd() is false under --experimental-wasm-relaxed-simd');
const plain: GemmCase[] = SHAPES.map(([m, n, k]) => ({ m, n, k, relaxedSimd: true }));
const strided: GemmCase[] = SHAPES.map(([m, n, k]) => ({
  m,
  n,
  k,
  relaxedSimd: true,
  a: { transposed: true },
  b: { transposed: true, pad: 1 },
  accumulate: true,
  alpha: 0.5,
}));
const other: GemmCase[] = [
  { m: 37, n: 41, k: 19, relaxedSimd: true, tile: { mr: 4, nr: 8, kUnroll: 4 } },
  { m: 37, n: 41, k: 19, relaxedSimd: true, c: { transposed: true } },
];
let checked = 0;
for (const [cases, threads] of [
  [plain, 0],
  [strided, 0],
  [other, 2],
] as const) {
  const runs = await runGemmCases([...cases], threads);
  runs.forEach((run, index) => {
    const bad = firstMismatch(run);
    if (bad >= 0)
      failures.push(
        `${JSON.stringify(cases[index])}: element ${bad} = ${run.actual[bad]}, expected ${run.expected[bad]}`,
      );
    checked++;
  });
}
console.log(JSON.stringify({ checked, failures }));
