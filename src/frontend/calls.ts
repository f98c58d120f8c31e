// Shapes across a kernel call: the callee's symbolic ranks are bound to the caller's sizes by its
// parameters' shapes (a plain rank binds; anything else must agree), then its outputs' shapes follow.
import type { CallStep, KernelIR } from '../ir/cascade.js';
import type { Expr } from '../ir/expr.js';
import { ranksIn, sameSize, substituteRanks } from '../ir/sizes.js';
import { fail } from './diagnostics.js';
import { printExpr } from './print-expr.js';
import type { KernelScope } from './scope.js';

/** Callee-rank → caller-size bindings for one call; needs the arguments' shapes. */
export function bindCallRanks(
  step: CallStep,
  callee: KernelIR,
  shapeOf: (tensor: string) => readonly Expr[],
  globals: ReadonlySet<string>,
): Map<string, Expr> {
  const bindings = new Map<string, Expr>();
  const symbolic = new Set(callee.ranks.filter((r) => r.value === undefined).map((r) => r.name));
  const pending: [Expr, Expr, string][] = [];
  callee.params.forEach((param, i) => {
    const argShape = shapeOf(step.args[i]!);
    callee.tensors[param]!.shape.forEach((dim, axis) => {
      const actual = argShape[axis]!;
      const where = `${step.args[i]} axis ${axis} for ${callee.name}'s ${param}`;
      if (dim.k === 'rank' && symbolic.has(dim.name) && !globals.has(dim.name)) {
        const bound = bindings.get(dim.name);
        if (!bound) bindings.set(dim.name, actual);
        else if (!sameSize(bound, actual) && provablyDifferent(bound, actual))
          fail(
            `${callee.name} needs ${dim.name} = ${printExpr(bound)}, but ${where} is ${printExpr(actual)}`,
            step.span,
          );
      } else pending.push([dim, actual, where]);
    });
  });
  // The callee's own `rank R = ...` definitions, in terms of the caller.
  for (const r of callee.ranks) if (r.value) bindings.set(r.name, substituteRanks(r.value, bindings));
  for (const [dim, actual, where] of pending) {
    const expected = substituteRanks(dim, bindings);
    if (!sameSize(expected, actual) && provablyDifferent(expected, actual))
      fail(`${where} must have size ${printExpr(expected)}, not ${printExpr(actual)}`, step.span);
  }
  return bindings;
}

/** Set the shapes of a call's outputs in the caller. */
export function inferCall(
  step: CallStep,
  callee: KernelIR,
  scope: KernelScope,
  globals: ReadonlySet<string>,
): void {
  const bindings = bindCallRanks(step, callee, (t) => scope.tensors.get(t)!.shape!, globals);
  callee.outputs.forEach((o, i) => {
    const shape = callee.tensors[o]!.shape.map((dim) => {
      const unbound = [...ranksIn(dim)].filter((r) => !globals.has(r) && !bindings.has(r));
      if (unbound.length > 0)
        fail(
          `the arguments of ${callee.name} do not determine its rank ${unbound[0]}`,
          step.span,
          `give ${callee.name} a parameter whose shape uses ${unbound[0]}`,
        );
      return substituteRanks(dim, bindings);
    });
    const slot = scope.tensors.get(step.outputs[i]!)!;
    slot.shape = shape;
  });
}

/** Two sizes with no ranks left that still differ (symbolic ones are checked when ranks are bound). */
function provablyDifferent(a: Expr, b: Expr): boolean {
  return ranksIn(a).size === 0 && ranksIn(b).size === 0;
}
