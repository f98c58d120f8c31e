/**
 * Linear expressions with constants and a model builder that normalizes rows
 * (variables left, constants right) so fixed-schedule constants (Eq. 16–17)
 * fold away, and rows without variables are checked on the spot.
 */
import type { LpModel, LpSense, LpTerm, LpVariable } from './lp-text.js';

export type LinearPart = LinearExpr | string | number;

export class LinearExpr {
  private readonly coefficients = new Map<string, number>();
  private constantPart = 0;

  static sum(...parts: LinearPart[]): LinearExpr {
    const expr = new LinearExpr();
    for (const part of parts) expr.add(part);
    return expr;
  }

  /** Adds `factor` times a variable name, a constant, or another expression. */
  add(part: LinearPart, factor = 1): this {
    if (typeof part === 'number') {
      this.constantPart += factor * part;
    } else if (typeof part === 'string') {
      this.coefficients.set(part, (this.coefficients.get(part) ?? 0) + factor);
    } else {
      this.constantPart += factor * part.constantPart;
      for (const [name, value] of part.coefficients) this.add(name, factor * value);
    }
    return this;
  }

  get constant(): number {
    return this.constantPart;
  }

  get terms(): LpTerm[] {
    return [...this.coefficients]
      .filter(([, coefficient]) => coefficient !== 0)
      .map(([variable, coefficient]) => ({ variable, coefficient }));
  }

  /** The expression's value for the given variable values. */
  evaluate(value: (variable: string) => number): number {
    let total = this.constantPart;
    for (const [name, coefficient] of this.coefficients) total += coefficient * value(name);
    return total;
  }

  /** True when no variable has a non-zero coefficient. */
  get isConstant(): boolean {
    return this.terms.length === 0;
  }
}

export class LpBuilder {
  private readonly variables = new Map<string, LpVariable>();
  private readonly rows: { name: string; terms: LpTerm[]; sense: LpSense; rhs: number }[] = [];
  private readonly rowNames = new Set<string>();
  /** The first row that is violated by constants alone, if any. */
  infeasibleRow: string | null = null;

  binary(name: string): string {
    this.declare({ name, type: 'binary', lower: 0, upper: 1 });
    return name;
  }

  integer(name: string, lower: number, upper: number): string {
    this.declare({ name, type: 'integer', lower, upper });
    return name;
  }

  has(name: string): boolean {
    return this.variables.has(name);
  }

  /** Adds `lhs sense rhs`; rows whose variables all cancel are checked, not emitted. */
  constrain(name: string, lhs: LinearPart, sense: LpSense, rhs: LinearPart): void {
    if (this.rowNames.has(name)) throw new Error(`internal error: duplicate LP row "${name}"`);
    this.rowNames.add(name);
    const expr = LinearExpr.sum(lhs).add(rhs, -1);
    const bound = -expr.constant;
    if (expr.isConstant) {
      const holds = sense === '<=' ? 0 <= bound : sense === '>=' ? 0 >= bound : bound === 0;
      if (!holds) this.infeasibleRow ??= name;
      return;
    }
    for (const { variable } of expr.terms) {
      if (!this.variables.has(variable)) {
        throw new Error(`internal error: LP row "${name}" uses undeclared "${variable}"`);
      }
    }
    this.rows.push({ name, terms: expr.terms, sense, rhs: bound });
  }

  build(objective: LinearExpr): LpModel {
    return {
      objective: objective.terms,
      objectiveConstant: objective.constant,
      rows: this.rows,
      variables: [...this.variables.values()],
    };
  }

  private declare(variable: LpVariable): void {
    if (this.variables.has(variable.name)) {
      throw new Error(`internal error: duplicate LP variable "${variable.name}"`);
    }
    this.variables.set(variable.name, variable);
  }
}
