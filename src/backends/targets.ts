// Target descriptions — data, not code. The cost model reads the scratchpad (the on-chip memory a
// fused kernel keeps its per-thread slices in), the vector width and the thread limits from here.
export type TargetName = 'wasm' | 'wgsl' | 'cuda';

export interface TargetDescription {
  readonly name: TargetName;
  /** On-chip bytes a fused kernel may use per workgroup by default (WASM: L1, the first cache tier). */
  readonly scratchpadBytes: number;
  /** The most a schedule or --scratchpad may ask for. */
  readonly maxScratchpadBytes: number;
  /** Cache tiers below the scratchpad, for the traffic model (WASM's L2). */
  readonly cacheTiers: readonly { readonly name: string; readonly bytes: number }[];
  /** f32 lanes of one vector operation. */
  readonly vectorWidth: number;
  /** Threads of one workgroup / block (WASM: one worker runs a tile at a time). */
  readonly maxThreadsPerGroup: number;
  readonly preferredThreadsPerGroup: number;
  /** Storage buffers one kernel may bind (WebGPU's maxStorageBuffersPerShaderStage default). */
  readonly maxBindings?: number;
  readonly maxBindingBytes?: number;
}

export const TARGETS: Readonly<Record<TargetName, TargetDescription>> = {
  wasm: {
    name: 'wasm',
    scratchpadBytes: 32 * 1024,
    maxScratchpadBytes: 1024 * 1024,
    cacheTiers: [
      { name: 'L1', bytes: 32 * 1024 },
      { name: 'L2', bytes: 1024 * 1024 },
    ],
    vectorWidth: 4,
    maxThreadsPerGroup: 1,
    preferredThreadsPerGroup: 1,
  },
  wgsl: {
    name: 'wgsl',
    scratchpadBytes: 16 * 1024,
    maxScratchpadBytes: 32 * 1024,
    cacheTiers: [],
    vectorWidth: 4,
    maxThreadsPerGroup: 256,
    preferredThreadsPerGroup: 64,
    maxBindings: 8,
    maxBindingBytes: 128 * 1024 * 1024,
  },
  cuda: {
    name: 'cuda',
    scratchpadBytes: 48 * 1024,
    // sm_90 allows up to 228 KiB of shared memory per block (opt-in).
    maxScratchpadBytes: 228 * 1024,
    cacheTiers: [],
    vectorWidth: 4,
    maxThreadsPerGroup: 1024,
    preferredThreadsPerGroup: 128,
  },
};
