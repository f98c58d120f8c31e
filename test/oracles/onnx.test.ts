import { describe, expect, it } from 'vitest';
import { onnxTestDataRoot, readOnnxTestCase, type OnnxTestCase } from './onnx-testdata.js';

const testData = onnxTestDataRoot();
if (!testData.ok && process.env.CI) throw new Error(`CI must run the ONNX oracle tests. ${testData.reason}`);

function load(name: string): OnnxTestCase {
  const lookup = readOnnxTestCase(name);
  if (!lookup.ok) throw new Error(lookup.reason);
  return lookup.testCase;
}

function softmax(row: ArrayLike<number>): number[] {
  const max = Math.max(...Array.from(row));
  const exps = Array.from(row, (v) => Math.exp(v - max));
  const sum = exps.reduce((s, v) => s + v, 0);
  return exps.map((v) => v / sum);
}

describe.skipIf(!testData.ok)(
  `ONNX operator test vectors${testData.ok ? '' : ` (skipped: ${testData.reason})`}`,
  () => {
    it('reads test_softmax_axis_1: float input and output that agree with softmax over the last axes', () => {
      const { inputs, outputs } = load('test_softmax_axis_1');
      expect(inputs).toHaveLength(1);
      expect(outputs).toHaveLength(1);
      const [x] = inputs;
      const [y] = outputs;
      expect(x).toMatchObject({ name: 'x', dims: [3, 4, 5], dataType: 'float' });
      expect(y.dims).toEqual([3, 4, 5]);
      // Softmax-13 with axis=1 normalizes each [4,5] slice along axis 1 only.
      const [d0, d1, d2] = x.dims;
      for (let i = 0; i < d0; i++)
        for (let k = 0; k < d2; k++) {
          const offsets = Array.from({ length: d1 }, (_, j) => (i * d1 + j) * d2 + k);
          const expected = softmax(offsets.map((o) => Number(x.data[o])));
          offsets.forEach((o, j) => expect(Number(y.data[o])).toBeCloseTo(expected[j], 6));
        }
    });

    it('reads every input of a multi-input case, in order', () => {
      const { inputs, outputs } = load('test_einsum_batch_matmul');
      expect(inputs.map((t) => t.dims)).toEqual([
        [5, 2, 3],
        [5, 3, 4],
      ]);
      expect(outputs[0].dims).toEqual([5, 2, 4]);
      expect(outputs[0].data).toBeInstanceOf(Float64Array);
    });

    it('throws for a case name the package does not have', () => {
      expect(() => readOnnxTestCase('test_no_such_operator')).toThrow(/no ONNX test case/);
    });
  },
);
