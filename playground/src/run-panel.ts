// The Run tab: run the compiled kernel on WASM (in a worker) or WebGPU on reproducible random
// inputs, and check every output against the reference interpreter.
import { backendFor, checkProgram, compile, EinError, type Tensor } from '../../src/index.js';
import { bindKernel } from '../../src/ir/bind.js';
import { randomInputs } from '../../src/ir/random-inputs.js';
import { compileOptions } from './compile-options.js';
import type { Options } from './controls.js';
import { byId } from './dom.js';
import { checkOutputs, runInWorker } from './run-client.js';
import { escapeXml } from './svg.js';

type RunStatus = 'running' | 'pass' | 'fail' | 'error' | 'unavailable';
const SEED = 1;

function show(target: string, status: RunStatus, html: string): void {
  const result = byId('run-result');
  result.dataset.status = status;
  result.dataset.target = target;
  result.innerHTML = html;
}

function inputsFor(source: string, options: Options): Record<string, Tensor> {
  const program = checkProgram(source, 'playground.ein');
  const kernel = options.kernel ?? program.kernels[program.kernels.length - 1]!.name;
  return randomInputs(bindKernel(program, kernel, { ranks: options.ranks }), SEED);
}

async function reference(source: string, options: Options, inputs: Record<string, Tensor>) {
  const reply = await runInWorker('interp', source, options, inputs);
  if (!reply.ok) throw new Error(reply.error);
  return reply;
}

function report(
  target: string,
  got: Record<string, Tensor>,
  want: Record<string, Tensor>,
  ms: number,
  refMs: number,
): void {
  const checks = checkOutputs(got, want);
  const pass = checks.every((c) => c.pass);
  const rows = checks
    .map(
      (c) =>
        `<tr><td>${escapeXml(c.name)}</td><td>[${c.shape.join(', ')}]</td><td>${c.maxAbsError.toExponential(2)}</td><td class="${c.pass ? 'pass-ok' : 'pass-fail'}">${c.pass ? '✓ matches' : '✗ differs'}</td><td>${c.sample.map((v) => v.toFixed(4)).join(', ')}…</td></tr>`,
    )
    .join('');
  show(
    target,
    pass ? 'pass' : 'fail',
    `<p class="${pass ? 'pass-ok' : 'pass-fail'}" id="run-verdict">${target}: ${pass ? 'check passed' : 'check FAILED'} against the interpreter (${ms.toFixed(1)} ms; interpreter ${refMs.toFixed(1)} ms)</p>
     <table><tr><th>output</th><th>shape</th><th>max |Δ|</th><th>check</th><th>first values</th></tr>${rows}</table>`,
  );
}

function fail(target: string, e: unknown): void {
  const message = e instanceof EinError ? e.format() : e instanceof Error ? e.message : String(e);
  show(target, 'error', `<pre class="pass-fail">${escapeXml(message)}</pre>`);
}

async function runWasm(source: string, options: Options): Promise<void> {
  show('wasm', 'running', 'running on WASM…');
  try {
    const inputs = inputsFor(source, options);
    const reply = await runInWorker('wasm', source, options, inputs);
    if (!reply.ok) throw new Error(reply.error);
    const want = await reference(source, options, inputs);
    report('wasm', reply.outputs, want.outputs, reply.ms, want.ms);
  } catch (e) {
    fail('wasm', e);
  }
}

async function runWebGpu(source: string, options: Options): Promise<void> {
  show('webgpu', 'running', 'running on WebGPU…');
  try {
    const adapter = await navigator.gpu.requestAdapter();
    if (!adapter) return show('webgpu', 'unavailable', 'WebGPU: navigator.gpu found no adapter.');
    if (!backendFor('wgsl')?.run)
      return show('webgpu', 'unavailable', 'The WGSL backend is not available yet in this build.');
    const inputs = inputsFor(source, options);
    const kernel = await compile(source, compileOptions(options, 'wgsl'));
    const started = performance.now();
    const got = await kernel.run(inputs);
    const ms = performance.now() - started;
    const want = await reference(source, options, inputs);
    report('webgpu', got, want.outputs, ms, want.ms);
  } catch (e) {
    fail('webgpu', e);
  }
}

export function setupRun(current: () => { source: string; options: Options }): void {
  const wasm = byId<HTMLButtonElement>('run-wasm');
  const gpu = byId<HTMLButtonElement>('run-webgpu');
  const guard = (button: HTMLButtonElement, run: () => Promise<void>) => async () => {
    button.disabled = true;
    try {
      await run();
    } finally {
      button.disabled = false;
    }
  };
  if (!crossOriginIsolated) wasm.title = 'needs cross-origin isolation (COOP/COEP) for shared memory';
  wasm.onclick = guard(wasm, () => runWasm(current().source, current().options));
  if (!('gpu' in navigator)) {
    gpu.disabled = true;
    gpu.title = 'this browser has no navigator.gpu';
    return;
  }
  gpu.onclick = guard(gpu, () => runWebGpu(current().source, current().options));
}
