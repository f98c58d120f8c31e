// `npm start`: the quick-start demo. Checks examples/attention.ein, runs it through the reference
// interpreter next to FuseMax's 1-pass form (examples/attention_1pass.ein), then compiles both at a
// long sequence and shows what the memory planner predicts for each.
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { checkFile } from '../../frontend/index.js';
import { bindKernel } from '../../ir/bind.js';
import { interpret } from '../../ir/interpreter.js';
import { formatBytes } from '../../ir/limits.js';
import { printKernel } from '../../ir/print.js';
import { randomInputs } from '../../ir/random-inputs.js';
import { compileKernel } from '../../passes/pipeline.js';
import { buildReport } from '../../passes/report.js';
import { TARGETS } from '../../backends/targets.js';
import type { CliIO } from '../io.js';

const examples = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'examples');

export async function demoCommand(io: CliIO): Promise<number> {
  const threePass = checkFile(join(examples, 'attention.ein'));
  const onePass = checkFile(join(examples, 'attention_1pass.ein'));
  io.out('Ein — the attention cascade (examples/attention.ein), checked:\n');
  io.out(printKernel(threePass.kernels[0]!) + '\n');

  const ranks = { P: 64, M: 256, E: 32, F: 32 };
  const inputs = randomInputs(bindKernel(threePass, 'attention', { ranks }), 1);
  let t = performance.now();
  const a = interpret(threePass, 'attention', inputs).AV!;
  const ms3 = performance.now() - t;
  t = performance.now();
  const b = interpret(onePass, 'attention_1pass', inputs).AV!;
  const ms1 = performance.now() - t;
  let diff = 0;
  a.data.forEach((v, i) => (diff = Math.max(diff, Math.abs(v - b.data[i]!))));
  io.out(
    `Reference interpreter, P=${ranks.P} M=${ranks.M} E=${ranks.E} F=${ranks.F}, random inputs (seed 1):`,
  );
  io.out(
    `  3-pass cascade  ${ms3.toFixed(0).padStart(5)} ms   AV[0, 0..3] = ${[...a.data.slice(0, 4)].map((v) => v.toFixed(5)).join(' ')}`,
  );
  io.out(
    `  1-pass cascade  ${ms1.toFixed(0).padStart(5)} ms   max |difference| = ${diff.toExponential(2)}\n`,
  );

  const long = { P: 4096, M: 4096, E: 64, F: 64 };
  io.out(
    `Compiled for wasm at P=M=${long.P}, E=F=${long.E} (scratchpad ${formatBytes(TARGETS.wasm.scratchpadBytes)}):`,
  );
  for (const [label, program] of [
    ['3-pass', threePass],
    ['1-pass', onePass],
  ] as const) {
    const state = compileKernel(program, { ranks: long, target: 'wasm' });
    const report = buildReport(state, TARGETS.wasm, TARGETS.wasm.scratchpadBytes);
    const moved = report.kernels.reduce((s, k) => s + k.bytesMoved.global, 0);
    const bound = report.kernels.reduce((s, k) => s + k.lowerBoundBytes, 0);
    io.out(
      `  ${label}: ${report.kernels.length} kernel(s), moves ${formatBytes(moved)} (lower bound ${formatBytes(bound)}), peak intermediates ${formatBytes(report.peakBytes)}`,
    );
  }
  io.out(
    '\nNext: `ein compile examples/attention.ein --rank P=4096 --rank M=4096 --rank E=64 --rank F=64 --explain`',
  );
  return 0;
}
