/**
 * Shared driver of the model-block benchmarks (attention.ts, mlp.ts): every engine × thread count ×
 * size in its own child process (block-child.ts), results checked against a float64 reference on
 * sampled outputs, and a table of times, memory and Ein/ORT ratios.
 */
import type { BlockEngine, BlockRequest, BlockRow } from './block-child.js';
import { workload, type WorkloadName } from './block-workloads.js';
import { DEFAULT_TIMING, type TimingOptions } from './timing.js';
import { runBenchChild } from './child.js';
import { alignColumns } from './results.js';

export interface BlockBenchOptions {
  sizes: number[];
  threads?: number[];
  engines?: BlockEngine[];
  timing?: TimingOptions;
  /** Largest |output − reference| allowed, relative to max(1, |reference|). */
  tolerance: number;
  log?: (line: string) => void;
}

export interface BlockBenchRow extends Omit<BlockRow, 'samples'> {
  engine: BlockEngine;
  threads: number;
  maxErrorVsReference: number;
  /** Ein rows: ORT's time divided by Ein's at the same size and thread count (> 1: Ein faster). */
  speedupVsOrt?: number;
}

function runChild(request: BlockRequest): Promise<BlockRow[]> {
  return runBenchChild<BlockRow[]>('bench/block-child.ts', request, 900_000, '[]');
}

export async function benchBlock(name: WorkloadName, options: BlockBenchOptions): Promise<BlockBenchRow[]> {
  const log = options.log ?? ((line: string) => console.log(line));
  const engines = options.engines ?? ['ein', 'ort-web'];
  const threadCounts = options.threads ?? [1, 2];
  const rows: BlockBenchRow[] = [];
  for (const size of options.sizes) {
    const w = workload(name, size);
    const expected = w.samples.map((p) => w.reference(p));
    for (const threads of threadCounts)
      for (const engine of engines) {
        log(`  ${name} ${w.label}: ${engine} at ${threads} thread(s)...`);
        const [row] = await runChild({
          workload: name,
          sizes: [size],
          engine,
          threads,
          timing: options.timing ?? DEFAULT_TIMING,
        });
        const { samples, ...rest } = row!;
        const maxErrorVsReference = Math.max(
          ...samples.map((s, i) => Math.abs(s - expected[i]!) / Math.max(1, Math.abs(expected[i]!))),
        );
        rows.push({ ...rest, engine, threads, maxErrorVsReference });
      }
  }
  for (const row of rows) {
    if (row.engine === 'ort-web') continue;
    const peer = rows.find((r) => r.engine === 'ort-web' && r.size === row.size && r.threads === row.threads);
    if (peer) row.speedupVsOrt = peer.medianMs / row.medianMs;
  }
  const wrong = rows.filter((r) => !(r.maxErrorVsReference <= options.tolerance));
  log(formatBlockTable(name, rows));
  if (wrong.length > 0)
    throw new Error(`${name}: results differ from the float64 reference: ${JSON.stringify(wrong, null, 1)}`);
  return rows;
}

export function formatBlockTable(name: string, rows: BlockBenchRow[]): string {
  const header = [
    'shape',
    'thr',
    'engine',
    'ms (median)',
    'GFLOP/s',
    'peak RSS +MB',
    'wasm MB',
    'max err',
    'ORT/Ein',
  ];
  const lines = [header];
  for (const r of rows)
    lines.push([
      r.label,
      String(r.threads),
      r.engine,
      r.medianMs.toFixed(1),
      r.gflops.toFixed(1),
      r.peakRssGrowthMB.toFixed(0),
      r.wasmMemoryMB?.toFixed(1) ?? '-',
      r.maxErrorVsReference.toExponential(1),
      r.speedupVsOrt ? `${r.speedupVsOrt.toFixed(2)}x` : '',
    ]);
  return [`${name} (errors vs float64 on sampled outputs):`, ...alignColumns(lines)].join('\n');
}
