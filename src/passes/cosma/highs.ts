/**
 * The HiGHS (WebAssembly) MIP solver behind one small async boundary, so a
 * browser bundle can swap how the module and its .wasm file are located.
 */
import * as highsPackage from 'highs';
import type { Highs, InitOptions } from 'highs';
import type { SolverStatus } from './plan.js';

type HighsLoader = (options?: InitOptions) => Promise<Highs>;

let runtime: Promise<Highs> | null = null;

/**
 * The typings describe the CommonJS build (loader under `.default` of
 * `module.exports`), while Node and bundlers pick the ESM build (loader is
 * the default export); accept both shapes.
 */
function highsLoader(): HighsLoader {
  const exported: unknown = highsPackage.default;
  if (typeof exported === 'function') return exported as HighsLoader;
  const nested: unknown = (exported as { default?: unknown } | undefined)?.default;
  if (typeof nested === 'function') return nested as HighsLoader;
  throw new Error('the "highs" package does not export its loader as expected');
}

/**
 * Loads the solver once per process. Node resolves `highs.wasm` next to the
 * package's ESM entry; bundlers may need `locateFile` or `wasmBinary`
 * (honoured by the first call only).
 */
export function loadHighs(options?: InitOptions): Promise<Highs> {
  runtime ??= highsLoader()(options);
  return runtime;
}

export interface MipOutcome {
  readonly status: SolverStatus;
  /** Objective of the incumbent (constant included); null without one. */
  readonly objective: number | null;
  /** Proven lower bound (minimization); null when the solver reports none. */
  readonly bestBound: number | null;
  /** Incumbent value of a variable; 0 for names HiGHS did not keep. */
  readonly value: (variable: string) => number;
  readonly seconds: number;
}

/**
 * Solves to a proven optimum or the time limit. `start` (variable → value,
 * others 0) seeds the incumbent; HiGHS checks it and ignores it if infeasible.
 */
export async function solveMip(
  lpText: string,
  timeLimitSeconds: number,
  start?: ReadonlyMap<string, number>,
): Promise<MipOutcome> {
  const highs = await loadHighs();
  const codes = highs.constants.modelStatus;
  const model = highs.createModel({ format: 'lp', data: lpText });
  try {
    model.options.set({ mip_rel_gap: 0, time_limit: timeLimitSeconds, output_flag: false });
    if (start !== undefined) {
      const { numCols } = model.getDimensions();
      const colValue = Float64Array.from({ length: numCols }, (_, index) => {
        return start.get(model.getColName(index)) ?? 0;
      });
      model.setSolution({ colValue });
    }
    const began = performance.now();
    const { modelStatus } = model.run();
    const seconds = (performance.now() - began) / 1000;
    const hasIncumbent =
      modelStatus === codes.optimal ||
      model.info.get('primal_solution_status') === highs.constants.solutionStatus.feasible;
    let status: SolverStatus;
    if (modelStatus === codes.optimal) status = 'optimal';
    else if (modelStatus === codes.infeasible || modelStatus === codes.unboundedOrInfeasible) {
      status = 'infeasible';
    } else if (modelStatus === codes.timeLimit || modelStatus === codes.iterationLimit) {
      status = hasIncumbent ? 'feasible' : 'no-solution';
    } else {
      throw new Error(`HiGHS stopped with model status ${modelStatus} on the COSMA ILP`);
    }
    const columns = new Map<string, number>();
    if (hasIncumbent) {
      const { colValue } = model.getSolution();
      colValue.forEach((value, index) => columns.set(model.getColName(index), value));
    }
    const bound = status === 'infeasible' ? null : Number(model.info.get('mip_dual_bound'));
    return {
      status,
      objective: hasIncumbent ? model.getObjectiveValue() : null,
      bestBound: bound !== null && Number.isFinite(bound) ? bound : null,
      value: (variable) => columns.get(variable) ?? 0,
      seconds,
    };
  } finally {
    model.dispose();
  }
}
