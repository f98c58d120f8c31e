/**
 * Detection of optional WebAssembly features, usable in Node and browsers.
 *
 * Relaxed SIMD ships in Chrome/Edge 114+ and Firefox 146+, not in Safari, and needs
 * `--experimental-wasm-relaxed-simd` in Node 20 (design notes §6), so kernels come in two
 * flavours and the host picks one at load time.
 */

/**
 * The smallest module using `f32x4.relaxed_madd` (82 bytes): one function of type () -> v128
 * whose body is three `v128.const 0` followed by relaxed_madd (0xFD 0x85 0x02).
 */
function relaxedMaddProbe(): Uint8Array<ArrayBuffer> {
  const v128Zero = [0xfd, 0x0c, ...new Array<number>(16).fill(0)];
  const body = [0x00, ...v128Zero, ...v128Zero, ...v128Zero, 0xfd, 0x85, 0x02, 0x0b];
  return new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00], // magic, version 1
    ...[0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b], // type section: () -> v128
    ...[0x03, 0x02, 0x01, 0x00], // function section: one function of type 0
    ...[0x0a, body.length + 2, 0x01, body.length, ...body], // code section
  ]);
}

/** The smallest module using a v128 value: () -> v128 returning `v128.const 0`. */
function simd128Probe(): Uint8Array<ArrayBuffer> {
  const body = [0x00, 0xfd, 0x0c, ...new Array<number>(16).fill(0), 0x0b];
  return new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...[0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b],
    ...[0x03, 0x02, 0x01, 0x00],
    ...[0x0a, body.length + 2, 0x01, body.length, ...body],
  ]);
}

let relaxedSimdCache: boolean | undefined;
let simd128Cache: boolean | undefined;

/** True when this host compiles `f32x4.relaxed_madd` (relaxed SIMD). */
export function hasRelaxedSimd(): boolean {
  relaxedSimdCache ??= WebAssembly.validate(relaxedMaddProbe());
  return relaxedSimdCache;
}

/** True when this host compiles fixed-width SIMD (simd128). */
export function hasSimd128(): boolean {
  simd128Cache ??= WebAssembly.validate(simd128Probe());
  return simd128Cache;
}

/** True when shared memories and Atomics are available (threads need them). */
export function hasSharedMemory(): boolean {
  if (typeof SharedArrayBuffer === 'undefined' || typeof Atomics === 'undefined') return false;
  try {
    return (
      new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true }).buffer instanceof SharedArrayBuffer
    );
  } catch {
    return false;
  }
}
