// A test mode of the WebAssembly layout: every buffer in its own region with guard bytes on both
// sides, filled with a pattern before a run and checked after it, so a kernel that writes outside
// its buffers (a vector chunk past a tail, a tightened bound off by one, a wrong stride) is caught
// instead of silently corrupting a neighbour. Buffers never share arena space here (the memory
// plan's reuse is ignored) and each kernel gets its own scratch area, so a guard is only ever
// written by a bug. Not for COSMA plans, whose kernels see per-step addresses.
import type { LoopProgram } from '../../ir/loops.js';
import type { WasmLayout } from './layout.js';

const ALIGN = 16;
const align = (n: number) => Math.ceil(n / ALIGN) * ALIGN;
/** A quiet NaN with a payload no arithmetic produces (V8 canonicalises NaNs to 0x7FC00000). */
const PATTERN = 0x7fa5a5a5;

export interface GuardRegion {
  readonly start: number;
  readonly end: number;
  /** What the guard protects, for messages: `after X`, `before X`. */
  readonly around: string;
}

export interface GuardedLayout extends WasmLayout {
  readonly guards: readonly GuardRegion[];
}

export function isGuarded(layout: WasmLayout): layout is GuardedLayout {
  return 'guards' in layout;
}

/** `base` re-laid out with `guardBytes` (a multiple of 16) of guard before and after every buffer. */
export function guardedLayout(base: WasmLayout, program: LoopProgram, guardBytes = 64): GuardedLayout {
  if (base.cosma) throw new Error('guard regions do not support COSMA layouts');
  const g = align(guardBytes);
  const guards: GuardRegion[] = [];
  // A guard runs from the end of the previous buffer (its alignment padding included) to the next.
  let at = 0;
  let end = 0;
  const place = (name: string, bytes: number): number => {
    guards.push({ start: end, end: at + g, around: `before ${name}` });
    const offset = at + g;
    end = offset + bytes;
    at = align(end);
    return offset;
  };
  const offsets = new Map<string, number>();
  for (const b of program.buffers) offsets.set(b.name, place(b.name, b.size * 4));

  // Each kernel's locals in their own area of a worker's scratch, guarded, in every worker.
  const localOffsets = new Map<string, Map<string, number>>();
  const localGuards: { start: number; end: number; name: string }[] = [];
  let perWorker = 0;
  let localEnd = 0;
  for (const k of program.kernels) {
    const offs = new Map<string, number>();
    for (const l of k.locals) {
      localGuards.push({ start: localEnd, end: perWorker + g, name: `${k.name}.${l.name}` });
      offs.set(l.name, perWorker + g);
      localEnd = perWorker + g + l.size * 4;
      perWorker = align(localEnd);
    }
    localOffsets.set(k.name, offs);
  }
  localGuards.push({ start: localEnd, end: perWorker + g, name: 'the end of the scratch' });
  perWorker += g;
  guards.push({ start: end, end: at + g, around: 'before the scratch' });
  const scratchOffset = at + g;
  for (let w = 0; w < base.slots; w++) {
    const from = scratchOffset + w * perWorker;
    for (const l of localGuards)
      guards.push({ start: from + l.start, end: from + l.end, around: `before ${l.name} (worker ${w})` });
  }
  at = scratchOffset + perWorker * base.slots;
  end = at;
  const slotFlagsOffset = place('the slot flags', 4 * base.slots);
  const gemmBytes = base.totalBytes - base.gemmScratchOffset;
  const gemmScratchOffset = place('the GEMM scratch', gemmBytes);
  guards.push({ start: end, end: at + g, around: 'after the GEMM scratch' });
  const totalBytes = at + g;
  return {
    offsets,
    scratchOffset,
    scratchBytesPerWorker: perWorker,
    localOffsets,
    slots: base.slots,
    slotFlagsOffset,
    gemmScratchOffset,
    totalBytes,
    pages: Math.max(1, Math.ceil(totalBytes / 65536)),
    guards,
  };
}

/** Writes the guard pattern (before a run). */
export function fillGuards(memory: WebAssembly.Memory, layout: GuardedLayout): void {
  const words = new Uint32Array(memory.buffer);
  for (const r of layout.guards) words.fill(PATTERN, r.start / 4, r.end / 4);
}

/** Every guard word that no longer holds the pattern, described (empty when all are intact). */
export function checkGuards(memory: WebAssembly.Memory, layout: GuardedLayout): string[] {
  const words = new Uint32Array(memory.buffer);
  const damage: string[] = [];
  for (const r of layout.guards)
    for (let i = r.start / 4; i < r.end / 4; i++)
      if (words[i] !== PATTERN) {
        damage.push(`guard ${r.around} written at byte ${4 * i} (${words[i]!.toString(16)})`);
        break;
      }
  return damage;
}
