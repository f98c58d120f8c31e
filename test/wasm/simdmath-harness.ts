import binaryen from 'binaryen';
import { FunctionLocals } from '../../src/backends/wasm/function-locals.js';
import { buildKernelModule, createKernelMemory } from '../../src/backends/wasm/kernel-module.js';
import type { SimdMathContext } from '../../src/backends/wasm/simdmath.js';

export type VectorEmitter = (ctx: SimdMathContext, x: binaryen.ExpressionRef) => binaryen.ExpressionRef;

/**
 * Compiles `emitter` into `map(pointer, count)`, which applies it in place to `count` floats
 * (a multiple of 4), and returns a JS function running it over a Float32Array.
 */
export function compileVectorMap(
  emitter: VectorEmitter,
  maxElements: number,
): (input: Float32Array) => Float32Array {
  const options = { memoryPages: Math.ceil((maxElements * 4) / 65536) + 1 };
  const bytes = buildKernelModule(options, (mod) => {
    const locals = new FunctionLocals(2);
    const pointer = () => mod.local.get(0, binaryen.i32);
    const end = locals.add(binaryen.i32);
    const value = emitter({ mod, locals }, mod.v128.load(0, 16, pointer()));
    const body = mod.block(null, [
      mod.local.set(
        end,
        mod.i32.add(pointer(), mod.i32.shl(mod.local.get(1, binaryen.i32), mod.i32.const(2))),
      ),
      mod.loop(
        'elements',
        mod.block(null, [
          mod.v128.store(0, 16, pointer(), value),
          mod.local.set(0, mod.i32.add(pointer(), mod.i32.const(16))),
          mod.br('elements', mod.i32.lt_u(pointer(), mod.local.get(end, binaryen.i32))),
        ]),
      ),
    ]);
    mod.addFunction(
      'map',
      binaryen.createType([binaryen.i32, binaryen.i32]),
      binaryen.none,
      locals.varTypes,
      body,
    );
    mod.addFunctionExport('map', 'map');
  });
  const memory = createKernelMemory(options);
  const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } });
  const map = instance.exports.map as (pointer: number, count: number) => void;
  return (input) => {
    if (input.length % 4 !== 0 || input.length > maxElements)
      throw new Error(`bad input length ${input.length}`);
    const view = new Float32Array(memory.buffer, 0, input.length);
    view.set(input);
    map(0, input.length);
    return view.slice();
  };
}

/** Distance from `actual` to `exact` in units of the f32 spacing at `exact` (normal range). */
export function ulpError(actual: number, exact: number): number {
  const rounded = Math.fround(exact);
  if (actual === rounded) return 0;
  const magnitude = Math.max(Math.abs(rounded), 2 ** -126);
  const ulp = 2 ** (Math.floor(Math.log2(magnitude)) - 23);
  return Math.abs(actual - exact) / ulp;
}

/** `count` f32 values evenly spaced over [low, high], padded to a multiple of 4. */
export function sweep(low: number, high: number, count: number): Float32Array {
  const values = new Float32Array(Math.ceil(count / 4) * 4);
  for (let i = 0; i < values.length; i++) values[i] = low + ((high - low) * i) / (values.length - 1);
  return values;
}
