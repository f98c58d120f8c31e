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
