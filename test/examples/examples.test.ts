// Every example against an independent oracle (test/examples/oracles.ts), at several sizes including
// 1 and primes, through the same path `ein run --target interp` takes.
import { describe, expect, test } from 'vitest';
import { checkFile } from '../../src/frontend/index.js';
import { interpret } from '../../src/ir/interpreter.js';
import { seededRandom, type Tensor } from '../../src/ir/tensor.js';
import * as oracle from './oracles.js';

const random = seededRandom(7);
const f32 = (...shape: number[]): Tensor => ({
  dtype: 'f32',
  shape,
  data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => random() * 2 - 1),
});

function run(example: string, inputs: Record<string, Tensor>, ranks: Record<string, number> = {}) {
  const program = checkFile(`examples/${example}.ein`);
  return interpret(program, program.kernels[program.kernels.length - 1]!.name, inputs, { ranks });
}

function expectClose(actual: Float32Array | Int32Array, expected: Float32Array, tolerance = 1e-5) {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const scale = Math.max(1, Math.abs(expected[i]!));
    if (!(Math.abs(actual[i]! - expected[i]!) <= tolerance * scale))
      expect.fail(`element ${i}: got ${actual[i]}, expected ${expected[i]}`);
  }
}

describe('examples equal their oracles', () => {
  test.each([
    [1, 1, 1],
    [3, 5, 7],
    [13, 8, 11],
  ])('matmul %i×%i×%i', (M, K, N) => {
    const A = f32(M, K);
    const B = f32(K, N);
    expectClose(
      run('matmul', { A, B }).C!.data,
      oracle.matmul(A.data as Float32Array, B.data as Float32Array, M, K, N),
    );
  });

  test.each([
    [1, 1],
    [4, 17],
  ])('softmax %i×%i', (R, C) => {
    const X = f32(R, C);
    expectClose(run('softmax', { X }).Y!.data, oracle.softmaxRows(X.data as Float32Array, R, C));
  });

  test.each([
    [1, 2],
    [5, 31],
  ])('layernorm %i×%i', (T, D) => {
    const [X, g, b] = [f32(T, D), f32(D), f32(D)];
    expectClose(
      run('layernorm', { X, g, b }).Y!.data,
      oracle.layernorm(
        ...([X, g, b].map((t) => t.data) as oracle.F[] as [oracle.F, oracle.F, oracle.F]),
        T,
        D,
      ),
      1e-4,
    );
  });

  test.each([
    [1, 1],
    [3, 64],
  ])('rmsnorm %i×%i', (T, D) => {
    const [X, w] = [f32(T, D), f32(D)];
    expectClose(
      run('rmsnorm', { X, w }).Y!.data,
      oracle.rmsnorm(X.data as oracle.F, w.data as oracle.F, T, D),
      1e-4,
    );
  });

  test.each([
    [1, 1, 1],
    [3, 8, 13],
  ])('mlp T=%i D=%i H=%i', (T, D, H) => {
    const [X, W1, b1, W2, b2] = [f32(T, D), f32(D, H), f32(H), f32(H, D), f32(D)];
    const d = (t: Tensor) => t.data as oracle.F;
    expectClose(
      run('mlp', { X, W1, b1, W2, b2 }).Y!.data,
      oracle.mlp(d(X), d(W1), d(b1), d(W2), d(b2), T, D, H),
      1e-4,
    );
  });

  test.each([
    [1, 1, 1, 1],
    [2, 11, 3, 4],
  ])('conv1d I=%i L=%i O=%i R=%i', (I, L, O, R) => {
    const [X, W] = [f32(I, L), f32(O, I, R)];
    const Y = run('conv1d', { X, W }, { O }).Y!;
    expect(Y.shape).toEqual([O, L - R + 1]);
    expectClose(Y.data, oracle.conv1d(X.data as oracle.F, W.data as oracle.F, I, L, O, R));
  });

  test.each([
    [1, 1, 1, 1],
    [3, 7, 5, 2],
    [4, 12, 8, 8],
  ])('attention P=%i M=%i E=%i F=%i, 3-pass and causal', (P, M, E, Fd) => {
    const [Q, K, V] = [f32(P, E), f32(M, E), f32(M, Fd)];
    const d = (t: Tensor) => t.data as oracle.F;
    expectClose(run('attention', { Q, K, V }).AV!.data, oracle.attention(d(Q), d(K), d(V), P, M, E, Fd));
    if (P <= M)
      expectClose(
        run('causal_attention', { Q, K, V }).AV!.data,
        oracle.attention(d(Q), d(K), d(V), P, M, E, Fd, true),
      );
  });

  test.each([
    [1, 4, 1, 1],
    [3, 12, 5, 2],
    [5, 32, 8, 3],
  ])('attention_1pass P=%i M=%i E=%i F=%i (M0 = 4)', (P, M, E, Fd) => {
    const [Q, K, V] = [f32(P, E), f32(M, E), f32(M, Fd)];
    const d = (t: Tensor) => t.data as oracle.F;
    expectClose(
      run('attention_1pass', { Q, K, V }).AV!.data,
      oracle.attention(d(Q), d(K), d(V), P, M, E, Fd),
    );
  });

  test('attention_1pass needs M to be a multiple of M0', () => {
    expect(() => run('attention_1pass', { Q: f32(2, 3), K: f32(6, 3), V: f32(6, 2) })).toThrow(
      /does not divide evenly/,
    );
  });
});
