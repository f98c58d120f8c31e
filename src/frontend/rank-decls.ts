// Rank declarations: `rank R = SIZE` (defined, at the top level or in a kernel) and
// `default rank R = SIZE` (a value for a symbolic rank that nothing else sets).
import type { ProgramAst, RankDecl } from './ast.js';
import type { KernelIR, RankInfo } from '../ir/cascade.js';
import { fail } from './diagnostics.js';
import { resolveSize } from './resolve.js';
import { isRankName } from './scope.js';

export function declareRank(
  d: RankDecl,
  into: Map<string, RankInfo>,
  visible: ReadonlyMap<string, unknown>,
): void {
  if (!isRankName(d.name))
    fail(`rank names are UPPERCASE`, d.nameSpan, `write rank ${d.name.toUpperCase()} = ...`);
  if (visible.has(d.name)) fail(`rank ${d.name} is defined twice`, d.nameSpan);
  into.set(d.name, { name: d.name, value: resolveSize(d.value, visible), span: d.span });
}

/**
 * `default rank T = 64` gives a symbolic rank the value it takes when neither `--rank` nor an input's
 * shape sets it, so an example runs as written yet stays resizable (a defined rank cannot be set).
 */
export function checkDefaults(
  ast: ProgramAst,
  globals: ReadonlyMap<string, RankInfo>,
  kernels: readonly KernelIR[],
): RankInfo[] {
  const defaults = new Map<string, RankInfo>();
  for (const item of ast.items) {
    if (item.kind !== 'rank' || !item.isDefault) continue;
    if (globals.has(item.name))
      fail(
        `rank ${item.name} is defined, so a default cannot change it`,
        item.nameSpan,
        `drop the default, or make ${item.name} symbolic`,
      );
    if (!kernels.some((k) => k.ranks.some((r) => r.name === item.name && !r.value)))
      fail(
        `no kernel has a symbolic rank ${item.name} for this default to set`,
        item.nameSpan,
        'a default names a rank used in a kernel signature',
      );
    declareRank(item, defaults, new Map([...globals, ...defaults]));
  }
  return [...defaults.values()];
}
