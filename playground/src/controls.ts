// The option controls above the editor: example picker, kernel, one input per symbolic rank,
// scratchpad and threads. They read and write the options part of the shareable state.
import type { CascadeProgram } from '../../src/ir/cascade.js';
import { applyRankDefaults } from '../../src/ir/bind.js';
import { byId } from './dom.js';
import { EXAMPLES } from './examples.js';
import type { PlaygroundState } from './share.js';

export const DEFAULT_RANK = 16;

export type Options = Omit<PlaygroundState, 'source'>;

export function fillExamples(onPick: (source: string) => void): void {
  const select = byId<HTMLSelectElement>('example');
  select.append(new Option('(choose)', ''));
  for (const e of EXAMPLES) select.append(new Option(e.name, e.name));
  select.onchange = () => {
    const example = EXAMPLES.find((e) => e.name === select.value);
    if (example) onPick(example.source);
  };
}

/** Rebuild the kernel list and the rank inputs for `program`, keeping the values in `options`. */
export function showProgram(program: CascadeProgram, options: Options): void {
  const select = byId<HTMLSelectElement>('kernel');
  const names = program.kernels.map((k) => k.name);
  const chosen = options.kernel && names.includes(options.kernel) ? options.kernel : names[names.length - 1];
  select.replaceChildren(...names.map((n) => new Option(n, n, n === chosen, n === chosen)));
  const kernel = program.kernels.find((k) => k.name === chosen);
  const symbolic = kernel?.ranks.filter((r) => !r.value).map((r) => r.name) ?? [];
  const ranks = byId('ranks');
  const current = readRanks();
  const defaults = new Map<string, number>();
  applyRankDefaults(program, new Set(symbolic), defaults);
  ranks.replaceChildren(
    ...symbolic.map((name) => {
      const label = document.createElement('label');
      const input = document.createElement('input');
      input.type = 'number';
      input.min = '1';
      input.dataset.rank = name;
      input.value = String(options.ranks[name] ?? current[name] ?? defaults.get(name) ?? DEFAULT_RANK);
      label.append(`${name} `, input);
      return label;
    }),
  );
}

function readRanks(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const input of byId('ranks').querySelectorAll<HTMLInputElement>('input[data-rank]'))
    if (input.value) out[input.dataset.rank!] = Number(input.value);
  return out;
}

export function readOptions(): Options {
  const scratchpad = byId<HTMLInputElement>('scratchpad').value;
  const cosma = byId<HTMLInputElement>('cosma').value;
  return {
    kernel: byId<HTMLSelectElement>('kernel').value || undefined,
    ranks: readRanks(),
    scratchpad: scratchpad ? Number(scratchpad) : undefined,
    cosmaScratchpad: cosma ? Number(cosma) : undefined,
    threads: Math.max(1, Number(byId<HTMLInputElement>('threads').value) || 1),
  };
}

export function writeOptions(options: Options): void {
  byId<HTMLInputElement>('scratchpad').value = options.scratchpad ? String(options.scratchpad) : '';
  byId<HTMLInputElement>('cosma').value = options.cosmaScratchpad ? String(options.cosmaScratchpad) : '';
  byId<HTMLInputElement>('threads').value = String(options.threads);
}
