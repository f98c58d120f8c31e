import binaryen from 'binaryen';

/**
 * Allocates the locals of one function being built with binaryen: parameters come first,
 * then every `add` returns the index of a new variable. Pass `varTypes` to `addFunction`.
 */
export class FunctionLocals {
  private readonly vars: binaryen.Type[] = [];

  constructor(private readonly paramCount: number) {}

  add(type: binaryen.Type): number {
    this.vars.push(type);
    return this.paramCount + this.vars.length - 1;
  }

  get varTypes(): binaryen.Type[] {
    return [...this.vars];
  }
}

/**
 * Adds the pool work function `name(itemStart, itemEnd)`: `work` runs once per item, with the item
 * number in local `item` (from `locals`), as the worker pool splits a kernel's items between threads.
 */
export function addItemRangeFunction(
  mod: binaryen.Module,
  name: string,
  locals: FunctionLocals,
  item: number,
  work: binaryen.ExpressionRef,
): void {
  const param = (index: number) => mod.local.get(index, binaryen.i32);
  const body = mod.block(null, [
    mod.local.set(item, param(0)),
    mod.block('items_done', [
      mod.loop(
        'items',
        mod.block(null, [
          mod.br('items_done', mod.i32.ge_u(param(item), param(1))),
          work,
          mod.local.set(item, mod.i32.add(param(item), mod.i32.const(1))),
          mod.br('items'),
        ]),
      ),
    ]),
  ]);
  mod.addFunction(
    name,
    binaryen.createType([binaryen.i32, binaryen.i32]),
    binaryen.none,
    locals.varTypes,
    body,
  );
}
