// The WebAssembly text format of a compiled kernel module, for `kernel.source` and the playground's
// WASM tab. The program builder disposes its binaryen module once it has the binary, so the text is
// read back from the bytes: what is shown is exactly what runs.
import binaryen from 'binaryen';

export function wasmText(bytes: Uint8Array): string {
  const mod = binaryen.readBinary(bytes);
  try {
    // Kernels use SIMD, atomics (a shared memory) and maybe relaxed SIMD; printing must accept them all.
    mod.setFeatures(binaryen.Features.All);
    return mod.emitText();
  } finally {
    mod.dispose();
  }
}
