/**
 * Layout of the SharedArrayBuffer through which the caller and the pool workers dispatch.
 *
 * Int32 slots, then one BigInt64 claim word: (sequence << 32) | next unclaimed item. Binding
 * every claim to its generation's sequence number means a worker that wakes late can never take
 * items of a later generation with a stale descriptor, so the caller only waits for items that
 * were actually claimed, never for workers that have not started (robust when cores are
 * oversubscribed).
 */
export const CONTROL = {
  /** Seqlock: odd while the caller writes a descriptor, even once published; workers wait on it. */
  sequence: 0,
  functionIndex: 1,
  count: 2,
  chunk: 3,
  /** Items finished in the current generation; whoever completes the last one notifies. */
  completed: 4,
  quit: 5,
  failed: 6,
} as const;

/** Byte offset of the BigInt64 claim word, and the total size of the control buffer. */
export const CLAIM_BYTE_OFFSET = 32;
export const CONTROL_BYTES = 40;
