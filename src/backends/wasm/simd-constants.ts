import binaryen from 'binaryen';

/** A v128 constant with the f32 `value` in all four lanes (a `v128.const`, no splat at run time). */
export function f32x4Const(mod: binaryen.Module, value: number): binaryen.ExpressionRef {
  const lanes = new Float32Array(4).fill(value);
  return mod.v128.const(Array.from(new Uint8Array(lanes.buffer)));
}

/** Parses a C99 hexadecimal float such as `-0x1.62E400p-1`, so constants read as in their source. */
export function hexFloat(text: string): number {
  const match = /^(-?)0x([0-9a-f]+)(?:\.([0-9a-f]*))?p([+-]?\d+)$/i.exec(text);
  if (!match) throw new Error(`not a hexadecimal float: ${text}`);
  const [, sign, whole, fraction = '', exponent] = match;
  const mantissa = parseInt(whole + fraction, 16) / 16 ** fraction.length;
  const value = mantissa * 2 ** Number(exponent);
  return sign === '-' ? -value : value;
}
