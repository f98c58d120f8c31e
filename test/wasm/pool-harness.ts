import binaryen from 'binaryen';
import { FunctionLocals } from '../../src/backends/wasm/function-locals.js';
import { buildKernelModule, createKernelMemory } from '../../src/backends/wasm/kernel-module.js';

/**
 * A module over a shared memory with two range functions for pool tests:
 * `mark(start, end)` adds 1 to the i32 at index i for every item i (items are disjoint, so a
 * plain load/store detects double or missing visits); `trap_at_end(start, end)` traps on item
 * `trapItem`.
 */
export function buildPoolTestModule(trapItem: number): {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
} {
  const options = { memoryPages: 4, shared: true };
  const bytes = buildKernelModule(options, (mod) => {
    const params = binaryen.createType([binaryen.i32, binaryen.i32]);
    const start = () => mod.local.get(0, binaryen.i32);
    const address = () => mod.i32.shl(start(), mod.i32.const(2));
    const markLocals = new FunctionLocals(2);
    const markBody = mod.loop(
      'items',
      mod.block(null, [
        mod.i32.store(0, 4, address(), mod.i32.add(mod.i32.load(0, 4, address()), mod.i32.const(1))),
        mod.local.set(0, mod.i32.add(start(), mod.i32.const(1))),
        mod.br('items', mod.i32.lt_u(start(), mod.local.get(1, binaryen.i32))),
      ]),
    );
    mod.addFunction('mark', params, binaryen.none, markLocals.varTypes, markBody);
    mod.addFunctionExport('mark', 'mark');
    const trapBody = mod.if(
      mod.i32.and(
        mod.i32.le_u(start(), mod.i32.const(trapItem)),
        mod.i32.gt_u(mod.local.get(1, binaryen.i32), mod.i32.const(trapItem)),
      ),
      mod.unreachable(),
    );
    mod.addFunction('trap_at_end', params, binaryen.none, [], trapBody);
    mod.addFunctionExport('trap_at_end', 'trap_at_end');
  });
  return { module: new WebAssembly.Module(bytes), memory: createKernelMemory(options) };
}
