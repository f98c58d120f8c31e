// Random mutations of Ein source, for fuzzing the front-end: most mutants are wrong in some small way
// (a token deleted, a number replaced by 1e40, a rank name where an index was, a bracket changed, a
// keyword inserted, the file cut short), and every one of them must give a diagnostic, never a crash.
// Mutations work on a rough tokenization (not Ein's lexer), so they also produce text Ein cannot lex.
import { seededRandom } from '../../src/ir/tensor.js';

/** A rough token: a comment, a name, a number, an operator, white space or any other character. */
const TOKEN =
  /#[^\n]*|[A-Za-z_][A-Za-z0-9_]*|(?:\d+\.\d*|\.\d+|\d+)(?:[eE][+-]?\d+)?|->|\.\.|<=|>=|=>|==|!=|[ \t]+|\r?\n|[^]/gu;

export function roughTokens(source: string): string[] {
  return source.match(TOKEN) ?? [];
}

const NUMBERS = [
  '0',
  '-1',
  '1e40',
  '0.5',
  '99999999',
  '1e309',
  '2147483648',
  '1e-40',
  '3',
  '007',
  '.5e3',
  '1.',
];
const WORDS = [
  'kernel',
  'rank',
  'schedule',
  'inf',
  'sum',
  'max',
  'min',
  'prod',
  'where',
  'exp',
  'f32',
  'i32',
  'f64',
  'tile',
  'by',
  'fuse',
  'chunk',
  'scratchpad',
  'main',
  'helper',
  '_',
];
const SNIPPETS = [
  'kernel',
  'rank',
  'schedule',
  ';',
  '\n',
  '->',
  '-inf',
  'sum[k] ',
  'max[i, j] ',
  '[0]',
  '[]',
  '()',
  '(',
  ')',
  ']',
  '[',
  '{',
  '}',
  ',',
  ':',
  '=',
  ' + 1',
  ' * ',
  ' ^ ',
  ' / 0',
  ' < ',
  ' => ',
  '..',
  '\nrank Z = 3\n',
  '\nrank N = 0\n',
  '\nrank M = 1e40\n',
  '\nschedule main { tile p by 4 }\n',
  '\nschedule main { scratchpad 1e40 KiB }\n',
  '\nschedule main { fuse A .. B }\n',
  '\nkernel g(A: f32[N]) -> B { B[n] = A[n] }\n',
  '\nkernel main(X: f32[N]) -> Y { Y[n] = X[n] }\n',
  ' main(X)[n] ',
  ' helper(X, X)[i, j] ',
  'T[i + 1, p] = T[i, p]\n',
  'T[0, p] = 0\n',
  ' X[ids[n]] ',
];
const CHARS = [
  '[',
  ']',
  '(',
  ')',
  '{',
  '}',
  ',',
  ':',
  ';',
  '=',
  '+',
  '-',
  '*',
  '/',
  '^',
  '<',
  '>',
  '!',
  '#',
  '.',
  '0',
  '9',
  'e',
  'N',
  'n',
  ' ',
  '\n',
  '\t',
  '\r',
  'λ',
  '∑',
  '\u0000',
  '"',
  '@',
];
const BRACKETS = ['[', ']', '(', ')', '{', '}'];

export type MutationKind =
  | 'delete-token'
  | 'duplicate-token'
  | 'swap-tokens'
  | 'delete-char'
  | 'insert-char'
  | 'replace-number'
  | 'swap-identifier'
  | 'change-bracket'
  | 'insert-snippet'
  | 'split-line'
  | 'join-lines'
  | 'delete-line'
  | 'duplicate-line'
  | 'truncate';

const KINDS: readonly MutationKind[] = [
  'delete-token',
  'duplicate-token',
  'swap-tokens',
  'delete-char',
  'insert-char',
  'replace-number',
  'swap-identifier',
  'change-bracket',
  'insert-snippet',
  'split-line',
  'join-lines',
  'delete-line',
  'duplicate-line',
  'truncate',
];

/** Mutations that keep the text lexable are likelier, so that more mutants reach the checker. */
const WEIGHTS: Partial<Record<MutationKind, number>> = {
  'swap-identifier': 5,
  'replace-number': 3,
  'delete-line': 2,
  'duplicate-line': 2,
  'swap-tokens': 2,
};
const WEIGHTED = KINDS.flatMap((k) => Array<MutationKind>(WEIGHTS[k] ?? 1).fill(k));

export interface Mutant {
  readonly source: string;
  readonly mutations: readonly MutationKind[];
}

/** Apply 1..maxMutations random mutations to `source`; deterministic in `seed`. */
export function mutate(source: string, seed: number, maxMutations = 3): Mutant {
  const random = seededRandom(seed);
  const int = (n: number) => Math.floor(random() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  let text = source;
  const applied: MutationKind[] = [];
  const count = 1 + int(maxMutations);
  for (let m = 0; m < count; m++) {
    const kind = pick(WEIGHTED);
    applied.push(kind);
    text = apply(kind, text, int, pick);
  }
  return { source: text, mutations: applied };
}

function apply(
  kind: MutationKind,
  text: string,
  int: (n: number) => number,
  pick: <T>(xs: readonly T[]) => T,
): string {
  const tokens = roughTokens(text);
  const solid = tokens.map((t, i) => i).filter((i) => !/^\s+$/.test(tokens[i]!));
  const where = (pred: (t: string) => boolean) => solid.filter((i) => pred(tokens[i]!));
  const replaceAt = (i: number, by: string) => [...tokens.slice(0, i), by, ...tokens.slice(i + 1)].join('');
  const lines = text.split('\n');
  switch (kind) {
    case 'delete-token':
      return solid.length ? replaceAt(pick(solid), '') : text;
    case 'duplicate-token': {
      if (!solid.length) return text;
      const i = pick(solid);
      return replaceAt(i, tokens[i]! + (int(2) ? ' ' : '') + tokens[i]!);
    }
    case 'swap-tokens': {
      if (solid.length < 2) return text;
      const a = int(solid.length);
      const b = int(3) ? Math.min(solid.length - 1, a + 1) : int(solid.length);
      const copy = [...tokens];
      [copy[solid[a]!], copy[solid[b]!]] = [copy[solid[b]!]!, copy[solid[a]!]!];
      return copy.join('');
    }
    case 'delete-char': {
      if (!text.length) return text;
      const i = int(text.length);
      return text.slice(0, i) + text.slice(i + 1);
    }
    case 'insert-char': {
      const i = int(text.length + 1);
      return text.slice(0, i) + pick(CHARS) + text.slice(i);
    }
    case 'replace-number': {
      const numbers = where((t) => /^[\d.]/.test(t));
      return numbers.length ? replaceAt(pick(numbers), pick(NUMBERS)) : text;
    }
    case 'swap-identifier': {
      const names = where((t) => /^[A-Za-z_]/.test(t));
      if (!names.length) return text;
      const i = pick(names);
      const others = [...new Set(names.map((j) => tokens[j]!))];
      const choice = int(4);
      const name = tokens[i]!;
      const by =
        choice === 0
          ? pick(WORDS)
          : choice === 1
            ? name === name.toUpperCase()
              ? name.toLowerCase()
              : name.toUpperCase()
            : pick(others);
      return replaceAt(i, by);
    }
    case 'change-bracket': {
      const brackets = where((t) => BRACKETS.includes(t));
      return brackets.length ? replaceAt(pick(brackets), pick(BRACKETS)) : text;
    }
    case 'insert-snippet': {
      const i = int(tokens.length + 1);
      return [...tokens.slice(0, i), pick(SNIPPETS), ...tokens.slice(i)].join('');
    }
    case 'split-line': {
      if (!solid.length) return text;
      const i = pick(solid);
      return [...tokens.slice(0, i), '\n', ...tokens.slice(i)].join('');
    }
    case 'join-lines': {
      if (lines.length < 2) return text;
      const i = int(lines.length - 1);
      return [...lines.slice(0, i), `${lines[i]} ${lines[i + 1]}`, ...lines.slice(i + 2)].join('\n');
    }
    case 'delete-line': {
      const i = int(lines.length);
      return [...lines.slice(0, i), ...lines.slice(i + 1)].join('\n');
    }
    case 'duplicate-line': {
      const i = int(lines.length);
      return [...lines.slice(0, i + 1), ...lines.slice(i)].join('\n');
    }
    case 'truncate':
      return text.slice(0, int(text.length + 1));
  }
}

/**
 * Shrink a failing source: drop lines, then rough tokens, then characters, while `fails` still holds.
 * Greedy and bounded (`budget` calls of `fails`), good enough to make a regression test readable.
 */
export function shrinkSource(source: string, fails: (s: string) => boolean, budget = 2000): string {
  let best = source;
  let calls = 0;
  const attempt = (candidate: string) => {
    if (calls >= budget || candidate === best) return false;
    calls++;
    if (!fails(candidate)) return false;
    best = candidate;
    return true;
  };
  for (const split of [
    (s: string) => s.split('\n').map((l, i, a) => (i < a.length - 1 ? l + '\n' : l)),
    roughTokens,
    (s: string) => [...s],
  ]) {
    let progress = true;
    while (progress && calls < budget) {
      progress = false;
      const parts = split(best);
      for (let i = parts.length - 1; i >= 0 && calls < budget; i--) {
        const parts2 = split(best);
        if (i >= parts2.length) continue;
        if (attempt([...parts2.slice(0, i), ...parts2.slice(i + 1)].join(''))) progress = true;
      }
    }
  }
  return best;
}
