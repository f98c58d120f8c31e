// How much work a Loop IR kernel does per call, counted statically: every statement once per
// iteration of its enclosing loops (at their full extents), a contraction m·n·k. Used to keep small
// kernels off the thread pool, whose dispatch (publishing a descriptor, waking or spinning workers,
// waiting for the last chunk) costs microseconds, more than a 64-wide dot product takes.
import type { LoopKernel, Stmt } from '../../ir/loops.js';

function work(list: readonly Stmt[]): number {
  let total = 0;
  for (const s of list) {
    if (s.k === 'for') total += s.extent * work(s.body);
    else if (s.k === 'if') total += work(s.body);
    else if (s.k === 'contract') total += s.m * s.n * s.kDim;
    else total += 1;
  }
  return total;
}

export const kernelWork = (kernel: LoopKernel): number => work(kernel.body);

/**
 * Below this much work a step runs on the calling thread whatever the pool size (pthreadpool's
 * "parallelize only if the range is worth it", here measured in statements): about 10-50 µs of work,
 * above the few µs a dispatch to spinning workers costs, and far above it when workers sleep.
 */
export const POOL_MIN_WORK = 1 << 16;
