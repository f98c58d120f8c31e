/**
 * Static-shape GEMM specification and its resolved plan: tile, packed layouts, scratch size and
 * the M×N block grid that threads split.
 *
 *   C[m, n] (= or +=) alpha * sum_k A[m, k] * B[k, n]
 *
 * A, B and C live in linear memory at byte offsets with arbitrary non-negative element strides.
 */
import { gemvKind } from './gemm-vector.js';

/** Register tile of the micro-kernel: MR rows × NR columns, K unrolled `kUnroll` times. */
export interface GemmTile {
  mr: number;
  nr: number;
  kUnroll: number;
}

export interface GemmSpec {
  /** Export name of the compute function; the packing function is `${name}_pack`. */
  name: string;
  m: number;
  n: number;
  k: number;
  a: { offset: number; strideM: number; strideK: number };
  b: { offset: number; strideK: number; strideN: number };
  c: { offset: number; strideM: number; strideN: number };
  /** Folded into the packed B panels, so it costs nothing in the inner loop. Default 1. */
  alpha?: number;
  /** `C += ...` instead of `C = ...`. Default false. */
  accumulate?: boolean;
  /** Byte offset (16-aligned) of a scratch region of `gemmScratchBytes(spec)` bytes. */
  scratchOffset: number;
  /** Use `f32x4.relaxed_madd` (needs a host with relaxed SIMD, see features.ts). */
  relaxedSimd?: boolean;
  tile?: Partial<GemmTile>;
  /** Rows per scheduling block, rounded up to a multiple of MR. Default about 64. */
  blockRows?: number;
  /** NR-wide panels per scheduling block. Default about 64 columns' worth. */
  blockPanels?: number;
}

/**
 * Default tiles chosen by V8's budget of 15 xmm registers (design notes §2): 4x8 mul+add holds
 * 8 accumulators + 2 B vectors + 4 A broadcasts + 1 product; 3x12 FMA holds 9 + 3 + 3.
 */
export const DEFAULT_TILE: GemmTile = { mr: 4, nr: 8, kUnroll: 4 };
export const DEFAULT_RELAXED_TILE: GemmTile = { mr: 3, nr: 12, kUnroll: 2 };

export interface GemmPlan {
  name: string;
  m: number;
  n: number;
  k: number;
  tile: GemmTile;
  alpha: number;
  accumulate: boolean;
  relaxedSimd: boolean;
  /** Number of NR-wide panels of packed B; the last one is zero-padded when N % NR != 0. */
  panels: number;
  panelBytes: number;
  packedBOffset: number;
  /** A is copied to a dense [M][K] buffer when its k-stride is not 1. */
  packA: boolean;
  packedAOffset: number;
  /** Where the micro-kernels read A, and its row pitch in bytes (k-stride is then 1). */
  aBase: number;
  aRowBytes: number;
  scratchBytes: number;
  blockRows: number;
  blockPanels: number;
  mBlocks: number;
  nBlocks: number;
  source: Pick<GemmSpec, 'a' | 'b' | 'c'>;
}

const MAX_ADDRESS = 2 ** 32;

function checkCount(what: string, value: number): void {
  if (!Number.isInteger(value) || value < 1)
    throw new Error(`GEMM ${what} must be a positive integer, got ${value}`);
}

function checkStride(what: string, value: number): void {
  if (!Number.isInteger(value) || value < 0)
    throw new Error(`GEMM ${what} must be a non-negative integer (elements), got ${value}`);
}

function checkOffset(what: string, value: number, alignment: number): void {
  if (!Number.isInteger(value) || value < 0 || value % alignment !== 0)
    throw new Error(`GEMM ${what} must be a non-negative multiple of ${alignment} bytes, got ${value}`);
}

/** Highest byte touched by an operand, so offsets that would wrap a 32-bit address are refused. */
function lastByte(offset: number, extents: [number, number], strides: [number, number]): number {
  return offset + 4 * ((extents[0] - 1) * strides[0] + (extents[1] - 1) * strides[1]) + 3;
}

function resolveTile(spec: GemmSpec): GemmTile {
  const base = spec.relaxedSimd ? DEFAULT_RELAXED_TILE : DEFAULT_TILE;
  const tile = { ...base, ...spec.tile };
  if (!Number.isInteger(tile.mr) || tile.mr < 1 || tile.mr > 8)
    throw new Error(`GEMM tile mr must be an integer in [1, 8], got ${tile.mr}`);
  if (!Number.isInteger(tile.nr) || tile.nr < 4 || tile.nr > 16 || tile.nr % 4 !== 0)
    throw new Error(`GEMM tile nr must be 4, 8, 12 or 16, got ${tile.nr}`);
  if (!Number.isInteger(tile.kUnroll) || tile.kUnroll < 1 || tile.kUnroll > 8)
    throw new Error(`GEMM tile kUnroll must be an integer in [1, 8], got ${tile.kUnroll}`);
  return tile;
}

/** Bytes of scratch the kernel of `spec` needs at `spec.scratchOffset`. */
export function gemmScratchBytes(spec: GemmSpec): number {
  return planGemm(spec).scratchBytes;
}

export function planGemm(spec: GemmSpec): GemmPlan {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(spec.name))
    throw new Error(`GEMM name '${spec.name}' is not an identifier`);
  checkCount('m', spec.m);
  checkCount('n', spec.n);
  checkCount('k', spec.k);
  for (const [what, value] of [
    ['a.strideM', spec.a.strideM],
    ['a.strideK', spec.a.strideK],
    ['b.strideK', spec.b.strideK],
    ['b.strideN', spec.b.strideN],
    ['c.strideM', spec.c.strideM],
    ['c.strideN', spec.c.strideN],
  ] as const)
    checkStride(what, value);
  checkOffset('a.offset', spec.a.offset, 4);
  checkOffset('b.offset', spec.b.offset, 4);
  checkOffset('c.offset', spec.c.offset, 4);
  checkOffset('scratchOffset', spec.scratchOffset, 16);
  const alpha = spec.alpha ?? 1;
  if (!Number.isFinite(alpha)) throw new Error(`GEMM alpha must be finite, got ${alpha}`);

  const { m, n, k } = spec;
  const tile = resolveTile(spec);
  const panels = Math.ceil(n / tile.nr);
  const panelBytes = k * tile.nr * 4;
  const packA = spec.a.strideK !== 1;
  const packedBOffset = spec.scratchOffset;
  const packedAOffset = packedBOffset + panels * panelBytes;
  // A matrix-vector product reads its operands in place (gemm-vector.ts): no packed copies.
  const scratchBytes = gemvKind(spec) ? 0 : panels * panelBytes + (packA ? m * k * 4 : 0);

  const limits: [string, number][] = [
    ['A', lastByte(spec.a.offset, [m, k], [spec.a.strideM, spec.a.strideK])],
    ['B', lastByte(spec.b.offset, [k, n], [spec.b.strideK, spec.b.strideN])],
    ['C', lastByte(spec.c.offset, [m, n], [spec.c.strideM, spec.c.strideN])],
    ['scratch', spec.scratchOffset + scratchBytes - 1],
  ];
  for (const [what, last] of limits)
    if (last >= MAX_ADDRESS)
      throw new Error(`GEMM operand ${what} reaches byte ${last}, beyond 32-bit memory`);

  if (spec.blockRows !== undefined) checkCount('blockRows', spec.blockRows);
  if (spec.blockPanels !== undefined) checkCount('blockPanels', spec.blockPanels);
  // Defaults: ~64 rows × ~64 columns, so a block's A rows stay in L2 while each packed B panel
  // is reused by all its row tiles; measured insensitive (±5%) between 32 and 512 rows.
  const blockRows = tile.mr * Math.ceil((spec.blockRows ?? 64) / tile.mr);
  const blockPanels = spec.blockPanels ?? Math.max(1, Math.round(64 / tile.nr));

  return {
    name: spec.name,
    m,
    n,
    k,
    tile,
    alpha,
    accumulate: spec.accumulate ?? false,
    relaxedSimd: spec.relaxedSimd ?? false,
    panels,
    panelBytes,
    packedBOffset,
    packA,
    packedAOffset,
    aBase: packA ? packedAOffset : spec.a.offset,
    aRowBytes: (packA ? k : spec.a.strideM) * 4,
    scratchBytes,
    blockRows,
    blockPanels,
    mBlocks: Math.ceil(m / blockRows),
    nBlocks: Math.ceil(panels / blockPanels),
    source: { a: spec.a, b: spec.b, c: spec.c },
  };
}
