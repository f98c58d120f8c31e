import { readFile, writeFile } from 'node:fs/promises';

const RESULTS_FILE = new URL('./results.json', import.meta.url);

/** Stores `data` under `section` in bench/results.json, keeping the other sections' entries. */
export async function mergeResults(section: string, data: unknown): Promise<void> {
  let all: Record<string, unknown> = {};
  try {
    all = JSON.parse(await readFile(RESULTS_FILE, 'utf8')) as Record<string, unknown>;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  all[section] = data;
  await writeFile(RESULTS_FILE, `${JSON.stringify(all, null, 2)}\n`);
}

/** Rows of cells as right-aligned columns, two spaces apart, for the console tables. */
export function alignColumns(rows: readonly (readonly string[])[]): string[] {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((row) => row[c]!.length)));
  return rows.map((row) => row.map((cell, c) => cell.padStart(widths[c]!)).join('  '));
}
