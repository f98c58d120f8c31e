import { checkFile } from '../../../src/frontend/index.js';
import { compileKernel } from '../../../src/passes/pipeline.js';
import { printLoopProgram } from '../../../src/ir/loop-print.js';
const [file, ...rest] = process.argv.slice(2);
const ranks: Record<string, number> = {};
for (const r of rest) { const [k, v] = r.split('='); ranks[k!] = Number(v); }
const st = compileKernel(checkFile(file!), { ranks, threads: 1 });
console.log(st.decisions.map((d) => JSON.stringify(d)).join('\n').slice(0, 3000));
console.log(printLoopProgram(st.loops!));
