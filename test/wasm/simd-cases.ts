/**
 * Shared by the SIMD tests: examples at sizes that leave every vector tail non-empty (primes,
 * non-multiples of 4 and 16), run on the WASM backend and compared with the interpreter.
 */
import { buildWasmProgram } from '../../src/backends/wasm/program.js';
import { WasmRunner } from '../../src/backends/wasm/runner.js';
import { checkFile, checkSource } from '../../src/frontend/index.js';
import { bindKernel } from '../../src/ir/bind.js';
import { interpret } from '../../src/ir/interpreter.js';
import { randomInputs } from '../../src/ir/random-inputs.js';
import { compileKernel } from '../../src/passes/pipeline.js';
import { worstOutputError } from '../support/compare.js';

export const SIMD_CASES: [string, Record<string, number>][] = [
  ['softmax', { R: 5, C: 83 }],
  ['layernorm', { T: 4, D: 131 }],
  ['rmsnorm', { T: 3, D: 77 }],
  ['mlp', { T: 7, D: 21, H: 53 }],
  ['attention', { P: 11, M: 53, E: 67, F: 19 }],
  ['attention_1pass', { P: 10, M: 36, E: 21, F: 35 }],
  ['causal_attention', { P: 29, M: 61, E: 23, F: 37 }],
  ['causal_attention', { P: 130, M: 130, E: 64, F: 64 }],
];

/** Causal attention with a head index, as the benchmark writes it. */
export const HEADED_CAUSAL = `kernel causal_mha(Q: f32[H, P, E], K: f32[H, M, E], V: f32[H, M, F]) -> AV {
  S[h, p, m] = Q[h, p, e] * K[h, m, e] / sqrt(E)
  QK[h, p, m] = where(m <= p + M - P, S[h, p, m], -inf)
  GM[h, p] = max[m] QK[h, p, m]
  SN[h, p, m] = exp(QK[h, p, m] - GM[h, p])
  SD[h, p] = sum[m] SN[h, p, m]
  AV[h, p, f] = SN[h, p, m] * V[h, m, f] / SD[h, p]
}
`;

/** Largest |wasm − interpreter| / max(1, |interpreter|) over all outputs. */
export async function simdError(
  source: { example: string } | { text: string },
  ranks: Record<string, number>,
  threads: number,
  relaxedSimd: boolean,
): Promise<number> {
  const program =
    'example' in source ? checkFile(`examples/${source.example}.ein`) : checkSource(source.text, 't.ein');
  const kernel = program.kernels[program.kernels.length - 1]!.name;
  const inputs = randomInputs(bindKernel(program, kernel, { ranks }), 9);
  const want = interpret(program, kernel, inputs, { ranks });
  const runner = await WasmRunner.create(
    buildWasmProgram(compileKernel(program, { ranks, threads }), { threads, relaxedSimd }),
  );
  try {
    return worstOutputError(runner.run(inputs), want);
  } finally {
    await runner.close();
  }
}
