import { describe, expect, it } from 'vitest';
import { analyzeGraph, type OperatorGraph } from '../../src/passes/cosma/graph.js';

const tensor = (name: string, kind: 'input' | 'intermediate' | 'output', bytes = 1) => ({
  name,
  kind,
  bytes,
});

describe('analyzeGraph', () => {
  it.each<[string, OperatorGraph, RegExp]>([
    ['no operators', { tensors: [], operators: [] }, /has no operators/],
    [
      'bad size',
      { tensors: [tensor('x', 'input', 0)], operators: [{ name: 'f', inputs: ['x'], outputs: [] }] },
      /"x" has size 0/,
    ],
    [
      'undeclared tensor',
      { tensors: [tensor('y', 'output')], operators: [{ name: 'f', inputs: ['x'], outputs: ['y'] }] },
      /"f" uses undeclared tensor "x"/,
    ],
    [
      'two producers',
      {
        tensors: [tensor('y', 'output')],
        operators: [
          { name: 'f', inputs: [], outputs: ['y'] },
          { name: 'g', inputs: [], outputs: ['y'] },
        ],
      },
      /"y" is produced by both "f" and "g"/,
    ],
    [
      'unread input',
      {
        tensors: [tensor('x', 'input'), tensor('y', 'output')],
        operators: [{ name: 'f', inputs: [], outputs: ['y'] }],
      },
      /input tensor "x" is not read by any operator/,
    ],
    [
      'cycle',
      {
        tensors: [tensor('a', 'intermediate'), tensor('b', 'intermediate')],
        operators: [
          { name: 'f', inputs: ['b'], outputs: ['a'] },
          { name: 'g', inputs: ['a'], outputs: ['b'] },
        ],
      },
      /has a cycle: (f -> g -> f|g -> f -> g)/,
    ],
  ])('rejects %s with a clear message', (_, graph, message) => {
    expect(() => analyzeGraph(graph)).toThrow(message);
  });
});
