import binaryen from 'binaryen';
import { addItemRangeFunction, FunctionLocals } from './function-locals.js';
import type { GemmPlan } from './gemm-plan.js';

/**
 * Adds `${name}_pack(itemStart, itemEnd)`, the packing phase of a GEMM, split into items so
 * threads can share it: items [0, panels) pack B panels, items [panels, panels + M) copy rows of
 * A to a dense [M][K] buffer (only when A's k-stride is not 1).
 *
 * B panel layout follows XNNPACK `xnn_pack_f32_gemm_goi_w` (src/reference/packing.cc) without
 * the bias: K rows of NR floats each, columns past N zero-padded, so the micro-kernel loads whole
 * vectors with no N-edge branch. Alpha is folded in here, out of the inner loop.
 */
export function addGemmPack(mod: binaryen.Module, plan: GemmPlan): string {
  const name = `${plan.name}_pack`;
  const { nr } = plan.tile;
  const { b, a } = plan.source;
  const locals = new FunctionLocals(2);
  const item = locals.add(binaryen.i32);
  const src = locals.add(binaryen.i32);
  const dst = locals.add(binaryen.i32);
  const steps = locals.add(binaryen.i32);
  const get = (index: number) => mod.local.get(index, binaryen.i32);
  const constant = (value: number) => mod.i32.const(value);
  const scale = (value: binaryen.ExpressionRef, vector: boolean): binaryen.ExpressionRef => {
    if (plan.alpha === 1) return value;
    return vector
      ? mod.f32x4.mul(value, mod.f32x4.splat(mod.f32.const(plan.alpha)))
      : mod.f32.mul(value, mod.f32.const(plan.alpha));
  };

  /** `steps` iterations of `body`, bumping src and dst by constant strides each time. */
  const stridedLoop = (
    label: string,
    count: number,
    srcStride: number,
    dstStride: number,
    body: binaryen.ExpressionRef[],
  ) =>
    mod.block(null, [
      mod.local.set(steps, constant(count)),
      mod.loop(
        label,
        mod.block(null, [
          ...body,
          mod.local.set(src, mod.i32.add(get(src), constant(srcStride))),
          mod.local.set(dst, mod.i32.add(get(dst), constant(dstStride))),
          mod.local.set(steps, mod.i32.sub(get(steps), constant(1))),
          mod.br(label, get(steps)),
        ]),
      ),
    ]);

  /** One k row of a panel holding `columns` valid columns. */
  const panelRow = (columns: number): binaryen.ExpressionRef[] => {
    const row: binaryen.ExpressionRef[] = [];
    if (b.strideN === 1 && columns === nr) {
      for (let q = 0; q < nr / 4; q++)
        row.push(mod.v128.store(16 * q, 16, get(dst), scale(mod.v128.load(16 * q, 4, get(src)), true)));
      return row;
    }
    for (let j = 0; j < nr; j++) {
      const value =
        j < columns ? scale(mod.f32.load(4 * j * b.strideN, 4, get(src)), false) : mod.f32.const(0);
      row.push(mod.f32.store(4 * j, 4, get(dst), value));
    }
    return row;
  };

  const lastColumns = plan.n - (plan.panels - 1) * nr;
  const packPanel = mod.block(null, [
    mod.local.set(src, mod.i32.add(constant(b.offset), mod.i32.mul(get(item), constant(4 * nr * b.strideN)))),
    mod.local.set(
      dst,
      mod.i32.add(constant(plan.packedBOffset), mod.i32.mul(get(item), constant(plan.panelBytes))),
    ),
    lastColumns === nr
      ? stridedLoop('krow', plan.k, 4 * b.strideK, 4 * nr, panelRow(nr))
      : mod.if(
          mod.i32.eq(get(item), constant(plan.panels - 1)),
          stridedLoop('ktail', plan.k, 4 * b.strideK, 4 * nr, panelRow(lastColumns)),
          stridedLoop('kfull', plan.k, 4 * b.strideK, 4 * nr, panelRow(nr)),
        ),
  ]);

  let packItem = packPanel;
  if (plan.packA) {
    const row = () => mod.i32.sub(get(item), constant(plan.panels));
    const copyA = mod.block(null, [
      mod.local.set(src, mod.i32.add(constant(a.offset), mod.i32.mul(row(), constant(4 * a.strideM)))),
      mod.local.set(dst, mod.i32.add(constant(plan.packedAOffset), mod.i32.mul(row(), constant(4 * plan.k)))),
      stridedLoop('acol', plan.k, 4 * a.strideK, 4, [
        mod.f32.store(0, 4, get(dst), mod.f32.load(0, 4, get(src))),
      ]),
    ]);
    packItem = mod.if(mod.i32.lt_u(get(item), constant(plan.panels)), packPanel, copyA);
  }

  addItemRangeFunction(mod, name, locals, item, packItem);
  return name;
}

/** Number of work items of the pack function of `plan`. */
export function gemmPackItems(plan: GemmPlan): number {
  return plan.panels + (plan.packA ? plan.m : 0);
}
