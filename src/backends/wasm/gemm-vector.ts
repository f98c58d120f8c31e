import binaryen from 'binaryen';
import { addItemRangeFunction, FunctionLocals } from './function-locals.js';
import type { GemmSpec } from './gemm-plan.js';
import { relaxedMaddF32x4 } from './relaxed-simd.js';

/**
 * Matrix-vector products (one side of the GEMM has a single row or column), which the blocked GEMM
 * serves badly: its packing phase reads the whole matrix, writes a copy and reads that again, three
 * times the traffic of a product that is bound by reading the matrix once (a decode step's weights).
 * Here every matrix element is loaded once, straight from where it lives, in long sequential runs
 * that the hardware prefetcher follows, with no scratch (the two forms of XNNPACK's f32-gemv):
 *
 *  - `row`:    C[0, n] = alpha Σ_k a[k] B[k, n], B's rows and C contiguous. An item is a quarter of
 *              the columns (ROW_ITEMS blocks, enough to balance two threads); four rows of B at a
 *              time are added into C's block, which stays in L1, so each row of B is read as a
 *              run of a quarter row.
 *  - `column`: C[m, 0] = alpha Σ_k A[m, k] b[k], A's rows and b contiguous. An item is one row of A,
 *              read straight through as a dot product with b in four vector accumulators.
 *  - `dots`:   C[0, n] = alpha Σ_k a[k] B[k, n] with B's COLUMNS contiguous ([out, in] weights):
 *              the column form on Bᵀ, an item per column of B.
 * The dot-product forms read one long run per item and keep the matrix stream apart from C; on a
 * decode step they reach the streaming-read bandwidth where the row form reaches about half of it.
 */
export type GemvKind = 'row' | 'column' | 'dots';

/** Column blocks of the row form: few and wide, so each row of B is read in long runs. */
const ROW_ITEMS = 4;
const ROW_UNROLL = 4;

/** Columns of each block of the row form (a multiple of 4; the last block may be narrower). */
const blockColumns = (n: number) => 4 * Math.ceil(n / (4 * ROW_ITEMS));
const DOT_VECTORS = 4;

/** The matrix-vector form that serves `spec` with vector loads, if any. */
export function gemvKind(spec: Pick<GemmSpec, 'm' | 'n' | 'k' | 'a' | 'b' | 'c'>): GemvKind | undefined {
  if (spec.m === 1 && spec.n % 4 === 0 && spec.b.strideN === 1 && spec.c.strideN === 1) return 'row';
  if (spec.n === 1 && spec.k % 4 === 0 && spec.a.strideK === 1 && spec.b.strideK === 1) return 'column';
  if (spec.m === 1 && spec.k % 4 === 0 && spec.a.strideK === 1 && spec.b.strideK === 1) return 'dots';
  return undefined;
}

/** Work items of the GEMV's one phase: column blocks (`row`) or rows (`column`). */
export function gemvItems(spec: Pick<GemmSpec, 'm' | 'n'>, kind: GemvKind): number {
  return kind === 'row' ? Math.ceil(spec.n / blockColumns(spec.n)) : kind === 'column' ? spec.m : spec.n;
}

interface Builder {
  readonly mod: binaryen.Module;
  readonly locals: FunctionLocals;
  readonly spec: GemmSpec;
  readonly item: number;
  i32(index: number): binaryen.ExpressionRef;
  v128(index: number): binaryen.ExpressionRef;
  constant(value: number): binaryen.ExpressionRef;
  /** x·y + z (relaxed multiply-add when the spec allows it). */
  madd(
    x: binaryen.ExpressionRef,
    y: binaryen.ExpressionRef,
    z: binaryen.ExpressionRef,
  ): binaryen.ExpressionRef;
  bump(local: number, bytes: number): binaryen.ExpressionRef;
  /** `count` (≥ 1) iterations of `body` under a unique label. */
  repeat(
    label: string,
    count: binaryen.ExpressionRef,
    body: binaryen.ExpressionRef[],
  ): binaryen.ExpressionRef;
}

/** Adds the exported function `spec.name(itemStart, itemEnd)`. */
export function addGemv(mod: binaryen.Module, spec: GemmSpec, kind: GemvKind): void {
  const locals = new FunctionLocals(2);
  const item = locals.add(binaryen.i32);
  const i32 = (index: number) => mod.local.get(index, binaryen.i32);
  const constant = (value: number) => mod.i32.const(value);
  const b: Builder = {
    mod,
    locals,
    spec,
    item,
    i32,
    v128: (index) => mod.local.get(index, binaryen.v128),
    constant,
    madd: (x, y, z) =>
      spec.relaxedSimd ? relaxedMaddF32x4(mod, x, y, z) : mod.f32x4.add(z, mod.f32x4.mul(x, y)),
    bump: (local, bytes) => mod.local.set(local, mod.i32.add(i32(local), constant(bytes))),
    repeat: (label, count, body) => {
      const left = locals.add(binaryen.i32);
      return mod.block(null, [
        mod.local.set(left, count),
        mod.loop(
          label,
          mod.block(null, [
            ...body,
            mod.local.set(left, mod.i32.sub(i32(left), constant(1))),
            mod.br(label, i32(left)),
          ]),
        ),
      ]);
    },
  };
  const { a, b: bOperand, c } = spec;
  const work =
    kind === 'row'
      ? rowItem(b)
      : kind === 'column'
        ? dotItem(b, {
            matrix: a.offset,
            rowStride: a.strideM,
            vector: bOperand.offset,
            out: c.offset,
            outStride: c.strideM,
          })
        : dotItem(b, {
            matrix: bOperand.offset,
            rowStride: bOperand.strideN,
            vector: a.offset,
            out: c.offset,
            outStride: c.strideN,
          });
  addItemRangeFunction(mod, spec.name, locals, item, work);
}

/** One column block of the row form; the last block may be narrower (a static tail). */
function rowItem(b: Builder): binaryen.ExpressionRef {
  const { mod, spec, locals } = b;
  const aPtr = locals.add(binaryen.i32);
  const rowPtr = locals.add(binaryen.i32);
  const bPtr = locals.add(binaryen.i32);
  const cBlock = locals.add(binaryen.i32);
  const cPtr = locals.add(binaryen.i32);
  const splats = Array.from({ length: ROW_UNROLL }, () => locals.add(binaryen.v128));
  const alpha = spec.alpha ?? 1;
  const rowBytes = 4 * spec.b.strideK;
  const aStep = 4 * spec.a.strideK;
  const splat = (at: number, r: number) => {
    const value = mod.v128.load32_splat(r * aStep, 4, b.i32(at));
    return alpha === 1 ? value : mod.f32x4.mul(value, mod.f32x4.splat(mod.f32.const(alpha)));
  };
  const product = (r: number) =>
    mod.f32x4.mul(b.v128(splats[r]!), mod.v128.load(r * rowBytes, 4, b.i32(bPtr)));
  const pair = (r: number) =>
    b.madd(b.v128(splats[r + 1]!), mod.v128.load((r + 1) * rowBytes, 4, b.i32(bPtr)), product(r));
  /** C + Σ_r splat_r · B[row r] as a tree (rows in pairs), so the chain through C is one add deep. */
  const rowsSum = (rows: number) => {
    const terms: binaryen.ExpressionRef[] = [];
    for (let r = 0; r + 1 < rows; r += 2) terms.push(pair(r));
    if (rows % 2) terms.push(product(rows - 1));
    const products = terms.reduce((x, y) => mod.f32x4.add(x, y));
    return mod.f32x4.add(mod.v128.load(0, 4, b.i32(cPtr)), products);
  };
  /** C[block] += Σ_r splat_r · B[row r], over `vectors` vectors, for `rows` rows from rowPtr. */
  const addRows = (rows: number, vectors: number, label: string) => [
    ...splats.slice(0, rows).map((s, r) => mod.local.set(s, splat(aPtr, r))),
    mod.local.set(bPtr, b.i32(rowPtr)),
    mod.local.set(cPtr, b.i32(cBlock)),
    b.repeat(label, b.constant(vectors), [
      mod.v128.store(0, 4, b.i32(cPtr), rowsSum(rows)),
      b.bump(bPtr, 16),
      b.bump(cPtr, 16),
    ]),
    b.bump(aPtr, rows * aStep),
    b.bump(rowPtr, rows * rowBytes),
  ];
  const columns = blockColumns(spec.n);
  const block = (vectors: number) => {
    const quads = Math.floor(spec.k / ROW_UNROLL);
    const rest = spec.k % ROW_UNROLL;
    return mod.block(null, [
      mod.local.set(aPtr, b.constant(spec.a.offset)),
      mod.local.set(
        rowPtr,
        mod.i32.add(b.constant(spec.b.offset), mod.i32.mul(b.i32(b.item), b.constant(4 * columns))),
      ),
      mod.local.set(
        cBlock,
        mod.i32.add(b.constant(spec.c.offset), mod.i32.mul(b.i32(b.item), b.constant(4 * columns))),
      ),
      // C = 0 first unless accumulating: alpha is folded into the splats, so C += alpha Σ either way.
      ...(spec.accumulate
        ? []
        : [
            mod.local.set(cPtr, b.i32(cBlock)),
            b.repeat(`zero${vectors}`, b.constant(vectors), [
              mod.v128.store(0, 4, b.i32(cPtr), mod.v128.const(new Array(16).fill(0))),
              b.bump(cPtr, 16),
            ]),
          ]),
      ...(quads > 0
        ? [b.repeat(`quads${vectors}`, b.constant(quads), addRows(ROW_UNROLL, vectors, `cols${vectors}`))]
        : []),
      ...(rest > 0 ? addRows(rest, vectors, `tail${vectors}`) : []),
    ]);
  };
  const full = Math.floor(spec.n / columns);
  const tail = (spec.n % columns) / 4;
  const fullVectors = columns / 4;
  if (tail === 0) return block(fullVectors);
  if (full === 0) return block(tail);
  return mod.if(mod.i32.eq(b.i32(b.item), b.constant(full)), block(tail), block(fullVectors));
}

/** Where a dot-product form reads and writes (byte offsets; strides in elements). */
interface DotOperands {
  readonly matrix: number;
  readonly rowStride: number;
  readonly vector: number;
  readonly out: number;
  readonly outStride: number;
}

/** One item of a dot-product form: row `item` of the matrix · the vector, then out[item] (+)= alpha · it. */
function dotItem(b: Builder, at: DotOperands): binaryen.ExpressionRef {
  const { mod, spec, locals } = b;
  const aPtr = locals.add(binaryen.i32);
  const bPtr = locals.add(binaryen.i32);
  const cPtr = locals.add(binaryen.i32);
  const acc = Array.from({ length: DOT_VECTORS }, () => locals.add(binaryen.v128));
  const alpha = spec.alpha ?? 1;
  const vectors = spec.k / 4;
  const steps = Math.floor(vectors / DOT_VECTORS);
  const rest = vectors % DOT_VECTORS;
  const accumulate = (count: number) =>
    acc
      .slice(0, count)
      .map((a, j) =>
        mod.local.set(
          a,
          b.madd(mod.v128.load(16 * j, 4, b.i32(aPtr)), mod.v128.load(16 * j, 4, b.i32(bPtr)), b.v128(a)),
        ),
      );
  const lane = (l: number) => mod.f32x4.extract_lane(sum(), l);
  const sum = () =>
    mod.f32x4.add(
      mod.f32x4.add(b.v128(acc[0]!), b.v128(acc[1]!)),
      mod.f32x4.add(b.v128(acc[2]!), b.v128(acc[3]!)),
    );
  let dot = mod.f32.add(mod.f32.add(lane(0), lane(1)), mod.f32.add(lane(2), lane(3)));
  if (alpha !== 1) dot = mod.f32.mul(dot, mod.f32.const(alpha));
  if (spec.accumulate) dot = mod.f32.add(mod.f32.load(0, 4, b.i32(cPtr)), dot);
  return mod.block(null, [
    mod.local.set(
      aPtr,
      mod.i32.add(b.constant(at.matrix), mod.i32.mul(b.i32(b.item), b.constant(4 * at.rowStride))),
    ),
    mod.local.set(bPtr, b.constant(at.vector)),
    mod.local.set(
      cPtr,
      mod.i32.add(b.constant(at.out), mod.i32.mul(b.i32(b.item), b.constant(4 * at.outStride))),
    ),
    ...acc.map((a) => mod.local.set(a, mod.v128.const(new Array(16).fill(0)))),
    ...(steps > 0
      ? [
          b.repeat('dot', b.constant(steps), [
            ...accumulate(DOT_VECTORS),
            b.bump(aPtr, 16 * DOT_VECTORS),
            b.bump(bPtr, 16 * DOT_VECTORS),
          ]),
        ]
      : []),
    ...accumulate(rest),
    mod.f32.store(0, 4, b.i32(cPtr), dot),
  ]);
}
