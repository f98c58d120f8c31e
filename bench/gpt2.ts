/**
 * GPT-2 small (12 layers, width 768, 12 heads, vocabulary 50257, context 1024) on random weights:
 * prefill of a 128-token prompt (tokens/s) and ms per decoded token, at 1 and 2 threads, for Ein's
 * persistent WASM model and onnxruntime-web on the same graph (gpt2-graph.ts), each engine × thread
 * count in its own child process (gpt2-child.ts) for its peak RSS. The decode floor is the bytes of
 * weights a step must read over the memory bandwidth a streaming read reaches, measured in Ein's child
 * between its decode rounds (the machine's load varies; the floor is taken in the same conditions).
 * Targets (issue 6): prefill ≥ 1.3× ORT, decode ≤ 1.2× the floor, peak RSS ≤ 0.6× ORT's.
 * Ein's rows also give its start-up (compile, module build, instantiate: the load without the weights).
 */
import type { Gpt2ChildRow, Gpt2Engine, Gpt2Request } from './gpt2-child.js';
import { decodeWeightBytes, GPT2_SMALL } from './gpt2-graph.js';
import { DEFAULT_TIMING, type TimingOptions } from './timing.js';
import { runBenchChild } from './child.js';
import { alignColumns } from './results.js';

export interface Gpt2BenchOptions {
  threads?: number[];
  promptTokens?: number;
  decodeSteps?: number;
  decodeRounds?: number;
  timing?: TimingOptions;
  log?: (line: string) => void;
}

export interface Gpt2BenchRow {
  threads: number;
  engine: 'ein' | 'ort-web';
  prefillTokensPerSecond: number;
  decodeMsPerToken: number;
  peakRssMB: number;
  loadMs: number;
  /** Ein: compile + module build + instantiate (the load before any weight is written). */
  startupMs?: number;
  wasmMemoryMB?: number;
  /** Largest |Ein − ORT| / max(1, |ORT|) over sampled logits (Ein rows). */
  maxLogitDifference?: number;
  /** Ein rows: the targets' ratios. */
  prefillVsOrt?: number;
  decodeVsFloor?: number;
  rssVsOrt?: number;
}

export interface Gpt2BenchResult {
  weightBytes: number;
  bandwidthGBs: Record<number, number>;
  floorMs: Record<number, number>;
  rows: Gpt2BenchRow[];
}

const PREFILL_TARGET = 1.3;
const DECODE_TARGET = 1.2;
const RSS_TARGET = 0.6;

function runChild(request: Gpt2Request): Promise<Gpt2ChildRow> {
  return runBenchChild<Gpt2ChildRow>('bench/gpt2-child.ts', request, 1_800_000, '{}');
}

const maxDifference = (a: number[], b: number[]) =>
  Math.max(...a.map((v, i) => Math.abs(v - b[i]!) / Math.max(1, Math.abs(b[i]!))));

export async function benchGpt2(options: Gpt2BenchOptions = {}): Promise<Gpt2BenchResult> {
  const log = options.log ?? ((line: string) => console.log(line));
  const threadCounts = options.threads ?? [1, 2];
  const base = {
    promptTokens: options.promptTokens ?? 128,
    decodeSteps: options.decodeSteps ?? 32,
    decodeRounds: options.decodeRounds ?? 3,
    timing: options.timing ?? DEFAULT_TIMING,
  };
  const weightBytes = decodeWeightBytes(GPT2_SMALL);
  const bandwidthGBs: Record<number, number> = {};
  const floorMs: Record<number, number> = {};
  const rows: Gpt2BenchRow[] = [];
  const raw = new Map<string, Gpt2ChildRow>();
  for (const threads of threadCounts) {
    for (const engine of ['ort-web', 'ein'] as Gpt2Engine[]) {
      log(`  gpt2: ${engine} at ${threads} thread(s)...`);
      const child = await runChild({ ...base, engine, threads });
      raw.set(`${engine} ${threads}`, child);
      if (child.bandwidthGBs) {
        bandwidthGBs[threads] = child.bandwidthGBs;
        floorMs[threads] = weightBytes / (child.bandwidthGBs * 1e9) / 1e-3;
      }
      rows.push({
        threads,
        engine: engine as 'ein' | 'ort-web',
        prefillTokensPerSecond: base.promptTokens / (child.prefillMs! / 1000),
        decodeMsPerToken: child.decodeMs!,
        peakRssMB: child.peakRssMB!,
        loadMs: child.loadMs!,
        ...(child.startupMs !== undefined ? { startupMs: child.startupMs } : {}),
        ...(child.wasmMemoryMB ? { wasmMemoryMB: child.wasmMemoryMB } : {}),
      });
    }
  }
  for (const row of rows) {
    if (row.engine !== 'ein') continue;
    const peer = rows.find((r) => r.engine === 'ort-web' && r.threads === row.threads)!;
    const ein = raw.get(`ein ${row.threads}`)!;
    const ort = raw.get(`ort-web ${row.threads}`)!;
    row.maxLogitDifference = Math.max(
      maxDifference(ein.prefillLogits!, ort.prefillLogits!),
      maxDifference(ein.decodeLogits!, ort.decodeLogits!),
    );
    row.prefillVsOrt = row.prefillTokensPerSecond / peer.prefillTokensPerSecond;
    row.decodeVsFloor = row.decodeMsPerToken / floorMs[row.threads]!;
    row.rssVsOrt = row.peakRssMB / peer.peakRssMB;
  }
  log(formatGpt2Table({ weightBytes, bandwidthGBs, floorMs, rows }));
  const wrong = rows.filter((r) => r.maxLogitDifference !== undefined && !(r.maxLogitDifference < 1e-3));
  if (wrong.length > 0) throw new Error(`gpt2: Ein's logits differ from ORT's: ${JSON.stringify(wrong)}`);
  return { weightBytes, bandwidthGBs, floorMs, rows };
}

export function formatGpt2Table(result: Gpt2BenchResult): string {
  const { rows, floorMs, bandwidthGBs, weightBytes } = result;
  const mark = (ok: boolean) => (ok ? 'met' : 'MISSED');
  const header = [
    'thr',
    'engine',
    'prefill tok/s',
    'decode ms/tok',
    'floor ms',
    'peak RSS MB',
    'load s',
    'start-up s',
    'logit diff',
  ];
  const lines = [header];
  for (const r of rows)
    lines.push([
      String(r.threads),
      r.engine,
      r.prefillTokensPerSecond.toFixed(0),
      r.decodeMsPerToken.toFixed(1),
      floorMs[r.threads]!.toFixed(1),
      r.peakRssMB.toFixed(0),
      (r.loadMs / 1000).toFixed(1),
      r.startupMs !== undefined ? (r.startupMs / 1000).toFixed(2) : '',
      r.maxLogitDifference?.toExponential(1) ?? '',
    ]);
  const targets = rows
    .filter((r) => r.engine === 'ein')
    .map(
      (r) =>
        `  ${r.threads} thread(s): prefill ${r.prefillVsOrt!.toFixed(2)}x ORT (target >= ${PREFILL_TARGET}: ${mark(r.prefillVsOrt! >= PREFILL_TARGET)}), ` +
        `decode ${r.decodeVsFloor!.toFixed(2)}x the floor (target <= ${DECODE_TARGET}: ${mark(r.decodeVsFloor! <= DECODE_TARGET)}), ` +
        `peak RSS ${r.rssVsOrt!.toFixed(2)}x ORT (target <= ${RSS_TARGET}: ${mark(r.rssVsOrt! <= RSS_TARGET)})`,
    );
  return [
    `gpt2 small, random weights (${(weightBytes / 2 ** 20).toFixed(0)} MiB read per decode step; streaming read ` +
      Object.entries(bandwidthGBs)
        .map(([t, gbs]) => `${gbs.toFixed(1)} GB/s at ${t} thread(s)`)
        .join(', ') +
      '):',
    ...alignColumns(lines),
    'targets:',
    ...targets,
  ].join('\n');
}
