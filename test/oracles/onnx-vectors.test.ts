// Ein against ONNX's own operator test vectors (Debian's libonnx-testdata, data/node/test_*): for each
// case of an operator Ein can express, an equivalent Ein kernel is generated for the case's rank and
// attributes, run through the reference interpreter on the case's inputs, and compared with the
// case's expected outputs. Where an example in examples/ is exactly the operator (softmax over the
// last axis of a 2-D input, layer norm over the last axis with epsilon 1e-5, 2-D matmul) the example
// file itself is run as well.
//
// Attributes (axis, epsilon, axes, keepdims, einsum equation) and the opset are read from each case's
// model.onnx, not hard-coded per case name, so a case whose model changes is followed, not misread.
//
// Tolerance: |got - want| <= 1e-5 * |want| + 1e-6. The 1e-5 is relative; the 1e-6 absolute floor only
// matters for values within 0.1 of zero (layer norm outputs, sums with cancellation), where ONNX's
// float32 intermediates and Ein's float64 accumulation (rounded to f32 once per stored tensor)
// legitimately differ by a few ulps of the operands rather than of the result. The einsum cases hold
// float64 vectors; Ein is f32-only, so their inputs are rounded to f32 first, and their outputs are
// compared with the same tolerance.
//
// Not run:
//  - test_*_expanded: the same vectors as the case without the suffix (byte-identical .pb files), run
//    through ONNX's function expansion of the operator; running them again would test nothing new.
//  - test_gelu_*: not in this package's version of the vectors (Gelu is opset 20).
//  - the cases listed in SKIPPED below, each with why.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { checkFile, checkSource } from '../../src/frontend/index.js';
import { interpret } from '../../src/ir/interpreter.js';
import type { Tensor } from '../../src/ir/tensor.js';
import { onnxTestDataRoot, readOnnxTestCase, type OnnxTensor, type OnnxTestCase } from './onnx-testdata.js';

const testData = onnxTestDataRoot();
if (!testData.ok && process.env.CI) throw new Error(`CI must run the ONNX vector tests. ${testData.reason}`);

const REL_TOLERANCE = 1e-5;
const ABS_FLOOR = 1e-6;

/** Related cases Ein does not run, and why. */
const SKIPPED: Record<string, string> = {
  test_qlinearmatmul_2D:
    'quantized matmul: needs round-half-to-even and saturation to uint8, and Ein has no rounding builtin',
  test_qlinearmatmul_3D:
    'quantized matmul: needs round-half-to-even and saturation to uint8, and Ein has no rounding builtin',
  test_expand_dim_changed:
    "Expand: the output shape comes from the values of an int64 input, and Ein's shapes come only from ranks",
  test_expand_dim_unchanged:
    "Expand: the output shape comes from the values of an int64 input, and Ein's shapes come only from ranks",
};

// ---------------------------------------------------------------------------------------------------
// model.onnx: just enough of onnx.proto to read each node's op type and attributes, and the opset.

const MODEL_PROTO = parse(
  `syntax = "proto2";
  message OperatorSetIdProto { optional string domain = 1; optional int64 version = 2; }
  message AttributeProto {
    optional string name = 1;
    optional float f = 2;
    optional int64 i = 3;
    optional bytes s = 4;
    repeated float floats = 7;
    repeated int64 ints = 8;
    optional int32 type = 20;
  }
  message NodeProto {
    repeated string input = 1;
    repeated string output = 2;
    optional string op_type = 4;
    repeated AttributeProto attribute = 5;
    optional string domain = 7;
  }
  message GraphProto { repeated NodeProto node = 1; }
  message ModelProto {
    optional int64 ir_version = 1;
    optional GraphProto graph = 7;
    repeated OperatorSetIdProto opset_import = 8;
  }`,
  { keepCase: true },
).root.lookupType('ModelProto');

interface OnnxAttribute {
  name: string;
  f?: number;
  i?: number;
  s?: Uint8Array;
  ints?: number[];
}
interface OnnxNode {
  op_type: string;
  attribute?: OnnxAttribute[];
}
interface OnnxModel {
  /** The default-domain opset the model was exported for. */
  opset: number;
  node: OnnxNode;
}

function readModel(folder: string): OnnxModel {
  const message = MODEL_PROTO.decode(readFileSync(join(folder, 'model.onnx')));
  const model = MODEL_PROTO.toObject(message, { longs: Number, arrays: true }) as {
    graph: { node: OnnxNode[] };
    opset_import: { domain?: string; version: number }[];
  };
  const nodes = model.graph.node;
  if (nodes.length !== 1) throw new Error(`${folder}: expected one node, found ${nodes.length}`);
  const opset = model.opset_import.find((o) => !o.domain)?.version;
  if (opset === undefined) throw new Error(`${folder}: no default-domain opset`);
  return { opset, node: nodes[0]! };
}

function attr(node: OnnxNode, name: string): OnnxAttribute | undefined {
  return node.attribute?.find((a) => a.name === name);
}
const intAttr = (node: OnnxNode, name: string, fallback: number): number => attr(node, name)?.i ?? fallback;
const floatAttr = (node: OnnxNode, name: string, fallback: number): number => attr(node, name)?.f ?? fallback;
const stringAttr = (node: OnnxNode, name: string): string | undefined => {
  const s = attr(node, name)?.s;
  return s === undefined ? undefined : Buffer.from(s).toString('utf8');
};

// ---------------------------------------------------------------------------------------------------
// Ein source generation. Axis a of a rank-r input is rank N<a> with index i<a>.

const idx = (axes: readonly number[]): string[] => axes.map((a) => `i${a}`);
const range = (n: number, from = 0): number[] => Array.from({ length: n - from }, (_, k) => from + k);
const shape = (dims: readonly string[]): string => `f32[${dims.join(', ')}]`;
const ranksOf = (axes: readonly number[]): string[] => axes.map((a) => `N${a}`);
/** `T[i, j]`, or `T` for a scalar. */
const ref = (name: string, indices: readonly string[]): string =>
  indices.length ? `${name}[${indices.join(', ')}]` : name;
/** A left side: `T[i, j]`, or `T[]` for a scalar. */
const lhs = (name: string, indices: readonly string[]): string => `${name}[${indices.join(', ')}]`;
/** The product of the ranks of `axes` as an Ein size expression. */
const count = (axes: readonly number[]): string => `(${ranksOf(axes).join(' * ')})`;
/** A float32 attribute as a decimal literal that is exactly its value (0.1 is 0.10000000149011612). */
const literal = (value: number): string => {
  if (!(value >= 0)) throw new Error(`epsilon ${value} is not a non-negative number`);
  return String(value);
};

function normalizeAxis(axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) throw new Error(`axis ${axis} is outside a rank-${rank} tensor`);
  return a;
}

interface Generated {
  source: string;
  kernel: string;
  /** Ein parameter name for each ONNX input, in order (undefined: the input is an attribute-like one). */
  params: (string | undefined)[];
  /** Ein output name for each ONNX output, in order. */
  outputs: string[];
  /** For each output, the ONNX axes that are size 1 in ONNX's shape but absent in Ein's (keepdims). */
  keptAxes?: number[][];
}

function softmax(rank: number, axis: number, log: boolean): Generated {
  const all = idx(range(rank));
  const keep = idx(range(rank).filter((a) => a !== axis));
  const r = `i${axis}`;
  const X = ref('X', all);
  const body = log
    ? [
        `  ${lhs('MX', keep)} = max[${r}] ${X}`,
        `  ${lhs('SX', keep)} = sum[${r}] exp(${X} - ${ref('MX', keep)})`,
        `  ${lhs('Y', all)} = ${X} - ${ref('MX', keep)} - log(${ref('SX', keep)})`,
      ]
    : [
        `  ${lhs('MX', keep)} = max[${r}] ${X}`,
        `  ${lhs('EX', all)} = exp(${X} - ${ref('MX', keep)})`,
        `  ${lhs('SX', keep)} = sum[${r}] ${ref('EX', all)}`,
        `  ${lhs('Y', all)} = ${ref('EX', all)} / ${ref('SX', keep)}`,
      ];
  const name = log ? 'logsoftmax' : 'softmax';
  return {
    source: [`kernel ${name}(X: ${shape(ranksOf(range(rank)))}) -> Y {`, ...body, '}'].join('\n'),
    kernel: name,
    params: ['X'],
    outputs: ['Y'],
  };
}

/** LayerNormalization-17: statistics over axes axis..rank-1; scale and bias have those axes' shape. */
function layerNorm(rank: number, axis: number, epsilon: number): Generated {
  const inner = range(rank, axis);
  const outer = range(axis);
  const all = idx(range(rank));
  const o = idx(outer);
  const n = idx(inner);
  const X = ref('X', all);
  const innerShape = shape(ranksOf(inner));
  return {
    source: [
      `kernel layer_norm(X: ${shape(ranksOf(range(rank)))}, Scale: ${innerShape}, Bias: ${innerShape}) -> (Y, Mean, InvStdDev) {`,
      `  ${lhs('Mean', o)} = (sum[${n.join(', ')}] ${X}) / ${count(inner)}`,
      `  ${lhs('D', all)} = ${X} - ${ref('Mean', o)}`,
      `  ${lhs('Var', o)} = (sum[${n.join(', ')}] ${ref('D', all)} ^ 2) / ${count(inner)}`,
      `  ${lhs('InvStdDev', o)} = rsqrt(${ref('Var', o)} + ${literal(epsilon)})`,
      `  ${lhs('Y', all)} = ${ref('D', all)} * ${ref('InvStdDev', o)} * ${ref('Scale', n)} + ${ref('Bias', n)}`,
      '}',
    ].join('\n'),
    kernel: 'layer_norm',
    params: ['X', 'Scale', 'Bias'],
    outputs: ['Y', 'Mean', 'InvStdDev'],
    keptAxes: [[], inner, inner],
  };
}

/** MatMul of two inputs of the same rank >= 2 whose batch axes agree (no broadcasting). */
function matmul(rank: number): Generated {
  const batch = range(rank - 2);
  const b = idx(batch);
  const B = ranksOf(batch);
  return {
    source: [
      `kernel matmul(A: ${shape([...B, 'M', 'K'])}, B: ${shape([...B, 'K', 'N'])}) -> C {`,
      `  ${lhs('C', [...b, 'm', 'n'])} = ${ref('A', [...b, 'm', 'k'])} * ${ref('B', [...b, 'k', 'n'])}`,
      '}',
    ].join('\n'),
    kernel: 'matmul',
    params: ['A', 'B'],
    outputs: ['C'],
  };
}

/**
 * Einsum-12 as one Ein statement: each equation letter is an index whose rank is the capital letter,
 * so a letter repeated within one operand (a diagonal) is a plain use of one rank on two axes. An
 * ellipsis becomes indices e0, e1, ... (ranks E0, E1, ...), right-aligned; without '->' the output is
 * the letters used once, in alphabetical order (implicit mode).
 */
function einsum(equation: string, inputDims: readonly (readonly number[])[]): Generated {
  const eq = equation.replace(/\s+/g, '');
  const [left, explicit] = eq.split('->') as [string, string | undefined];
  const operands = left.split(',');
  if (operands.length !== inputDims.length) throw new Error(`einsum '${equation}': operand count`);
  const expand = (term: string, rank: number | undefined): string[] => {
    const letters = term.replace('...', '').split('');
    if (!term.includes('...')) return letters;
    const ellipsisRank = rank === undefined ? ellipsisWidth : rank - letters.length;
    const ellipsis = range(ellipsisWidth)
      .slice(ellipsisWidth - ellipsisRank)
      .map((k) => `e${k}`);
    const [before, after] = term.split('...') as [string, string];
    return [...before.split('').filter(Boolean), ...ellipsis, ...after.split('').filter(Boolean)];
  };
  const ellipsisWidth = Math.max(
    0,
    ...operands.map((t, k) => (t.includes('...') ? inputDims[k]!.length - t.replace('...', '').length : 0)),
  );
  const inputs = operands.map((t, k) => expand(t, inputDims[k]!.length));
  let output: string[];
  if (explicit !== undefined) output = expand(explicit, undefined);
  else {
    const uses = new Map<string, number>();
    for (const i of inputs.flat()) uses.set(i, (uses.get(i) ?? 0) + 1);
    const ellipsis = range(ellipsisWidth).map((k) => `e${k}`);
    output = [
      ...ellipsis,
      ...[...uses]
        .filter(([i, n]) => n === 1 && !/^e\d/.test(i))
        .map(([i]) => i)
        .sort(),
    ];
  }
  const names = operands.map((_, k) => `T${k}`);
  const params = inputs.map((ix, k) => `${names[k]}: ${shape(ix.map((i) => i.toUpperCase()))}`);
  return {
    source: [
      `kernel einsum(${params.join(', ')}) -> Y {`,
      `  ${lhs('Y', output)} = ${inputs.map((ix, k) => ref(names[k]!, ix)).join(' * ')}`,
      '}',
    ].join('\n'),
    kernel: 'einsum',
    params: names,
    outputs: ['Y'],
  };
}

type ReduceOp = 'max' | 'sum' | 'mean' | 'sum_square';

/** Reduce*-13 over `axes` (already normalized; empty means identity, for noop_with_empty_axes). */
function reduce(op: ReduceOp, rank: number, axes: readonly number[], keepdims: boolean): Generated {
  const all = idx(range(rank));
  const kept = idx(range(rank).filter((a) => !axes.includes(a)));
  const red = idx(axes).join(', ');
  const X = ref('X', all);
  const rhs =
    axes.length === 0
      ? X
      : op === 'max'
        ? `max[${red}] ${X}`
        : op === 'sum'
          ? `sum[${red}] ${X}`
          : op === 'sum_square'
            ? `sum[${red}] ${X} ^ 2`
            : `(sum[${red}] ${X}) / ${count(axes)}`;
  return {
    source: [
      `kernel reduce(X: ${shape(ranksOf(range(rank)))}) -> Y {`,
      `  ${lhs('Y', kept)} = ${rhs}`,
      '}',
    ].join('\n'),
    kernel: 'reduce',
    params: ['X', undefined],
    outputs: ['Y'],
    keptAxes: [keepdims ? [...axes] : []],
  };
}

const UNARY: Record<string, (x: string) => string> = {
  Relu: (x) => `max(${x}, 0)`,
  Sigmoid: (x) => `sigmoid(${x})`,
  Tanh: (x) => `tanh(${x})`,
  Exp: (x) => `exp(${x})`,
  Log: (x) => `log(${x})`,
  Sqrt: (x) => `sqrt(${x})`,
  Erf: (x) => `erf(${x})`,
};

function unary(op: string, rank: number): Generated {
  const X = ref('X', idx(range(rank)));
  return {
    source: [
      `kernel ${op.toLowerCase()}(X: ${shape(ranksOf(range(rank)))}) -> Y {`,
      `  ${lhs('Y', idx(range(rank)))} = ${UNARY[op]!(X)}`,
      '}',
    ].join('\n'),
    kernel: op.toLowerCase(),
    params: ['X'],
    outputs: ['Y'],
  };
}

/** The Ein kernel equivalent to a case's single node. */
function generate(model: OnnxModel, testCase: OnnxTestCase): Generated {
  const { node, opset } = model;
  const rank = testCase.inputs[0]!.dims.length;
  switch (node.op_type) {
    case 'Softmax':
    case 'LogSoftmax':
      // Before opset 13 Softmax flattened the input to 2-D at `axis` (default 1) and normalized over
      // all trailing axes; since 13 it normalizes over the one axis (default -1), which is what the
      // template computes.
      expect(opset, `${testCase.name}: opset ${opset} softmax coerces to 2-D`).toBeGreaterThanOrEqual(13);
      return softmax(rank, normalizeAxis(intAttr(node, 'axis', -1), rank), node.op_type === 'LogSoftmax');
    case 'LayerNormalization':
      return layerNorm(
        rank,
        normalizeAxis(intAttr(node, 'axis', -1), rank),
        floatAttr(node, 'epsilon', 1e-5),
      );
    case 'MatMul': {
      const [a, b] = testCase.inputs as [OnnxTensor, OnnxTensor];
      expect(a.dims.length, `${testCase.name}: MatMul broadcasting is not generated`).toBe(b.dims.length);
      expect(a.dims.slice(0, -2), `${testCase.name}: MatMul broadcasting is not generated`).toEqual(
        b.dims.slice(0, -2),
      );
      return matmul(rank);
    }
    case 'Einsum':
      return einsum(
        stringAttr(node, 'equation')!,
        testCase.inputs.map((t) => t.dims),
      );
    case 'ReduceMax':
    case 'ReduceMean':
    case 'ReduceSum':
    case 'ReduceSumSquare': {
      const op = (
        { ReduceMax: 'max', ReduceMean: 'mean', ReduceSum: 'sum', ReduceSumSquare: 'sum_square' } as const
      )[node.op_type];
      // ReduceSum-13 takes its axes as an int64 input; the others (before 18) as an attribute.
      const listed =
        node.op_type === 'ReduceSum'
          ? Array.from(testCase.inputs[1]?.data ?? [], Number)
          : (attr(node, 'axes')?.ints ?? []);
      const noop = intAttr(node, 'noop_with_empty_axes', 0) === 1;
      const axes =
        listed.length === 0 ? (noop ? [] : range(rank)) : listed.map((a) => normalizeAxis(a, rank)).sort();
      return reduce(op, rank, axes, intAttr(node, 'keepdims', 1) === 1);
    }
    default:
      if (UNARY[node.op_type]) return unary(node.op_type, rank);
      throw new Error(`${testCase.name}: no Ein template for ${node.op_type}`);
  }
}

// ---------------------------------------------------------------------------------------------------
// Running and comparing.

function toEin(t: OnnxTensor): Tensor {
  if (t.dataType !== 'float' && t.dataType !== 'double')
    throw new Error(`input ${t.name} is ${t.dataType}; Ein's f32 kernels take float inputs`);
  return { dtype: 'f32', shape: t.dims, data: Float32Array.from(t.data as Float32Array | Float64Array) };
}

function expectClose(label: string, got: Tensor, want: OnnxTensor, keptAxes: readonly number[] = []): void {
  // ONNX keeps reduced axes as size 1 (keepdims); Ein's result has no such axes, and the same layout.
  const wantWithoutKept = want.dims.filter((_, a) => !keptAxes.includes(a));
  expect(
    keptAxes.every((a) => want.dims[a] === 1),
    `${label}: kept axes of size 1`,
  ).toBe(true);
  expect([...got.shape], `${label}: shape`).toEqual(wantWithoutKept);
  expect(got.data.length).toBe(want.data.length);
  let worst = { i: -1, excess: 0 };
  for (let i = 0; i < want.data.length; i++) {
    const w = Number(want.data[i]);
    const g = got.data[i]!;
    const bound = REL_TOLERANCE * Math.abs(w) + ABS_FLOOR;
    const excess =
      Number.isNaN(w) || Number.isNaN(g)
        ? Number.isNaN(w) === Number.isNaN(g)
          ? 0
          : Infinity
        : Math.abs(g - w) / bound;
    if (excess > 1 && excess > worst.excess) worst = { i, excess };
  }
  if (worst.i >= 0)
    expect.fail(
      `${label}: element ${worst.i} is ${got.data[worst.i]}, expected ${Number(want.data[worst.i])} ` +
        `(${worst.excess.toFixed(1)}x the tolerance)`,
    );
}

function load(name: string): OnnxTestCase {
  const lookup = readOnnxTestCase(name);
  if (!lookup.ok) throw new Error(lookup.reason);
  return lookup.testCase;
}

function runGenerated(name: string): { generated: Generated; testCase: OnnxTestCase } {
  const testCase = load(name);
  const generated = generate(readModel(testCase.folder), testCase);
  const program = checkSource(generated.source, `${name}.ein`);
  const inputs: Record<string, Tensor> = {};
  generated.params.forEach((p, k) => {
    if (p) inputs[p] = toEin(testCase.inputs[k]!);
  });
  const outputs = interpret(program, generated.kernel, inputs);
  expect(testCase.outputs.length).toBeLessThanOrEqual(generated.outputs.length);
  testCase.outputs.forEach((want, k) =>
    expectClose(`${name} ${want.name}`, outputs[generated.outputs[k]!]!, want, generated.keptAxes?.[k]),
  );
  return { generated, testCase };
}

const EXAMPLES = fileURLToPath(new URL('../../examples/', import.meta.url));

/** Runs examples/<file>.ein on the case's inputs (bound to `params` in order) and compares output 0. */
function runExample(name: string, file: string, params: string[]): void {
  const testCase = load(name);
  const program = checkFile(join(EXAMPLES, `${file}.ein`));
  const kernel = program.kernels[program.kernels.length - 1]!.name;
  const inputs = Object.fromEntries(params.map((p, k) => [p, toEin(testCase.inputs[k]!)]));
  const outputs = interpret(program, kernel, inputs);
  expectClose(`${name} via examples/${file}.ein`, Object.values(outputs)[0]!, testCase.outputs[0]!);
}

// ---------------------------------------------------------------------------------------------------
// The cases.

const CASE_PATTERN =
  /^test_(softmax|logsoftmax|layer_normalization|einsum|matmul|reduce_(max|mean|sum|sum_square)|gelu|relu|sigmoid|tanh|exp|log|sqrt|erf)(_|$)/;

function listCases(): string[] {
  if (!testData.ok) return [];
  return readdirSync(join(testData.root, 'node'))
    .filter((n) => CASE_PATTERN.test(n) && !n.endsWith('_expanded'))
    .sort();
}

/** Whether a case's model uses an op that a template covers (e.g. test_matmulinteger does not). */
function covered(name: string): boolean {
  if (!testData.ok) return false;
  const { node } = readModel(join(testData.root, 'node', name));
  return (
    ['Softmax', 'LogSoftmax', 'LayerNormalization', 'MatMul', 'Einsum'].includes(node.op_type) ||
    /^Reduce(Max|Mean|Sum|SumSquare)$/.test(node.op_type) ||
    node.op_type in UNARY
  );
}

const cases = listCases();

/** Cases an example file computes exactly, with the example's parameter names for the case's inputs. */
const EXAMPLE_CASES: { name: string; file: string; params: string[] }[] = [
  { name: 'test_softmax_example', file: 'softmax', params: ['X'] }, // [1, 3], default axis -1
  { name: 'test_softmax_large_number', file: 'softmax', params: ['X'] }, // [2, 4], default axis -1
  { name: 'test_layer_normalization_2d_axis1', file: 'layernorm', params: ['X', 'g', 'b'] }, // eps 1e-5
  { name: 'test_layer_normalization_2d_axis_negative_1', file: 'layernorm', params: ['X', 'g', 'b'] },
  { name: 'test_matmul_2d', file: 'matmul', params: ['A', 'B'] },
];

describe.skipIf(!testData.ok)(
  `Ein kernels on ONNX operator test vectors${testData.ok ? '' : ` (skipped: ${testData.reason})`}`,
  () => {
    it('finds the operator cases in the package', () => {
      // A guard against a listing that silently finds nothing (a moved or renamed folder).
      for (const name of [
        'test_softmax_axis_0',
        'test_layer_normalization_4d_axis_negative_4',
        'test_einsum_batch_diagonal',
        'test_matmul_4d',
        'test_reduce_mean_keepdims_random',
        'test_erf',
      ])
        expect(cases).toContain(name);
    });

    for (const name of cases) {
      if (SKIPPED[name]) it.skip(`${name}: ${SKIPPED[name]}`, () => {});
      else if (covered(name)) it(name, () => void runGenerated(name));
    }

    for (const { name, file, params } of EXAMPLE_CASES)
      it(`${name} through examples/${file}.ein`, () => {
        // The example must be the case's operator exactly: check the attributes it hard-codes.
        const { node } = readModel(load(name).folder);
        if (node.op_type === 'Softmax') expect([-1, 1]).toContain(intAttr(node, 'axis', -1));
        if (node.op_type === 'LayerNormalization')
          expect(floatAttr(node, 'epsilon', 1e-5)).toBeCloseTo(1e-5, 12);
        runExample(name, file, params);
      });

    for (const [name, reason] of Object.entries(SKIPPED))
      if (!cases.includes(name)) it.skip(`${name}: ${reason}`, () => {});
  },
);
