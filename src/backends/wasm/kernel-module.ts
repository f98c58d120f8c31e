import binaryen from 'binaryen';

/**
 * Builds one WebAssembly module holding many kernels over a memory imported as `env.memory`,
 * so the same compiled module can be instantiated by every worker of a thread pool against one
 * shared memory (design notes §8).
 */
export interface KernelModuleOptions {
  /** Memory size in 64 KiB pages; a shared memory needs a maximum. */
  memoryPages: number;
  maximumPages?: number;
  shared?: boolean;
  relaxedSimd?: boolean;
}

/**
 * The binaryen passes run on every module. The whole -O3 pipeline (about 30 passes) took 0.8 s of a
 * 1.2 s stories260K start-up and 2–3 s of GPT-2's, nearly all of it binaryen's own code compiled
 * and run cold by V8, while TurboFan redoes most of that work (SSA, constant folding, dead code)
 * when it tiers the kernels up: stories260K tokens/s and GPT-2 prefill/decode measured the same
 * with this one peephole pass (address arithmetic, strength reduction) as with -O3, and a few
 * percent slower with no pass at all.
 */
const KERNEL_PASSES = ['optimize-instructions'];

export function buildKernelModule(
  options: KernelModuleOptions,
  addKernels: (mod: binaryen.Module) => void,
): Uint8Array<ArrayBuffer> {
  const mod = new binaryen.Module();
  try {
    let features = binaryen.Features.MVP | binaryen.Features.SIMD128 | binaryen.Features.BulkMemory;
    if (options.relaxedSimd) features |= binaryen.Features.RelaxedSIMD;
    if (options.shared) features |= binaryen.Features.Atomics;
    mod.setFeatures(features);
    mod.setMemory(
      options.memoryPages,
      options.maximumPages ?? options.memoryPages,
      null,
      [],
      options.shared ?? false,
    );
    mod.addMemoryImport('0', 'env', 'memory', options.shared ?? false);
    addKernels(mod);
    if (!mod.validate()) throw new Error('binaryen rejected the generated kernel module (see the log above)');
    binaryen.setOptimizeLevel(3);
    binaryen.setShrinkLevel(0);
    mod.runPasses(KERNEL_PASSES);
    // Copied into a plain ArrayBuffer-backed array, as WebAssembly.compile's BufferSource needs.
    return new Uint8Array(mod.emitBinary());
  } finally {
    mod.dispose();
  }
}

/** A WebAssembly.Memory matching the import of a module built with `options`. */
export function createKernelMemory(options: KernelModuleOptions): WebAssembly.Memory {
  return new WebAssembly.Memory({
    initial: options.memoryPages,
    maximum: options.maximumPages ?? options.memoryPages,
    shared: options.shared ?? false,
  });
}
