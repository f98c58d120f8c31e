// What a compile shows: the dump after every pass, the generated WASM text, WGSL and CUDA (or why
// there is none), and the memory report with its charts.
import { backendFor, compile, EinError, type CompileReport, type Kernel } from '../../src/index.js';
import { explainReport } from '../../src/passes/report.js';
import { compileOptions } from './compile-options.js';
import type { Options } from './controls.js';
import { byId } from './dom.js';
import { arenaChartSvg, cosmaChartSvg, trafficChartSvg } from './memory-chart.js';

let selectedPass: string | undefined;

function showPasses(kernel: Kernel): void {
  const list = byId('pass-list');
  const dump = byId('pass-dump');
  if (!kernel.passes.some((p) => p.name === selectedPass)) selectedPass = kernel.passes.at(-1)?.name;
  const select = (name: string) => {
    selectedPass = name;
    for (const b of list.querySelectorAll<HTMLButtonElement>('button'))
      b.setAttribute('aria-pressed', String(b.dataset.pass === name));
    const pass = kernel.passes.find((p) => p.name === name)!;
    dump.textContent = `# after ${pass.name}: ${pass.description}\n\n${pass.dump()}`;
  };
  list.replaceChildren(
    ...kernel.passes.map((p, i) => {
      const button = document.createElement('button');
      button.type = 'button';
      button.className = 'pass';
      button.dataset.pass = p.name;
      button.title = p.description;
      button.textContent = `${i + 1}. ${p.name}`;
      button.onclick = () => select(p.name);
      return button;
    }),
  );
  if (selectedPass) select(selectedPass);
}

function showSource(id: string, text: string | undefined, unavailable: string): void {
  const pre = byId(id);
  pre.classList.toggle('unavailable', text === undefined);
  pre.textContent = text ?? unavailable;
}

/** The WGSL or CUDA tab: the backend's source, "not available yet", or the compile error. */
async function showGpuSource(target: 'wgsl' | 'cuda', source: string, options: Options): Promise<void> {
  const id = `source-${target}`;
  if (!backendFor(target)) {
    showSource(id, undefined, `The ${target.toUpperCase()} backend is not available yet in this build.`);
    return;
  }
  try {
    const kernel = await compile(source, compileOptions(options, target));
    showSource(id, kernel.source, `The ${target.toUpperCase()} printer produced nothing.`);
  } catch (e) {
    showSource(id, undefined, e instanceof EinError ? e.format() : String(e));
  }
}

function showMemory(report: CompileReport): void {
  byId('arena-chart').innerHTML = report.memory
    ? arenaChartSvg(
        report.memory,
        report.kernels.map((k) => k.name),
      )
    : '<p class="unavailable">no memory plan</p>';
  // Only when the COSMA pass ran (a COSMA budget was given).
  const plan = report.cosma?.plan;
  byId('cosma-section').hidden = !plan;
  byId('cosma-chart').innerHTML = plan ? cosmaChartSvg(plan) : '';
  byId('traffic-chart').innerHTML = trafficChartSvg(report.kernels);
  let text: string;
  try {
    text = explainReport(report);
  } catch {
    // The report's text form is optional here: the JSON says the same.
    text = JSON.stringify({ ...report, memory: undefined }, null, 2);
  }
  byId('explain').textContent = text;
}

/** Compile for WASM (passes, WASM text, memory) and for the GPU targets; throws the WASM error. */
export async function showCompiled(source: string, options: Options): Promise<Kernel> {
  const kernel = await compile(source, compileOptions(options, 'wasm'));
  showPasses(kernel);
  showSource('source-wasm', kernel.source, '');
  showMemory(kernel.report);
  await Promise.all([showGpuSource('wgsl', source, options), showGpuSource('cuda', source, options)]);
  return kernel;
}
