import binaryen from 'binaryen';
import { FunctionLocals } from './function-locals.js';
import { addMicrokernel } from './gemm-microkernel.js';
import { addGemmPack, gemmPackItems } from './gemm-pack.js';
import { planGemm, type GemmPlan, type GemmSpec } from './gemm-plan.js';
import { addGemv, gemvItems, gemvKind } from './gemm-vector.js';

export { gemmScratchBytes, DEFAULT_TILE, DEFAULT_RELAXED_TILE } from './gemm-plan.js';
export type { GemmSpec, GemmTile, GemmPlan } from './gemm-plan.js';

/** One parallel-for phase: call the export `(start, end)` over sub-ranges of [0, count). */
export interface GemmPhase {
  exportName: string;
  count: number;
}

export interface GemmKernel {
  plan: GemmPlan;
  /** Phases to run in order (pack, then compute); items of one phase are independent. */
  phases: GemmPhase[];
}

/**
 * Adds a static-shape GEMM to `mod` (which must have a memory and the SIMD128 feature, plus
 * RelaxedSIMD when `spec.relaxedSimd`): a pack function and a compute function over the M×N
 * block grid, both exported. Several GEMMs can live in one module under different names. A
 * matrix-vector product (M or N is 1) is one unpacked GEMV phase instead (gemm-vector.ts).
 */
export function addGemm(mod: binaryen.Module, spec: GemmSpec): GemmKernel {
  const plan = planGemm(spec);
  const gemv = gemvKind(spec);
  if (gemv) {
    addGemv(mod, spec, gemv);
    mod.addFunctionExport(plan.name, plan.name);
    return { plan, phases: [{ exportName: plan.name, count: gemvItems(spec, gemv) }] };
  }
  const packExport = addGemmPack(mod, plan);
  mod.addFunctionExport(packExport, packExport);
  addGemmCompute(mod, plan);
  mod.addFunctionExport(plan.name, plan.name);
  return {
    plan,
    phases: [
      { exportName: packExport, count: gemmPackItems(plan) },
      { exportName: plan.name, count: plan.mBlocks * plan.nBlocks },
    ],
  };
}

/** Anything that can run an export `(start, end)` over [0, count), such as WasmThreadPool. */
export interface ParallelRunner {
  parallelFor(exportName: string, count: number): void;
}

/** Runs the phases of `kernel` in order, each as one parallel-for. */
export function runGemm(runner: ParallelRunner, kernel: GemmKernel): void {
  for (const phase of kernel.phases) runner.parallelFor(phase.exportName, phase.count);
}

/** Runs all phases of `kernel` on the calling thread through an instance's exports. */
export function runGemmSerial(exports: WebAssembly.Exports, kernel: GemmKernel): void {
  for (const phase of kernel.phases) {
    const run = exports[phase.exportName];
    if (typeof run !== 'function') throw new Error(`module has no export '${phase.exportName}'`);
    run(0, phase.count);
  }
}

/**
 * The compute function `name(blockStart, blockEnd)`: block b covers rows
 * [mb·blockRows, +blockRows) and panels [nb·blockPanels, +blockPanels) with mb = b / nBlocks,
 * nb = b % nBlocks. Inside a block, panels are the outer loop so one packed B panel is reused by
 * all its row tiles (XNNPACK's 2-D tiling, src/microkernel-utils.c). M and N tails call
 * micro-kernels specialised for the static remainder, so the hot kernel has no edge branches.
 */
function addGemmCompute(mod: binaryen.Module, plan: GemmPlan): void {
  const { mr, nr } = plan.tile;
  const { c } = plan.source;
  const fullRows = plan.m - (plan.m % mr);
  const tailRows = plan.m % mr;
  const tailColumns = plan.n % nr;
  const kernelName = (rows: number, columns: number) => `${plan.name}_uk${rows}x${columns}`;
  const kernelRowCounts = [...(fullRows > 0 ? [mr] : []), ...(tailRows > 0 ? [tailRows] : [])];
  const kernelColumnCounts = [...(plan.n >= nr ? [nr] : []), ...(tailColumns > 0 ? [tailColumns] : [])];
  for (const rows of kernelRowCounts)
    for (const columns of kernelColumnCounts)
      addMicrokernel(mod, kernelName(rows, columns), {
        rows,
        panelWidth: nr,
        columns,
        k: plan.k,
        kUnroll: plan.tile.kUnroll,
        aRowBytes: plan.aRowBytes,
        cRowBytes: 4 * c.strideM,
        cColumnBytes: 4 * c.strideN,
        accumulate: plan.accumulate,
        relaxedFma: plan.relaxedSimd,
      });

  const locals = new FunctionLocals(2);
  const block = locals.add(binaryen.i32);
  const rowStart = locals.add(binaryen.i32);
  const rowStop = locals.add(binaryen.i32);
  const panel = locals.add(binaryen.i32);
  const panelStop = locals.add(binaryen.i32);
  const packed = locals.add(binaryen.i32);
  const cPanel = locals.add(binaryen.i32);
  const row = locals.add(binaryen.i32);
  const get = (index: number) => mod.local.get(index, binaryen.i32);
  const constant = (value: number) => mod.i32.const(value);
  const minimum = (value: () => binaryen.ExpressionRef, limit: number) =>
    mod.select(mod.i32.lt_u(value(), constant(limit)), value(), constant(limit));
  const callKernel = (
    rows: number,
    columns: number,
    atRow: binaryen.ExpressionRef,
    cRow: binaryen.ExpressionRef,
  ) =>
    mod.call(
      kernelName(rows, columns),
      [
        mod.i32.add(constant(plan.aBase), mod.i32.mul(atRow, constant(plan.aRowBytes))),
        get(packed),
        mod.i32.add(get(cPanel), mod.i32.mul(cRow, constant(4 * c.strideM))),
      ],
      binaryen.none,
    );

  /** Row tiles of the current block against the current panel, which has `columns` columns. */
  const rowTiles = (columns: number): binaryen.ExpressionRef => {
    const label = `rows${columns}`;
    const body: binaryen.ExpressionRef[] = [];
    if (fullRows > 0)
      body.push(
        mod.local.set(row, get(rowStart)),
        mod.block(`${label}_done`, [
          mod.loop(
            label,
            mod.block(null, [
              mod.br(`${label}_done`, mod.i32.ge_u(get(row), get(rowStop))),
              callKernel(mr, columns, get(row), get(row)),
              mod.local.set(row, mod.i32.add(get(row), constant(mr))),
              mod.br(label),
            ]),
          ),
        ]),
      );
    if (tailRows > 0)
      body.push(
        mod.if(
          mod.i32.ge_u(mod.i32.add(get(rowStart), constant(plan.blockRows)), constant(plan.m)),
          callKernel(tailRows, columns, constant(fullRows), constant(fullRows)),
        ),
      );
    return mod.block(null, body);
  };

  const panelBody = mod.block(null, [
    mod.local.set(
      packed,
      mod.i32.add(constant(plan.packedBOffset), mod.i32.mul(get(panel), constant(plan.panelBytes))),
    ),
    mod.local.set(
      cPanel,
      mod.i32.add(constant(c.offset), mod.i32.mul(get(panel), constant(4 * nr * c.strideN))),
    ),
    tailColumns === 0
      ? rowTiles(nr)
      : plan.n < nr
        ? rowTiles(tailColumns)
        : mod.if(mod.i32.eq(get(panel), constant(plan.panels - 1)), rowTiles(tailColumns), rowTiles(nr)),
    mod.local.set(panel, mod.i32.add(get(panel), constant(1))),
    mod.br('panels', mod.i32.lt_u(get(panel), get(panelStop))),
  ]);

  const body = mod.block(null, [
    mod.local.set(block, mod.local.get(0, binaryen.i32)),
    mod.block('blocks_done', [
      mod.loop(
        'blocks',
        mod.block(null, [
          mod.br('blocks_done', mod.i32.ge_u(get(block), mod.local.get(1, binaryen.i32))),
          mod.local.set(
            rowStart,
            mod.i32.mul(mod.i32.div_u(get(block), constant(plan.nBlocks)), constant(plan.blockRows)),
          ),
          mod.local.set(
            panel,
            mod.i32.mul(mod.i32.rem_u(get(block), constant(plan.nBlocks)), constant(plan.blockPanels)),
          ),
          mod.local.set(
            rowStop,
            minimum(() => mod.i32.add(get(rowStart), constant(plan.blockRows)), fullRows),
          ),
          mod.local.set(
            panelStop,
            minimum(() => mod.i32.add(get(panel), constant(plan.blockPanels)), plan.panels),
          ),
          mod.loop('panels', panelBody),
          mod.local.set(block, mod.i32.add(get(block), constant(1))),
          mod.br('blocks'),
        ]),
      ),
    ]),
  ]);
  mod.addFunction(
    plan.name,
    binaryen.createType([binaryen.i32, binaryen.i32]),
    binaryen.none,
    locals.varTypes,
    body,
  );
}
