// Measuring the intermediate memory a run really uses, independently of the memory plan: fill the
// arena's intermediate region (global intermediates, then every worker's on-chip slices) with a
// sentinel word before the run and count the words that changed after it. Used by the tests and
// the benchmark to hold AutoChunk's predicted peak to the measured one.
import type { WasmProgram } from './program.js';

/** A NaN payload no kernel computes: arithmetic produces the canonical NaN, not this one. */
const SENTINEL = 0x7fa5a5a5;

export interface ArenaRegion {
  readonly start: number;
  readonly end: number;
}

/** [first intermediate byte, end of the workers' scratch): where intermediates may live. */
export function intermediateRegion(program: WasmProgram): ArenaRegion {
  const { layout, loops, chunking } = program;
  const end = layout.scratchOffset + layout.scratchBytesPerWorker * layout.slots;
  // A chunked program lays out its activations (whole tensors between regions, each region's
  // intermediates and slice copies) above its inputs and outputs.
  if (chunking) return { start: chunking.activationOffset, end };
  const starts = loops.buffers
    .filter((b) => b.role === 'intermediate')
    .map((b) => layout.offsets.get(b.name)!);
  return { start: Math.min(layout.scratchOffset, ...starts), end };
}

export function fillSentinel(memory: WebAssembly.Memory, region: ArenaRegion): void {
  new Int32Array(memory.buffer, region.start, Math.floor((region.end - region.start) / 4)).fill(SENTINEL);
}

/** Bytes of the region some kernel wrote since fillSentinel. */
export function touchedBytes(memory: WebAssembly.Memory, region: ArenaRegion): number {
  const words = new Int32Array(memory.buffer, region.start, Math.floor((region.end - region.start) / 4));
  let touched = 0;
  for (let i = 0; i < words.length; i++) if (words[i] !== SENTINEL) touched++;
  return touched * 4;
}
