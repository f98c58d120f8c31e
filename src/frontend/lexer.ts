// Tokens of the Ein language (chevrotain). Newlines are not tokens: the parser ends a statement where
// the next token starts a new line and cannot continue the expression (see parser.ts).
import { createToken, Lexer, type IToken, type TokenType } from 'chevrotain';
import { EinError } from './diagnostics.js';

export const WhiteSpace = createToken({ name: 'WhiteSpace', pattern: /[ \t\r\n]+/, group: Lexer.SKIPPED });
/** Comments are kept on their own channel so `ein fmt` can put them back. */
export const Comment = createToken({ name: 'Comment', pattern: /#[^\n]*/, group: 'comments' });
export const Identifier = createToken({ name: 'Identifier', pattern: /[A-Za-z_][A-Za-z0-9_]*/ });

const keyword = (name: string, word: string) =>
  createToken({ name, pattern: new RegExp(`${word}(?![A-Za-z0-9_])`), longer_alt: Identifier });
export const Kernel = keyword('Kernel', 'kernel');
export const Rank = keyword('Rank', 'rank');
export const Default = keyword('Default', 'default');
export const Schedule = keyword('Schedule', 'schedule');
export const Inf = keyword('Inf', 'inf');

export const NumberLiteral = createToken({
  name: 'NumberLiteral',
  pattern: /(?:\d+\.\d*|\.\d+|\d+)(?:[eE][+-]?\d+)?/,
});
export const Arrow = createToken({ name: 'Arrow', pattern: /->/ });
export const DotDot = createToken({ name: 'DotDot', pattern: /\.\./ });
export const LessEq = createToken({ name: 'LessEq', pattern: /<=/ });
export const GreaterEq = createToken({ name: 'GreaterEq', pattern: /=>|>=/ });
export const EqEq = createToken({ name: 'EqEq', pattern: /==/ });
export const NotEq = createToken({ name: 'NotEq', pattern: /!=/ });
export const Less = createToken({ name: 'Less', pattern: /</ });
export const Greater = createToken({ name: 'Greater', pattern: />/ });
export const Assign = createToken({ name: 'Assign', pattern: /=/ });
export const Plus = createToken({ name: 'Plus', pattern: /\+/ });
export const Minus = createToken({ name: 'Minus', pattern: /-/ });
export const Star = createToken({ name: 'Star', pattern: /\*/ });
export const Slash = createToken({ name: 'Slash', pattern: /\// });
export const Caret = createToken({ name: 'Caret', pattern: /\^/ });
export const LParen = createToken({ name: 'LParen', pattern: /\(/ });
export const RParen = createToken({ name: 'RParen', pattern: /\)/ });
export const LBracket = createToken({ name: 'LBracket', pattern: /\[/ });
export const RBracket = createToken({ name: 'RBracket', pattern: /]/ });
export const LBrace = createToken({ name: 'LBrace', pattern: /\{/ });
export const RBrace = createToken({ name: 'RBrace', pattern: /}/ });
export const Comma = createToken({ name: 'Comma', pattern: /,/ });
export const Colon = createToken({ name: 'Colon', pattern: /:/ });
export const Semicolon = createToken({ name: 'Semicolon', pattern: /;/ });

export const allTokens: TokenType[] = [
  WhiteSpace,
  Comment,
  Kernel,
  Rank,
  Default,
  Schedule,
  Inf,
  Identifier,
  NumberLiteral,
  Arrow,
  DotDot,
  LessEq,
  GreaterEq,
  EqEq,
  NotEq,
  Less,
  Greater,
  Assign,
  Plus,
  Minus,
  Star,
  Slash,
  Caret,
  LParen,
  RParen,
  LBracket,
  RBracket,
  LBrace,
  RBrace,
  Comma,
  Colon,
  Semicolon,
];

export const einLexer = new Lexer(allTokens, { positionTracking: 'full', ensureOptimizations: false });

export interface Lexed {
  readonly tokens: IToken[];
  readonly comments: IToken[];
}

export function lex(source: string): Lexed {
  const result = einLexer.tokenize(source);
  if (result.errors.length > 0) {
    const e = result.errors[0]!;
    const ch = source.slice(e.offset, e.offset + e.length);
    const line = e.line ?? 1;
    const col = e.column ?? 1;
    throw new EinError({
      message: `unexpected character ${JSON.stringify(ch.slice(0, 1))}`,
      span: { line, col, endLine: line, endCol: col + 1 },
      hint: 'Ein uses # for comments; names are letters, digits and _',
    });
  }
  return { tokens: result.tokens, comments: (result.groups['comments'] ?? []) as IToken[] };
}
