// The library options every compile of the page uses, so the page, the run worker and the WebGPU
// run compile the same kernel (and hit the same cache entries).
import type { CompileOptions, Target } from '../../src/index.js';
import type { Options } from './controls.js';

/** The COSMA ILP gets a short budget in an interactive page; the greedy plan is its fallback. */
const COSMA_SECONDS = 2;

export function compileOptions(options: Options, target: Target): CompileOptions {
  return { ...options, target, file: 'playground.ein', cosmaTimeLimit: COSMA_SECONDS };
}
