import binaryen from 'binaryen';

/**
 * Relaxed-SIMD instructions that binaryen.js (v132) has no helper for: they are built through
 * the raw C API (design notes §5). `Features.RelaxedSIMD` must be enabled on the module.
 */
interface BinaryenRawApi {
  _BinaryenSIMDTernary(
    module: number,
    op: binaryen.Operations,
    a: binaryen.ExpressionRef,
    b: binaryen.ExpressionRef,
    c: binaryen.ExpressionRef,
  ): binaryen.ExpressionRef;
}

const raw = binaryen as unknown as BinaryenRawApi;

/** `f32x4.relaxed_madd(a, b, c)` = a·b + c, fused or not depending on the host. */
export function relaxedMaddF32x4(
  mod: binaryen.Module,
  a: binaryen.ExpressionRef,
  b: binaryen.ExpressionRef,
  c: binaryen.ExpressionRef,
): binaryen.ExpressionRef {
  return raw._BinaryenSIMDTernary(mod.ptr, binaryen.RelaxedMaddVecF32x4, a, b, c);
}
