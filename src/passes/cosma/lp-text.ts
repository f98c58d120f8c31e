/**
 * A minimal mixed-integer model and its CPLEX LP-format text, the input the
 * npm `highs` solver parses. Variables on the left, constants on the right,
 * no zero coefficients (the conventions in the COSMA implementation note).
 */

export interface LpTerm {
  readonly variable: string;
  readonly coefficient: number;
}

export type LpSense = '<=' | '>=' | '=';

export interface LpRow {
  readonly name: string;
  readonly terms: readonly LpTerm[];
  readonly sense: LpSense;
  readonly rhs: number;
}

export interface LpVariable {
  readonly name: string;
  readonly type: 'binary' | 'integer';
  readonly lower: number;
  readonly upper: number;
}

export interface LpModel {
  readonly objective: readonly LpTerm[];
  /** Constant added to the objective (e.g. minus the compulsory loads). */
  readonly objectiveConstant: number;
  readonly rows: readonly LpRow[];
  readonly variables: readonly LpVariable[];
}

const NAME = /^[A-Za-z][A-Za-z0-9_]*$/;
const MAX_LINE = 200;

export function writeLpText(model: LpModel): string {
  const lines: string[] = ['Minimize'];
  const objective = formatTerms(model.objective);
  if (model.objectiveConstant !== 0) objective.push(signed(model.objectiveConstant));
  if (objective.length === 0) objective.push('0');
  lines.push(...wrap(` obj: ${objective.join(' ').replace(/^\+ /, '')}`));
  lines.push('Subject To');
  for (const row of model.rows) {
    checkName(row.name);
    const lhs = formatTerms(row.terms).join(' ').replace(/^\+ /, '');
    lines.push(...wrap(` ${row.name}: ${lhs} ${row.sense} ${formatNumber(row.rhs)}`));
  }
  lines.push('Bounds');
  for (const variable of model.variables) {
    checkName(variable.name);
    if (variable.type === 'integer') {
      const { lower, upper, name } = variable;
      lines.push(` ${formatNumber(lower)} <= ${name} <= ${formatNumber(upper)}`);
    }
  }
  const integers = model.variables.filter((v) => v.type === 'integer').map((v) => v.name);
  const binaries = model.variables.filter((v) => v.type === 'binary').map((v) => v.name);
  if (integers.length > 0) lines.push('General', ...wrap(` ${integers.join(' ')}`));
  if (binaries.length > 0) lines.push('Binary', ...wrap(` ${binaries.join(' ')}`));
  lines.push('End', '');
  return lines.join('\n');
}

function formatTerms(terms: readonly LpTerm[]): string[] {
  return terms
    .filter((term) => term.coefficient !== 0)
    .map((term) => {
      checkName(term.variable);
      const magnitude = Math.abs(term.coefficient);
      const sign = term.coefficient < 0 ? '-' : '+';
      return magnitude === 1
        ? `${sign} ${term.variable}`
        : `${sign} ${formatNumber(magnitude)} ${term.variable}`;
    });
}

function signed(value: number): string {
  return `${value < 0 ? '-' : '+'} ${formatNumber(Math.abs(value))}`;
}

function formatNumber(value: number): string {
  if (!Number.isFinite(value)) throw new Error(`LP model contains the non-finite number ${value}`);
  return String(value);
}

function checkName(name: string): void {
  if (!NAME.test(name)) throw new Error(`"${name}" is not a valid LP-format name`);
}

/** Breaks long expressions at spaces; the LP format allows continuation lines. */
function wrap(line: string): string[] {
  const out: string[] = [];
  let current = '';
  for (const word of line.trim().split(/ +/)) {
    if (current.length > 0 && current.length + word.length + 1 > MAX_LINE) {
      out.push(current);
      current = '';
    }
    current = `${current} ${word}`;
  }
  return [...out, current];
}
