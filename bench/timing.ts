/** Median wall time of `run` after a warm-up, as every benchmark section measures it. */
export interface Timing {
  medianMs: number;
  runs: number;
}

export interface TimingOptions {
  /** Warm-up time before measuring; ≥ 1.5 s lets V8 tier wasm up from Liftoff to TurboFan. */
  warmupMs: number;
  /** Keep measuring until both this much time and `minRuns` runs have passed. */
  measureMs: number;
  minRuns: number;
}

export const DEFAULT_TIMING: TimingOptions = { warmupMs: 1500, measureMs: 1500, minRuns: 7 };

export async function timeMedian(
  run: () => unknown,
  options: TimingOptions = DEFAULT_TIMING,
): Promise<Timing> {
  const warmupEnd = performance.now() + options.warmupMs;
  while (performance.now() < warmupEnd) await run();
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const times: number[] = [];
  const measureEnd = performance.now() + options.measureMs;
  while (performance.now() < measureEnd || times.length < options.minRuns) {
    const start = performance.now();
    await run();
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return { medianMs: times[times.length >> 1], runs: times.length };
}
