import type { ChildRequest, ChildRow, EngineName } from './gemm-child.js';
import { gemmInputs, samplePositions, type GemmShape } from './gemm-engine.js';
import { DEFAULT_TIMING, type TimingOptions } from './timing.js';
import { runBenchChild } from './child.js';
import { alignColumns } from './results.js';

/**
 * f32 GEMM: Ein's kernels against onnxruntime-web (WASM EP, MLAS) and tfjs-backend-wasm
 * (XNNPACK), each engine × thread count in its own Node process, all on identical inputs.
 */
export interface GemmBenchOptions {
  shapes?: GemmShape[];
  threads?: number[];
  engines?: EngineName[];
  timing?: TimingOptions;
  log?: (line: string) => void;
}

export interface GemmBenchRow {
  shape: string;
  threads: number;
  engine: EngineName;
  gflops: number;
  medianMs: number;
  runs: number;
  /** Largest |C - C_exact| / (K·eps·Σ|a·b|) over sampled outputs; ≤ 2 means a correct f32 sum. */
  errorVsExact: number;
  /** For Ein rows: GFLOP/s divided by the best peer at the same shape and thread count. */
  ratioToBestPeer?: number;
}

export const DEFAULT_SHAPES: GemmShape[] = [
  { m: 256, k: 256, n: 256 },
  { m: 512, k: 512, n: 512 },
  { m: 1024, k: 1024, n: 1024 },
  { m: 128, k: 768, n: 3072 },
];

const ALL_ENGINES: EngineName[] = ['ein-relaxed', 'ein-simd128', 'ort-web', 'tfjs-wasm'];
const PEERS: EngineName[] = ['ort-web', 'tfjs-wasm'];

const shapeName = ({ m, k, n }: GemmShape) => `${m}x${k}x${n}`;

/** Engines that exist at this thread count in Node (tfjs has no threads under Node). */
function available(engine: EngineName, threads: number): boolean {
  return !(engine === 'tfjs-wasm' && threads > 1);
}

function runChild(request: ChildRequest): Promise<ChildRow[]> {
  return runBenchChild<ChildRow[]>('bench/gemm-child.ts', request, 600_000, '[]');
}

/** Error of each sample against float64 sums, in units of the f32 forward error bound. */
function sampleError(shape: GemmShape, samples: number[]): number {
  const { a, b } = gemmInputs(shape);
  let worst = 0;
  samplePositions(shape).forEach((position, index) => {
    const i = Math.floor(position / shape.n);
    const j = position % shape.n;
    let exact = 0;
    let magnitude = 0;
    for (let p = 0; p < shape.k; p++) {
      const product = a[i * shape.k + p] * b[p * shape.n + j];
      exact += product;
      magnitude += Math.abs(product);
    }
    const bound = shape.k * 2 ** -24 * magnitude;
    worst = Math.max(worst, Math.abs(samples[index] - exact) / bound);
  });
  return worst;
}

export async function benchGemm(options: GemmBenchOptions = {}): Promise<GemmBenchRow[]> {
  const shapes = options.shapes ?? DEFAULT_SHAPES;
  const threadCounts = options.threads ?? [1, 2];
  const engines = options.engines ?? ALL_ENGINES;
  const log = options.log ?? ((line: string) => console.log(line));
  const rows: GemmBenchRow[] = [];
  for (const threads of threadCounts)
    for (const engine of engines) {
      if (!available(engine, threads)) continue;
      log(`  gemm: ${engine} at ${threads} thread(s)...`);
      const childRows = await runChild({ engine, threads, shapes, timing: options.timing ?? DEFAULT_TIMING });
      for (const row of childRows)
        rows.push({
          shape: shapeName(row.shape),
          threads,
          engine,
          gflops: row.gflops,
          medianMs: row.medianMs,
          runs: row.runs,
          errorVsExact: sampleError(row.shape, row.samples),
        });
    }
  for (const row of rows) {
    if (PEERS.includes(row.engine)) continue;
    const peers = rows.filter(
      (peer) => PEERS.includes(peer.engine) && peer.shape === row.shape && peer.threads === row.threads,
    );
    const best = Math.max(...peers.map((peer) => peer.gflops));
    if (Number.isFinite(best) && best > 0) row.ratioToBestPeer = row.gflops / best;
  }
  const incorrect = rows.filter((row) => !(row.errorVsExact <= 2));
  if (incorrect.length > 0)
    throw new Error(`GEMM results disagree with the exact sums: ${JSON.stringify(incorrect, null, 1)}`);
  log(formatGemmTable(rows, engines, threadCounts, shapes));
  return rows;
}

export function formatGemmTable(
  rows: GemmBenchRow[],
  engines: EngineName[],
  threadCounts: number[],
  shapes: GemmShape[],
): string {
  const header = [
    'shape MxKxN',
    'thr',
    ...engines,
    ...engines.filter((e) => !PEERS.includes(e)).map((e) => `${e}/best`),
  ];
  const lines = [header];
  for (const threads of threadCounts)
    for (const shape of shapes) {
      const at = (engine: EngineName) =>
        rows.find(
          (row) => row.engine === engine && row.threads === threads && row.shape === shapeName(shape),
        );
      lines.push([
        shapeName(shape),
        String(threads),
        ...engines.map((engine) => at(engine)?.gflops.toFixed(1) ?? 'n/a'),
        ...engines
          .filter((engine) => !PEERS.includes(engine))
          .map((engine) =>
            at(engine)?.ratioToBestPeer ? `${at(engine)?.ratioToBestPeer?.toFixed(2)}x` : 'n/a',
          ),
      ]);
    }
  return ['GFLOP/s (median), errors checked against float64 sums:', ...alignColumns(lines)].join('\n');
}
