// The playground page: editor, options, compile, tabs, run, and the shareable URL.
import { checkProgram, EinError } from '../../src/index.js';
import { fillExamples, readOptions, showProgram, writeOptions, type Options } from './controls.js';
import { byId, setStatus } from './dom.js';
import { createEditor, setDocument } from './editor.js';
import { EXAMPLES } from './examples.js';
import { setupRun } from './run-panel.js';
import { decodeState, encodeState, type PlaygroundState } from './share.js';
import { showCompiled } from './views.js';

const DEFAULT_EXAMPLE = 'attention';
const fallback = EXAMPLES.find((e) => e.name === DEFAULT_EXAMPLE) ?? EXAMPLES[0];
const initial: PlaygroundState = decodeState(location.hash) ?? {
  source: fallback?.source ?? '',
  ranks: {},
  threads: 2,
};

let source = initial.source;
let refreshTimer: ReturnType<typeof setTimeout> | undefined;

/** Kernel list and rank inputs follow the program as it is edited (when it checks). */
function refreshControls(options: Options): void {
  try {
    showProgram(checkProgram(source, 'playground.ein'), options);
  } catch (e) {
    if (!(e instanceof EinError)) throw e;
  }
}

function currentState(): PlaygroundState {
  return { source, ...readOptions() };
}

function updateUrl(): void {
  const hash = encodeState(currentState());
  history.replaceState(null, '', hash);
  byId<HTMLInputElement>('share-url').value = location.href;
}

async function compileNow(): Promise<void> {
  // Edits may have changed the kernels and ranks since the last (debounced) refresh.
  clearTimeout(refreshTimer);
  refreshControls(readOptions());
  const state = currentState();
  updateUrl();
  setStatus('busy', 'compiling…');
  const started = performance.now();
  try {
    const kernel = await showCompiled(state.source, state);
    const ranks = Object.entries(kernel.ranks)
      .map(([k, v]) => `${k}=${v}`)
      .join(', ');
    setStatus(
      'ok',
      `compiled ${kernel.name} (${ranks}) in ${(performance.now() - started).toFixed(0)} ms: ${kernel.report.kernels.length} kernel(s), arena ${kernel.report.arenaBytes} bytes`,
    );
  } catch (e) {
    setStatus('error', e instanceof EinError ? e.format() : String(e instanceof Error ? e.stack : e));
  }
}

function selectTab(name: string): void {
  for (const tab of document.querySelectorAll<HTMLButtonElement>('.tab'))
    tab.setAttribute('aria-selected', String(tab.dataset.tab === name));
  for (const panel of document.querySelectorAll<HTMLElement>('.panel'))
    panel.classList.toggle('active', panel.id === `panel-${name}`);
}

function load(state: PlaygroundState): void {
  source = state.source;
  writeOptions(state);
  setDocument(editor, state.source);
  refreshControls(state);
  void compileNow();
}

const editor = createEditor(byId('editor'), source, (text) => {
  source = text;
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(() => {
    refreshControls(readOptions());
    updateUrl();
  }, 300);
});

for (const tab of document.querySelectorAll<HTMLButtonElement>('.tab'))
  tab.onclick = () => selectTab(tab.dataset.tab!);
selectTab('passes');
fillExamples((text) => load({ source: text, ranks: {}, threads: readOptions().threads }));
byId('compile').onclick = () => void compileNow();
byId('kernel').onchange = () => refreshControls(readOptions());
byId('share').onclick = async () => {
  updateUrl();
  byId<HTMLInputElement>('share-url').select();
  await navigator.clipboard?.writeText(location.href).catch(() => undefined);
};
window.addEventListener('hashchange', () => {
  const state = decodeState(location.hash);
  if (state && state.source !== source) load(state);
});
setupRun(() => ({ source, options: readOptions() }));
writeOptions(initial);
if (!location.hash && fallback) byId<HTMLSelectElement>('example').value = fallback.name;
refreshControls(initial);
void compileNow();
