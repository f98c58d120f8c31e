/**
 * `npm run bench`: runs every benchmark section in turn and merges each section's rows into
 * bench/results.json. Add a section by appending to SECTIONS.
 */
import { benchAttention } from './attention.js';
import { benchGemm } from './gemm.js';
import { benchGpt2 } from './gpt2.js';
import { benchMlp } from './mlp.js';
import { benchMemory } from './memory.js';
import { benchLlama } from './llama.js';
import { mergeResults } from './results.js';

interface Section {
  name: string;
  run: () => Promise<unknown>;
}

const SECTIONS: Section[] = [
  { name: 'llama', run: () => benchLlama() },
  { name: 'gemm', run: () => benchGemm() },
  { name: 'gpt2', run: () => benchGpt2() },
  { name: 'memory', run: () => benchMemory() },
  { name: 'attention', run: () => benchAttention() },
  { name: 'mlp', run: () => benchMlp() },
];

const only = process.argv.slice(2);
for (const section of SECTIONS) {
  if (only.length > 0 && !only.includes(section.name)) continue;
  console.log(`== ${section.name}`);
  const rows = await section.run();
  await mergeResults(section.name, { date: new Date().toISOString(), node: process.version, rows });
}
