/**
 * Memory under a budget: AutoChunk at sequence 16,384 (attention, the MLP, and a cascade whose two
 * halves chunk along different ranks). For each program, compile it unchunked and
 * with `maxMemoryBytes` = 20% of the unchunked peak (AutoChunk's claim: > 80% less activation
 * memory at < 10% speed loss), run both on WASM, and report the chunked regions, the predicted
 * peak, the measured peak (activation bytes the run really wrote: intermediates, tensors passed
 * between regions, slice copies, worker scratch), the median time, and the worst error against the
 * unchunked run.
 */
import { fillSentinel, intermediateRegion, touchedBytes } from '../src/backends/wasm/arena-probe.js';
import { buildWasmProgram } from '../src/backends/wasm/program.js';
import { WasmRunner } from '../src/backends/wasm/runner.js';
import { checkFile } from '../src/frontend/index.js';
import { bindKernel } from '../src/ir/bind.js';
import { randomInputs } from '../src/ir/random-inputs.js';
import type { Tensor } from '../src/ir/tensor.js';
import type { ChunkPlan } from '../src/passes/chunking.js';
import { compileKernel, type CompileOptions } from '../src/passes/pipeline.js';

export interface MemoryBenchCase {
  readonly name: string;
  readonly file: string;
  readonly ranks: Record<string, number>;
  /** 'off' keeps attention in its 3-pass form, which materializes the score matrix. */
  readonly online: 'auto' | 'off';
}

/** Sequence 16,384; head and hidden sizes small enough for a CPU run of minutes, not hours. */
export const DEFAULT_CASES: MemoryBenchCase[] = [
  {
    name: 'attention (3-pass) P=M=16384 E=F=16',
    file: 'examples/attention.ein',
    ranks: { P: 16384, M: 16384, E: 16, F: 16 },
    online: 'off',
  },
  {
    name: 'mlp T=16384 D=64 H=8192',
    file: 'examples/mlp.ein',
    ranks: { T: 16384, D: 64, H: 8192 },
    online: 'auto',
  },
  {
    name: 'two ranks (MLP over t, sum over t, layer over n) T=N=16384 D=64 H=8192',
    file: 'bench/two-ranks.ein',
    ranks: { T: 16384, D: 64, H: 8192, N: 16384 },
    online: 'auto',
  },
];

export interface MemoryBenchRow {
  case: string;
  variant: 'unchunked' | 'autochunk';
  chunks: string;
  predictedPeakBytes: number;
  measuredPeakBytes: number;
  /** |predicted − measured| / measured. */
  predictionError: number;
  medianMs: number;
  runs: number;
  /** Versus the unchunked row of the same case. */
  peakReduction?: number;
  timeRatio?: number;
  maxAbsDiff?: number;
}

export interface MemoryBenchOptions {
  cases?: MemoryBenchCase[];
  threads?: number;
  /** Budget as a fraction of the unchunked peak. */
  budgetFraction?: number;
  runs?: number;
  log?: (line: string) => void;
}

/** Runs measured per variant; the two variants alternate so machine load drifts hit both alike. */
const DEFAULT_RUNS = 5;

interface Prepared {
  readonly state: ReturnType<typeof compileKernel>;
  readonly runner: WasmRunner;
  readonly outputs: Record<string, Tensor>;
  /** Intermediate bytes the first run wrote. */
  readonly measured: number;
  readonly times: number[];
}

async function prepare(
  opts: CompileOptions,
  file: string,
  inputs: Record<string, Tensor>,
  threads: number,
): Promise<Prepared> {
  const state = compileKernel(checkFile(file), opts);
  const program = buildWasmProgram(state, { threads });
  const runner = await WasmRunner.create(program);
  const region = intermediateRegion(program);
  fillSentinel(runner.memory, region);
  const outputs = runner.run(inputs);
  return { state, runner, outputs, measured: touchedBytes(runner.memory, region), times: [] };
}

/** The plan's prediction: AutoChunk's for a chunked program, memplan's otherwise. */
const predicted = (m: Prepared) => m.state.chunking?.predictedPeakBytes ?? m.state.memory!.peakBytes;

/** Each chunked region: `index: count × size over region`. */
const chunksOf = (plan: ChunkPlan) =>
  plan.segments
    .flatMap((s) =>
      s.chunk ? [`${s.chunk.index}: ${s.chunk.count} × ${s.chunk.size} over ${s.region}`] : [],
    )
    .join('; ');

const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

export async function benchMemory(options: MemoryBenchOptions = {}): Promise<MemoryBenchRow[]> {
  const log = options.log ?? ((line: string) => console.log(line));
  const threads = options.threads ?? 2;
  const fraction = options.budgetFraction ?? 0.2;
  const rows: MemoryBenchRow[] = [];
  for (const c of options.cases ?? DEFAULT_CASES) {
    const program = checkFile(c.file);
    const kernel = program.kernels[program.kernels.length - 1]!.name;
    const inputs = randomInputs(bindKernel(program, kernel, { ranks: c.ranks }), 1);
    const base: CompileOptions = { ranks: c.ranks, threads, online: c.online };
    const before = await prepare(base, c.file, inputs, threads);
    const budget = Math.floor(before.state.memory!.peakBytes * fraction);
    const after = await prepare({ ...base, maxMemoryBytes: budget }, c.file, inputs, threads);
    try {
      for (let i = 0; i < (options.runs ?? DEFAULT_RUNS); i++)
        for (const variant of i % 2 === 0 ? [before, after] : [after, before]) {
          const start = performance.now();
          variant.runner.run(inputs);
          variant.times.push(performance.now() - start);
        }
    } finally {
      await before.runner.close();
      await after.runner.close();
    }
    const row = (variant: MemoryBenchRow['variant'], m: typeof before): MemoryBenchRow => ({
      case: c.name,
      variant,
      chunks: m.state.chunking ? chunksOf(m.state.chunking) : '-',
      predictedPeakBytes: predicted(m),
      measuredPeakBytes: m.measured,
      predictionError: Math.abs(predicted(m) - m.measured) / m.measured,
      medianMs: median(m.times),
      runs: m.times.length,
    });
    let maxAbsDiff = 0;
    for (const [name, t] of Object.entries(before.outputs)) {
      const other = after.outputs[name]!.data;
      t.data.forEach((v, i) => (maxAbsDiff = Math.max(maxAbsDiff, Math.abs(v - other[i]!))));
    }
    const chunked = {
      ...row('autochunk', after),
      peakReduction: 1 - after.measured / before.measured,
      timeRatio: median(after.times) / median(before.times),
      maxAbsDiff,
    };
    rows.push(row('unchunked', before), chunked);
    const mib = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;
    log(
      `${c.name}: peak ${mib(before.measured)} → ${mib(after.measured)} (−${(chunked.peakReduction * 100).toFixed(1)}%, ${chunked.chunks}; ` +
        `predicted ${mib(predicted(after))}, off by ${(chunked.predictionError * 100).toFixed(2)}%), ` +
        `median time ${median(before.times).toFixed(0)} → ${median(after.times).toFixed(0)} ms (×${chunked.timeRatio.toFixed(3)}), max |diff| ${maxAbsDiff.toExponential(2)}`,
    );
  }
  return rows;
}
