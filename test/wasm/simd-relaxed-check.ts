/**
 * Run by wasm-simd.test.ts in a child `node --experimental-wasm-relaxed-simd`: the SIMD kernels
 * with relaxed_madd against the interpreter; prints one JSON line with the failures.
 */
import { HEADED_CAUSAL, SIMD_CASES, simdError } from './simd-cases.js';

const failures: string[] = [];
let checked = 0;
for (const [example, ranks] of SIMD_CASES) {
  const error = await simdError({ example }, ranks, 2, true);
  if (!(error < 1e-5)) failures.push(`${example} ${JSON.stringify(ranks)}: error ${error}`);
  checked++;
}
const headed = await simdError({ text: HEADED_CAUSAL }, { H: 3, P: 97, M: 97, E: 64, F: 64 }, 2, true);
if (!(headed < 1e-5)) failures.push(`headed causal attention: error ${headed}`);
checked++;
console.log(JSON.stringify({ checked, failures }));
process.exit(0);
