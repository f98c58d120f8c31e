import {
  addGemm,
  runGemm,
  runGemmSerial,
  type GemmKernel,
  type GemmSpec,
} from '../../src/backends/wasm/gemm.js';
import { gemmScratchBytes } from '../../src/backends/wasm/gemm-plan.js';
import { buildKernelModule, createKernelMemory } from '../../src/backends/wasm/kernel-module.js';
import { WasmThreadPool } from '../../src/backends/wasm/threads.js';
import { seededFloats } from '../../src/ir/tensor.js';

/** How one operand is laid out: row-major in its own index order, transposed, or with padding. */
export interface OperandLayout {
  transposed?: boolean;
  /** Extra elements between rows (or columns when transposed), to test non-dense strides. */
  pad?: number;
}

export interface GemmCase {
  m: number;
  n: number;
  k: number;
  a?: OperandLayout;
  b?: OperandLayout;
  c?: OperandLayout;
  alpha?: number;
  accumulate?: boolean;
  relaxedSimd?: boolean;
  tile?: GemmSpec['tile'];
  blockRows?: number;
  blockPanels?: number;
}

interface Placed {
  offset: number;
  strides: [number, number];
  elements: number;
}

/** Places a rows×cols matrix at `offset` (bytes) with the layout's strides. */
function place(offset: number, rows: number, cols: number, layout: OperandLayout = {}): Placed {
  const pad = layout.pad ?? 0;
  const strides: [number, number] = layout.transposed ? [1, rows + pad] : [cols + pad, 1];
  const elements = layout.transposed ? cols * (rows + pad) : rows * (cols + pad);
  return { offset, strides, elements };
}

const align16 = (bytes: number) => Math.ceil(bytes / 16) * 16;

export interface GemmRun {
  actual: Float32Array;
  expected: Float64Array;
  /** Per-element bound: 2·K·eps·Σ|alpha·a·b| plus the accumulated C term, a forward error bound. */
  tolerance: Float64Array;
}

interface PlacedCase {
  testCase: GemmCase;
  spec: GemmSpec;
  a: Placed;
  b: Placed;
  c: Placed;
  kernel?: GemmKernel;
  initialC?: Float32Array;
}

/** Lays out the operands and scratch of `testCase` from byte `base`; returns the next free byte. */
function placeCase(testCase: GemmCase, name: string, base: number): [PlacedCase, number] {
  const { m, n, k } = testCase;
  const a = place(base, m, k, testCase.a);
  const b = place(align16(a.offset + a.elements * 4), k, n, testCase.b);
  const c = place(align16(b.offset + b.elements * 4), m, n, testCase.c);
  const scratchOffset = align16(c.offset + c.elements * 4);
  const spec: GemmSpec = {
    name,
    m,
    n,
    k,
    a: { offset: a.offset, strideM: a.strides[0], strideK: a.strides[1] },
    b: { offset: b.offset, strideK: b.strides[0], strideN: b.strides[1] },
    c: { offset: c.offset, strideM: c.strides[0], strideN: c.strides[1] },
    alpha: testCase.alpha,
    accumulate: testCase.accumulate,
    relaxedSimd: testCase.relaxedSimd,
    tile: testCase.tile,
    blockRows: testCase.blockRows,
    blockPanels: testCase.blockPanels,
    scratchOffset,
  };
  return [{ testCase, spec, a, b, c }, align16(scratchOffset + gemmScratchBytes(spec))];
}

/**
 * Builds all `cases` as kernels of ONE module (as the code generator will), runs them on
 * `threads` pool threads (0: plain instance, no pool), and returns each result with its oracle.
 */
export async function runGemmCases(cases: GemmCase[], threads = 0, seed = 1): Promise<GemmRun[]> {
  const placed: PlacedCase[] = [];
  let next = 0;
  for (const [index, testCase] of cases.entries()) {
    const [entry, end] = placeCase(testCase, `gemm${index}`, next);
    placed.push(entry);
    next = end;
  }
  const options = {
    memoryPages: Math.ceil(next / 65536) + 1,
    relaxedSimd: cases.some((testCase) => testCase.relaxedSimd),
    shared: threads > 0,
  };
  const bytes = buildKernelModule(options, (mod) => {
    for (const entry of placed) entry.kernel = addGemm(mod, entry.spec);
  });
  const memory = createKernelMemory(options);
  const heap = new Float32Array(memory.buffer);
  for (const [index, { a, b, c }] of placed.entries()) {
    heap.set(seededFloats(a.elements, seed + 3 * index), a.offset / 4);
    heap.set(seededFloats(b.elements, seed + 3 * index + 1), b.offset / 4);
    heap.set(seededFloats(c.elements, seed + 3 * index + 2), c.offset / 4);
    placed[index].initialC = heap.slice(c.offset / 4, c.offset / 4 + c.elements);
  }

  const module = new WebAssembly.Module(bytes);
  const kernels = placed.map((entry) => entry.kernel as GemmKernel);
  if (threads > 0) {
    const pool = await WasmThreadPool.create({ module, memory, threads });
    try {
      for (const kernel of kernels) runGemm(pool, kernel);
    } finally {
      await pool.close();
    }
  } else {
    const instance = new WebAssembly.Instance(module, { env: { memory } });
    for (const kernel of kernels) runGemmSerial(instance.exports, kernel);
  }
  return placed.map((entry) => oracle(entry, heap));
}

/** Builds and runs a single case; see runGemmCases. */
export async function runGemmCase(testCase: GemmCase, threads = 0, seed = 1): Promise<GemmRun> {
  const [run] = await runGemmCases([testCase], threads, seed);
  return run;
}

function oracle({ testCase, a, b, c, initialC }: PlacedCase, heap: Float32Array): GemmRun {
  const { m, n, k } = testCase;
  const alpha = testCase.alpha ?? 1;
  const at = (p: Placed, i: number, j: number) => heap[p.offset / 4 + i * p.strides[0] + j * p.strides[1]];
  const actual = new Float32Array(m * n);
  const expected = new Float64Array(m * n);
  const tolerance = new Float64Array(m * n);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let sum = 0;
      let magnitude = 0;
      for (let p = 0; p < k; p++) {
        const product = at(a, i, p) * at(b, p, j);
        sum += product;
        magnitude += Math.abs(product);
      }
      const before = (initialC as Float32Array)[i * c.strides[0] + j * c.strides[1]];
      const base = testCase.accumulate ? before : 0;
      expected[i * n + j] = base + alpha * sum;
      tolerance[i * n + j] = 2 * (k + 2) * 2 ** -23 * (Math.abs(alpha) * magnitude + Math.abs(base)) + 1e-30;
      actual[i * n + j] = at(c, i, j);
    }
  return { actual, expected, tolerance };
}

/** Index of the first element outside its tolerance, or -1. */
export function firstMismatch(run: GemmRun): number {
  for (let i = 0; i < run.actual.length; i++)
    if (!(Math.abs(run.actual[i] - run.expected[i]) <= run.tolerance[i])) return i;
  return -1;
}

/** The shapes every variant is checked on: 1, primes, and non-multiples of every tile. */
export const SHAPES: [number, number, number][] = [
  [1, 1, 1],
  [1, 7, 3],
  [5, 1, 2],
  [2, 3, 1],
  [3, 12, 2],
  [4, 8, 4],
  [7, 13, 11],
  [13, 17, 5],
  [17, 31, 23],
  [31, 29, 37],
  [64, 64, 64],
  [67, 71, 9],
  [97, 101, 103],
];
