// Tensors as the library exchanges them: the interpreter's row-major `Tensor` ({ dtype, shape, data }),
// built from whatever a caller has at hand — a `{ data, shape }` pair, a typed array whose shape the
// kernel already knows, or nested JavaScript arrays. Bad input is an EinError, like every user error.
import { EinError } from '../frontend/diagnostics.js';
import type { DType } from '../ir/cascade.js';
import { sizeOf, type Tensor } from '../ir/tensor.js';

export type { Tensor } from '../ir/tensor.js';

/** Nested arrays of numbers, `[[1, 2], [3, 4]]`; the shape is read off the nesting. */
export type NestedArray = number | readonly NestedArray[];

/** What `run` and the `ein` template accept for one tensor. */
export type TensorInput =
  | {
      readonly data: Float32Array | Int32Array | readonly number[];
      readonly shape: readonly number[];
      readonly dtype?: DType;
    }
  | Float32Array
  | Int32Array
  | readonly NestedArray[];

const fail = (message: string, hint?: string): never => {
  throw new EinError({ message, hint });
};

/** The shape of nested arrays; ragged nesting is an error naming the tensor. */
export function nestedShape(value: NestedArray, name: string): number[] {
  const shape: number[] = [];
  let level: NestedArray = value;
  while (Array.isArray(level)) {
    shape.push(level.length);
    if (level.length === 0) fail(`${name} has an empty axis`, 'every axis needs at least one element');
    level = level[0]!;
  }
  return shape;
}

function flatten(value: NestedArray, shape: readonly number[], name: string): Float32Array {
  const out = new Float32Array(sizeOf(shape));
  let at = 0;
  const walk = (v: NestedArray, axis: number): void => {
    if (axis === shape.length) {
      if (typeof v !== 'number') fail(`${name} is ragged: it nests deeper than [${shape.join(', ')}]`);
      out[at++] = v as number;
      return;
    }
    if (!Array.isArray(v) || v.length !== shape[axis])
      fail(`${name} is ragged: axis ${axis} should have ${shape[axis]} elements, as its first row has`);
    for (const x of v as readonly NestedArray[]) walk(x, axis + 1);
  };
  walk(value, 0);
  return out;
}

/**
 * One tensor argument as a `Tensor`. `expected` is the shape the kernel was compiled for, when it
 * is known: it lets a bare typed array stand for a tensor of that shape.
 */
export function toTensor(value: TensorInput, name: string, expected?: readonly number[]): Tensor {
  if (value instanceof Float32Array || value instanceof Int32Array) {
    if (!expected)
      return fail(`${name} is a bare typed array, so its shape is unknown`, 'pass { data, shape }');
    if (value.length !== sizeOf(expected))
      fail(`${name} has ${value.length} elements but the kernel expects shape [${expected.join(', ')}]`);
    return { dtype: value instanceof Int32Array ? 'i32' : 'f32', shape: [...expected], data: value };
  }
  if (Array.isArray(value)) {
    const shape = nestedShape(value as NestedArray, name);
    return { dtype: 'f32', shape, data: flatten(value as NestedArray, shape, name) };
  }
  if (typeof value === 'object' && value !== null && 'data' in value && 'shape' in value) {
    const shape = [...value.shape];
    if (shape.some((s) => !Number.isInteger(s) || s < 1))
      fail(`${name} has shape [${shape.join(', ')}]`, 'every axis needs a positive integer size');
    if (value.data.length !== sizeOf(shape))
      fail(
        `${name} has ${value.data.length} elements but its shape [${shape.join(', ')}] holds ${sizeOf(shape)}`,
      );
    const dtype = value.dtype ?? (value.data instanceof Int32Array ? 'i32' : 'f32');
    const data =
      dtype === 'i32'
        ? value.data instanceof Int32Array
          ? value.data
          : Int32Array.from(value.data)
        : value.data instanceof Float32Array
          ? value.data
          : Float32Array.from(value.data);
    return { dtype, shape, data };
  }
  return fail(`${name} is not a tensor`, 'pass { data, shape }, a typed array, or nested arrays of numbers');
}

/** A tensor as nested arrays (`[[1, 2], [3, 4]]`), handy for printing and for comparisons in tests. */
export function toNested(t: Tensor): NestedArray {
  const build = (axis: number, offset: number, stride: number): NestedArray => {
    if (axis === t.shape.length) return t.data[offset]!;
    const inner = stride / t.shape[axis]!;
    return Array.from({ length: t.shape[axis]! }, (_, i) => build(axis + 1, offset + i * inner, inner));
  };
  return build(0, 0, sizeOf(t.shape));
}
