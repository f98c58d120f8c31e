// Tensors as text, NumPy-style: nested brackets, at most `edge` items at each end of an axis.
import type { Tensor } from '../ir/tensor.js';
import { stridesOf } from '../ir/tensor.js';

const num = (v: number, dtype: Tensor['dtype']) =>
  dtype === 'i32'
    ? String(v)
    : Number.isFinite(v)
      ? v.toPrecision(6).replace(/\.?0+(e|$)/, '$1')
      : String(v).replace('Infinity', 'inf');

export function formatTensor(name: string, t: Tensor, edge = 4): string {
  const strides = stridesOf(t.shape);
  const render = (axis: number, offset: number, indent: string): string => {
    if (axis === t.shape.length) return num(t.data[offset]!, t.dtype);
    const n = t.shape[axis]!;
    const keep =
      n > 2 * edge
        ? [...Array(edge).keys(), -1, ...Array.from({ length: edge }, (_, i) => n - edge + i)]
        : [...Array(n).keys()];
    const parts = keep.map((i) =>
      i < 0 ? '...' : render(axis + 1, offset + i * strides[axis]!, indent + ' '),
    );
    const sep = axis === t.shape.length - 1 ? ', ' : `,\n${indent} `;
    return `[${parts.join(sep)}]`;
  };
  return `${name}: ${t.dtype}[${t.shape.join(', ')}] =\n${render(0, 0, '')}`;
}
