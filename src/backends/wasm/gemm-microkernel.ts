import binaryen from 'binaryen';
import { FunctionLocals } from './function-locals.js';
import { relaxedMaddF32x4 } from './relaxed-simd.js';

/**
 * One register-blocked GEMM micro-kernel `(a, w, c) -> ()` for a static shape: it multiplies
 * `rows` rows of A (K-contiguous, `aRowBytes` apart, starting at byte `a`) by one packed B panel
 * (K steps of `panelWidth` floats, starting at `w`) and stores `columns` columns at `c`.
 *
 * Design (notes §2, measured on V8 11.3): all A rows are addressed from one pointer with
 * constant memarg offsets r·lda (they fold into the x86 displacement); B vectors are loaded per
 * k step and A is broadcast with `v128.load32_splat` (XNNPACK `wasmsimd-loadsplat.c.in`); K is
 * unrolled with a `br_if` exit after each step, because the block boundary stops TurboFan from
 * hoisting the next step's loads over the current one, which would spill registers.
 */
export interface MicrokernelShape {
  rows: number;
  /** Floats per k step in the packed panel (the tile's NR). */
  panelWidth: number;
  /** Valid output columns, at most `panelWidth`; only ceil(columns / 4) vectors are computed. */
  columns: number;
  k: number;
  kUnroll: number;
  aRowBytes: number;
  cRowBytes: number;
  cColumnBytes: number;
  accumulate: boolean;
  relaxedFma: boolean;
}

const A = 0;
const W = 1;
const C = 2;

export function addMicrokernel(mod: binaryen.Module, name: string, shape: MicrokernelShape): void {
  const { rows, panelWidth, k } = shape;
  const vectors = Math.ceil(shape.columns / 4);
  const unroll = Math.min(shape.kUnroll, k);
  const locals = new FunctionLocals(3);
  const remaining = locals.add(binaryen.i32);
  const bVec = Array.from({ length: vectors }, () => locals.add(binaryen.v128));
  const aVec = locals.add(binaryen.v128);
  // Wasm zero-initialises locals, so the accumulators start at 0 without code.
  const acc = Array.from({ length: rows }, () =>
    Array.from({ length: vectors }, () => locals.add(binaryen.v128)),
  );

  const i32 = (index: number) => mod.local.get(index, binaryen.i32);
  const v128 = (index: number) => mod.local.get(index, binaryen.v128);
  const multiplyAdd = (x: number, y: number, z: number): binaryen.ExpressionRef =>
    shape.relaxedFma
      ? relaxedMaddF32x4(mod, v128(x), v128(y), v128(z))
      : mod.f32x4.add(v128(z), mod.f32x4.mul(v128(x), v128(y)));

  const step = (u: number): binaryen.ExpressionRef[] => {
    const body: binaryen.ExpressionRef[] = [];
    for (let j = 0; j < vectors; j++)
      body.push(mod.local.set(bVec[j], mod.v128.load(4 * (u * panelWidth + 4 * j), 16, i32(W))));
    for (let r = 0; r < rows; r++) {
      body.push(mod.local.set(aVec, mod.v128.load32_splat(r * shape.aRowBytes + 4 * u, 4, i32(A))));
      for (let j = 0; j < vectors; j++)
        body.push(mod.local.set(acc[r][j], multiplyAdd(aVec, bVec[j], acc[r][j])));
    }
    return body;
  };

  const loopBody: binaryen.ExpressionRef[] = [];
  for (let u = 0; u < unroll; u++) {
    loopBody.push(...step(u));
    // Leave when only u+1 steps were left; doubles as the scheduling barrier described above.
    if (u < unroll - 1) loopBody.push(mod.br('done', mod.i32.lt_u(i32(remaining), mod.i32.const(u + 2))));
  }
  loopBody.push(
    mod.local.set(A, mod.i32.add(i32(A), mod.i32.const(4 * unroll))),
    mod.local.set(W, mod.i32.add(i32(W), mod.i32.const(4 * panelWidth * unroll))),
    mod.local.set(remaining, mod.i32.sub(i32(remaining), mod.i32.const(unroll))),
    mod.br('steps', i32(remaining)),
  );

  const body = [
    mod.local.set(remaining, mod.i32.const(k)),
    mod.block('done', [mod.loop('steps', mod.block(null, loopBody))]),
    ...storeTile(mod, shape, acc),
  ];
  mod.addFunction(
    name,
    binaryen.createType([binaryen.i32, binaryen.i32, binaryen.i32]),
    binaryen.none,
    locals.varTypes,
    mod.block(null, body),
  );
}

/** Writes (or adds) the accumulators to C: whole vectors when C rows are contiguous, else lanes. */
function storeTile(mod: binaryen.Module, shape: MicrokernelShape, acc: number[][]): binaryen.ExpressionRef[] {
  const out: binaryen.ExpressionRef[] = [];
  const c = () => mod.local.get(C, binaryen.i32);
  const v128 = (index: number) => mod.local.get(index, binaryen.v128);
  const contiguous = shape.cColumnBytes === 4;
  for (let r = 0; r < acc.length; r++) {
    for (let j = 0; j < acc[r].length; j++) {
      const lanes = Math.min(4, shape.columns - 4 * j);
      if (contiguous && lanes === 4) {
        const offset = r * shape.cRowBytes + 16 * j;
        const value = shape.accumulate
          ? mod.f32x4.add(mod.v128.load(offset, 4, c()), v128(acc[r][j]))
          : v128(acc[r][j]);
        out.push(mod.v128.store(offset, 4, c(), value));
        continue;
      }
      for (let lane = 0; lane < lanes; lane++) {
        const offset = r * shape.cRowBytes + (4 * j + lane) * shape.cColumnBytes;
        const scalar = mod.f32x4.extract_lane(v128(acc[r][j]), lane);
        const value = shape.accumulate ? mod.f32.add(mod.f32.load(offset, 4, c()), scalar) : scalar;
        out.push(mod.f32.store(offset, 4, c(), value));
      }
    }
  }
  return out;
}
