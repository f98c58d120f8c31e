// Ein's grammar (chevrotain, embedded actions). Precedence, loosest first:
//   comparison (non-associative) < + - < * / < unary - < ^ (right-associative) < postfix.
// A reduction `sum[k] body` takes the whole rest of the expression as its body, like a lambda.
// Statements end at a line break: a token on the same line that cannot continue the expression is
// an error, which also catches `avg[k] x` (an unknown reduction) cleanly.
import { EmbeddedActionsParser, EOF, type IToken, type TokenType } from 'chevrotain';
import type { BinaryOp, Expr, Span } from '../ir/expr.js';
import type {
  Binding,
  BodyItem,
  KernelDecl,
  OutputDecl,
  Param,
  ProgramAst,
  RankDecl,
  ScheduleDecl,
  ScheduleItem,
  Statement,
  TensorType,
  TopItem,
} from './ast.js';
import { EinError, fail } from './diagnostics.js';
import * as T from './lexer.js';

const REDUCTION_NAMES = new Set(['sum', 'max', 'min', 'prod']);
const SCHEDULE_WORDS = new Set(['tile', 'chunk', 'fuse', 'scratchpad']);
const COMPARISONS: Record<string, BinaryOp> = {
  '<': '<',
  '<=': '<=',
  '>': '>',
  '>=': '>=',
  '==': '==',
  '!=': '!=',
};
const BYTE_UNITS: Record<string, number> = {
  B: 1,
  KiB: 1024,
  MiB: 1024 ** 2,
  GiB: 1024 ** 3,
  KB: 1e3,
  MB: 1e6,
  GB: 1e9,
};

export function tokenSpan(a: IToken, b: IToken = a): Span {
  return {
    line: a.startLine ?? 1,
    col: a.startColumn ?? 1,
    endLine: b.endLine ?? 1,
    endCol: (b.endColumn ?? 0) + 1,
  };
}

const join = (a: Span, b: Span): Span => ({ line: a.line, col: a.col, endLine: b.endLine, endCol: b.endCol });
const spanOf = (e: Expr): Span => e.span!;

class EinParser extends EmbeddedActionsParser {
  /** The last consumed token (chevrotain's LA(0)). */
  private last(): IToken {
    return this.LA(0);
  }

  /** The next unconsumed token, for the driver below. */
  peek(): IToken {
    return this.LA(1);
  }

  constructor() {
    super(T.allTokens, { recoveryEnabled: false, maxLookahead: 3 });
    this.performSelfAnalysis();
  }

  public program = this.RULE('program', (): TopItem[] => {
    const items: TopItem[] = [];
    this.MANY(() => {
      const item = this.OR([
        { ALT: () => this.SUBRULE(this.rankDecl) as TopItem },
        { ALT: () => this.SUBRULE(this.kernelDecl) as TopItem },
        { ALT: () => this.SUBRULE(this.scheduleDecl) as TopItem },
      ]);
      this.OPTION(() => this.CONSUME(T.Semicolon));
      items.push(item);
    });
    return items;
  });

  private rankDecl = this.RULE('rankDecl', (): RankDecl => {
    const isDefault = this.OPTION(() => this.CONSUME(T.Default));
    const rank = this.CONSUME(T.Rank);
    const kw = isDefault ?? rank;
    const name = this.CONSUME(T.Identifier);
    this.CONSUME(T.Assign);
    const value = this.SUBRULE(this.expr);
    return this.ACTION(() => {
      this.endOfLine();
      return {
        kind: 'rank',
        name: name.image,
        value,
        isDefault: isDefault !== undefined,
        span: join(tokenSpan(kw), spanOf(value)),
        nameSpan: tokenSpan(name),
      };
    });
  });

  private kernelDecl = this.RULE('kernelDecl', (): KernelDecl => {
    const kw = this.CONSUME(T.Kernel);
    const name = this.CONSUME(T.Identifier);
    const params: Param[] = [];
    this.CONSUME(T.LParen);
    this.MANY_SEP({ SEP: T.Comma, DEF: () => params.push(this.SUBRULE(this.param)) });
    this.CONSUME(T.RParen);
    this.CONSUME(T.Arrow);
    const outputs: OutputDecl[] = [];
    this.OR([
      {
        ALT: () => {
          this.CONSUME2(T.LParen);
          this.AT_LEAST_ONE_SEP({ SEP: T.Comma, DEF: () => outputs.push(this.SUBRULE(this.outputDecl)) });
          this.CONSUME2(T.RParen);
        },
      },
      { ALT: () => outputs.push(this.SUBRULE2(this.outputDecl)) },
    ]);
    this.CONSUME(T.LBrace);
    const body: BodyItem[] = [];
    this.MANY(() => {
      body.push(
        this.OR2([
          { ALT: () => this.SUBRULE2(this.rankDecl) as BodyItem },
          { ALT: () => this.SUBRULE(this.statement) },
        ]),
      );
      this.OPTION(() => this.CONSUME(T.Semicolon));
    });
    const close = this.CONSUME(T.RBrace);
    return {
      kind: 'kernel',
      name: name.image,
      params,
      outputs,
      body,
      span: tokenSpan(kw, close),
      nameSpan: tokenSpan(name),
    };
  });

  private param = this.RULE('param', (): Param => {
    const name = this.CONSUME(T.Identifier);
    this.CONSUME(T.Colon);
    const type = this.SUBRULE(this.tensorType);
    return this.ACTION(() => ({ name: name.image, type, span: join(tokenSpan(name), type.span) }));
  });

  private outputDecl = this.RULE('outputDecl', (): OutputDecl => {
    const name = this.CONSUME(T.Identifier);
    let type: TensorType | undefined;
    this.OPTION(() => {
      this.CONSUME(T.Colon);
      type = this.SUBRULE(this.tensorType);
    });
    return this.ACTION(() => ({
      name: name.image,
      type,
      span: type ? join(tokenSpan(name), type.span) : tokenSpan(name),
    }));
  });

  private tensorType = this.RULE('tensorType', (): TensorType => {
    const dtype = this.CONSUME(T.Identifier);
    let shape: Expr[] | null = null;
    let end = dtype;
    this.OPTION(() => {
      this.CONSUME(T.LBracket);
      shape = [];
      this.MANY_SEP({ SEP: T.Comma, DEF: () => shape!.push(this.SUBRULE(this.expr)) });
      end = this.CONSUME(T.RBracket);
    });
    return { dtype: dtype.image, shape, span: tokenSpan(dtype, end) };
  });

  /** `T[i, j] = expr`, or a binding of a kernel call's outputs: `N = f(X)`, `A, B = f(X)`. */
  private statement = this.RULE('statement', (): Statement | Binding => {
    const name = this.CONSUME(T.Identifier);
    return this.OR([
      {
        ALT: (): Statement => {
          this.CONSUME(T.LBracket);
          const subs: Expr[] = [];
          this.MANY_SEP({ SEP: T.Comma, DEF: () => subs.push(this.SUBRULE(this.expr)) });
          const close = this.CONSUME(T.RBracket);
          this.CONSUME(T.Assign);
          const rhs = this.SUBRULE2(this.expr);
          return this.ACTION(() => {
            this.endOfLine();
            const lhsSpan = tokenSpan(name, close);
            return {
              kind: 'statement',
              tensor: name.image,
              subs,
              rhs,
              span: join(lhsSpan, spanOf(rhs)),
              lhsSpan,
            };
          });
        },
      },
      {
        ALT: (): Binding => {
          const names = [name.image];
          this.MANY(() => {
            this.CONSUME(T.Comma);
            names.push(this.CONSUME2(T.Identifier).image);
          });
          this.CONSUME2(T.Assign);
          const call = this.SUBRULE3(this.expr);
          return this.ACTION(() => {
            this.endOfLine();
            return { kind: 'binding', names, call, span: join(tokenSpan(name), spanOf(call)) };
          });
        },
      },
    ]);
  });

  private scheduleDecl = this.RULE('scheduleDecl', (): ScheduleDecl => {
    const kw = this.CONSUME(T.Schedule);
    const name = this.CONSUME(T.Identifier);
    this.CONSUME(T.LBrace);
    const items: ScheduleItem[] = [];
    this.MANY(() => {
      items.push(this.SUBRULE(this.scheduleItem));
      this.OPTION(() => this.CONSUME(T.Semicolon));
    });
    const close = this.CONSUME(T.RBrace);
    return {
      kind: 'schedule',
      kernel: name.image,
      items,
      span: tokenSpan(kw, close),
      nameSpan: tokenSpan(name),
    };
  });

  // Schedule words (tile, by, fuse, chunk, scratchpad) are not reserved: they are checked by image.
  private scheduleItem = this.RULE('scheduleItem', (): ScheduleItem => {
    const word = this.CONSUME(T.Identifier);
    let item: ScheduleItem | undefined;
    // Checked before the alternatives: with every gate closed the parser could only say "unexpected".
    this.ACTION(() => {
      if (!SCHEDULE_WORDS.has(word.image))
        fail(
          `unknown schedule directive '${word.image}'`,
          tokenSpan(word),
          'use tile, fuse, chunk or scratchpad',
        );
    });
    this.OR([
      {
        GATE: () => word.image === 'tile',
        ALT: () => {
          const tiles: { index: string; size: number; span: Span }[] = [];
          this.AT_LEAST_ONE_SEP({ SEP: T.Comma, DEF: () => tiles.push(this.SUBRULE(this.indexBy)) });
          item = this.ACTION(() => ({
            kind: 'tile',
            tiles,
            span: join(tokenSpan(word), tiles[tiles.length - 1]!.span),
          }));
        },
      },
      {
        GATE: () => word.image === 'chunk',
        ALT: () => {
          const p = this.SUBRULE2(this.indexBy);
          item = this.ACTION(() => ({
            kind: 'chunk',
            index: p.index,
            size: p.size,
            span: join(tokenSpan(word), p.span),
          }));
        },
      },
      {
        GATE: () => word.image === 'fuse',
        ALT: () => {
          const from = this.CONSUME4(T.Identifier);
          this.CONSUME(T.DotDot);
          const to = this.CONSUME5(T.Identifier);
          item = { kind: 'fuse', from: from.image, to: to.image, span: tokenSpan(word, to) };
        },
      },
      {
        GATE: () => word.image === 'scratchpad',
        ALT: () => {
          const n = this.CONSUME2(T.NumberLiteral);
          let unit: IToken | undefined;
          this.OPTION({
            GATE: () => this.LA(1).startLine === n.endLine && BYTE_UNITS[this.LA(1).image] !== undefined,
            DEF: () => (unit = this.CONSUME6(T.Identifier)),
          });
          item = this.ACTION(() => {
            const bytes = Number(n.image) * (unit ? BYTE_UNITS[unit.image]! : 1);
            if (!Number.isSafeInteger(bytes) || bytes <= 0)
              fail(`scratchpad size must be a positive whole number of bytes`, tokenSpan(n, unit ?? n));
            const raw = n.image + (unit?.image ?? '');
            return { kind: 'scratchpad', bytes, raw, span: tokenSpan(word, unit ?? n) };
          });
        },
      },
    ]);
    return this.ACTION(() => {
      if (!item)
        fail(
          `unknown schedule directive '${word.image}'`,
          tokenSpan(word),
          'use tile, fuse, chunk or scratchpad',
        );
      this.endOfLine();
      return item;
    });
  });

  /** `p by 64` in tile and chunk directives. */
  private indexBy = this.RULE('indexBy', (): { index: string; size: number; span: Span } => {
    const index = this.CONSUME(T.Identifier);
    const by = this.CONSUME2(T.Identifier);
    const size = this.CONSUME(T.NumberLiteral);
    return this.ACTION(() => {
      this.expectWord(by, 'by');
      return { index: index.image, size: this.positiveInt(size), span: tokenSpan(index, size) };
    });
  });

  public expr = this.RULE('expr', (): Expr => {
    const left = this.SUBRULE(this.additive);
    let result = left;
    this.OPTION(() => {
      const op = this.OR([
        { ALT: () => this.CONSUME(T.Less) },
        { ALT: () => this.CONSUME(T.LessEq) },
        { ALT: () => this.CONSUME(T.Greater) },
        { ALT: () => this.CONSUME(T.GreaterEq) },
        { ALT: () => this.CONSUME(T.EqEq) },
        { ALT: () => this.CONSUME(T.NotEq) },
      ]);
      const right = this.SUBRULE2(this.additive);
      result = this.ACTION(() => {
        if (op.image === '=>')
          fail(`'=>' is not an operator`, tokenSpan(op), 'write >= for greater-or-equal');
        return {
          k: 'binary',
          op: COMPARISONS[op.image]!,
          a: left,
          b: right,
          span: join(spanOf(left), spanOf(right)),
        };
      });
    });
    return result;
  });

  private additive = this.RULE('additive', (): Expr => {
    let result = this.SUBRULE(this.multiplicative);
    this.MANY(() => {
      const op = this.OR([{ ALT: () => this.CONSUME(T.Plus) }, { ALT: () => this.CONSUME(T.Minus) }]);
      const right = this.SUBRULE2(this.multiplicative);
      result = this.binary(op, result, right);
    });
    return result;
  });

  private multiplicative = this.RULE('multiplicative', (): Expr => {
    let result = this.SUBRULE(this.unary);
    this.MANY(() => {
      const op = this.OR([{ ALT: () => this.CONSUME(T.Star) }, { ALT: () => this.CONSUME(T.Slash) }]);
      const right = this.SUBRULE2(this.unary);
      result = this.binary(op, result, right);
    });
    return result;
  });

  private unary = this.RULE('unary', (): Expr =>
    this.OR([
      {
        ALT: () => {
          const minus = this.CONSUME(T.Minus);
          const a = this.SUBRULE(this.unary);
          return this.ACTION((): Expr => ({ k: 'neg', a, span: join(tokenSpan(minus), spanOf(a)) }));
        },
      },
      { ALT: () => this.SUBRULE(this.power) },
    ]),
  );

  private power = this.RULE('power', (): Expr => {
    const base = this.SUBRULE(this.primary);
    let result = base;
    this.OPTION(() => {
      const op = this.CONSUME(T.Caret);
      const exponent = this.SUBRULE(this.unary);
      result = this.binary(op, base, exponent);
    });
    return result;
  });

  private primary = this.RULE('primary', (): Expr =>
    this.OR([
      {
        ALT: () => {
          const n = this.CONSUME(T.NumberLiteral);
          return this.ACTION((): Expr => ({
            k: 'num',
            value: Number(n.image),
            raw: n.image,
            span: tokenSpan(n),
          }));
        },
      },
      {
        ALT: () => {
          const t = this.CONSUME(T.Inf);
          return { k: 'num', value: Infinity, raw: 'inf', span: tokenSpan(t) } as Expr;
        },
      },
      {
        ALT: () => {
          const open = this.CONSUME(T.LParen);
          const inner = this.SUBRULE(this.expr);
          const close = this.CONSUME(T.RParen);
          // Parentheses are not kept in the tree; widen the span so errors point at the group.
          return this.ACTION((): Expr => ({ ...inner, span: tokenSpan(open, close) }));
        },
      },
      { ALT: () => this.SUBRULE(this.named) },
    ]),
  );

  /** A name, an access `X[...]`, a reduction `sum[k] e`, a call `f(...)` or an indexed kernel call `f(...)[t]`. */
  private named = this.RULE('named', (): Expr => {
    const name = this.CONSUME(T.Identifier);
    let result: Expr = { k: 'index', name: name.image, span: tokenSpan(name) };
    this.OPTION(() => {
      this.CONSUME(T.LParen);
      const args: Expr[] = [];
      this.MANY_SEP({ SEP: T.Comma, DEF: () => args.push(this.SUBRULE(this.expr)) });
      const close = this.CONSUME(T.RParen);
      result = { k: 'call', fn: name.image, args, span: tokenSpan(name, close) };
      this.OPTION2(() => {
        this.CONSUME(T.LBracket);
        const subs: Expr[] = [];
        this.MANY_SEP2({ SEP: T.Comma, DEF: () => subs.push(this.SUBRULE2(this.expr)) });
        const closeB = this.CONSUME(T.RBracket);
        result = { k: 'kcall', kernel: name.image, args, subs, span: tokenSpan(name, closeB) };
      });
    });
    this.OPTION3(() => {
      this.CONSUME2(T.LBracket);
      const subs: Expr[] = [];
      this.MANY_SEP3({ SEP: T.Comma, DEF: () => subs.push(this.SUBRULE3(this.expr)) });
      const close = this.CONSUME2(T.RBracket);
      result = { k: 'access', tensor: name.image, subs, span: tokenSpan(name, close) };
      this.OPTION4({
        GATE: () => this.startsReductionBody(name.image),
        DEF: () => {
          const next = this.LA(1);
          this.ACTION(() => {
            // Reductions are lowercase words: `A[i] 2` is a missing operator, not an unknown reduction.
            if (!REDUCTION_NAMES.has(name.image) && /[A-Z]/.test(name.image))
              fail(
                `expected an operator after ${name.image}[...] but found '${next.image}'`,
                tokenSpan(next),
                'write A[i] * B[i]; a reduction is sum[k], max[k], min[k] or prod[k] before its body',
              );
          });
          const body = this.SUBRULE4(this.expr);
          result = this.ACTION(() => this.reduction(name, subs, body));
        },
      });
    });
    return result;
  });

  private reduction(name: IToken, subs: Expr[], body: Expr): Expr {
    if (!REDUCTION_NAMES.has(name.image))
      fail(
        `unknown reduction '${name.image}'`,
        tokenSpan(name),
        `the reductions are sum, max, min and prod; if ${name.image} is a tensor, an operator is missing after ${name.image}[...]`,
      );
    const indices = subs.map((s) => {
      if (s.k !== 'index') fail(`a reduction lists index names, like sum[k] or max[j, k]`, s.span);
      return s.name;
    });
    if (indices.length === 0) fail(`a reduction needs at least one index`, tokenSpan(name));
    return { k: 'reduce', op: name.image as 'sum', indices, body, span: join(tokenSpan(name), spanOf(body)) };
  }

  /** After `name[...]`: does a reduction body follow on the same line? */
  private startsReductionBody(name: string): boolean {
    const next = this.LA(1);
    if (next.tokenType === EOF || next.startLine !== this.last().endLine) return false;
    const starts: TokenType[] = [T.Identifier, T.NumberLiteral, T.Inf, T.LParen];
    if (REDUCTION_NAMES.has(name)) starts.push(T.Minus);
    return starts.includes(next.tokenType);
  }

  private binary(op: IToken, a: Expr, b: Expr): Expr {
    return this.ACTION(() => ({
      k: 'binary',
      op: op.image as BinaryOp,
      a,
      b,
      span: join(spanOf(a), spanOf(b)),
    }));
  }

  /** A statement ends at a line break, `;` or `}`: anything else on the same line is an error. */
  private endOfLine(): void {
    const next = this.LA(1);
    if (next.tokenType === EOF || next.tokenType === T.Semicolon || next.tokenType === T.RBrace) return;
    if (next.startLine === this.last().endLine && COMPARISONS[next.image] !== undefined)
      fail(
        `comparisons do not chain: '${next.image}' follows another comparison`,
        tokenSpan(next),
        'a comparison is 1 or 0: write (a < b) * (b < c) for both, or parenthesise one side',
      );
    if (next.startLine === this.last().endLine)
      fail(
        `unexpected '${next.image}' after the end of the statement`,
        tokenSpan(next),
        'put each statement on its own line',
      );
  }

  private expectWord(token: IToken, word: string): void {
    if (token.image !== word) fail(`expected '${word}' but found '${token.image}'`, tokenSpan(token));
  }

  private positiveInt(token: IToken): number {
    const v = Number(token.image);
    if (!Number.isSafeInteger(v) || v <= 0) fail(`expected a positive whole number`, tokenSpan(token));
    return v;
  }
}

let shared: EinParser | undefined;

/** Parse Ein source into its syntax tree. Throws EinError with a span on bad input. */
export function parse(source: string, file = '<input>'): ProgramAst {
  try {
    const { tokens, comments } = T.lex(source);
    const parser = (shared ??= new EinParser());
    parser.input = tokens;
    const items = parser.program();
    const error = parser.errors[0];
    // Leftover input after the last declaration is reported below, with the hint about declarations.
    if (error && error.name !== 'NotAllInputParsedException')
      throw syntaxError(error.token, error.message, tokens, error.context?.ruleStack);
    if (error || parser.peek().tokenType !== EOF) {
      const t = error?.token ?? parser.peek();
      fail(
        `unexpected '${t.image}'`,
        tokenSpan(t),
        'a program is a list of `rank`, `kernel` and `schedule` declarations',
      );
    }
    return {
      items,
      comments: comments.map((c) => ({ text: c.image, line: c.startLine ?? 1, col: c.startColumn ?? 1 })),
    };
  } catch (e) {
    if (e instanceof EinError) throw e.withSource(file, source);
    throw e;
  }
}

function syntaxError(
  token: IToken,
  message: string,
  tokens: IToken[],
  ruleStack: readonly string[] = [],
): EinError {
  const atEnd = token.tokenType === EOF;
  const lastToken = tokens[tokens.length - 1];
  const span = atEnd && lastToken ? tokenSpan(lastToken) : tokenSpan(token);
  const found = atEnd ? 'the end of the file' : `'${token.image}'`;
  const expected = /Expecting:?\s*(?:token of type\s*)?-->\s*(\w+)\s*<--/.exec(message)?.[1];
  // No alternative of `unary`/`primary` fits: an operand is missing (`A[i] +` at the end of a line, `()`).
  const innermost = ruleStack[ruleStack.length - 1];
  const wantedOperand = !expected && (innermost === 'unary' || innermost === 'primary');
  const text = expected
    ? `expected ${describeToken(expected)} but found ${found}`
    : wantedOperand
      ? `expected an expression but found ${found}`
      : `unexpected ${found}`;
  return new EinError({ message: text, span, hint: hintFor(expected, token) });
}

const TOKEN_WORDS: Record<string, string> = {
  RBracket: "']'",
  LBracket: "'['",
  RParen: "')'",
  LParen: "'('",
  RBrace: "'}'",
  LBrace: "'{'",
  Assign: "'='",
  Arrow: "'->'",
  Colon: "':'",
  Comma: "','",
  Identifier: 'a name',
  NumberLiteral: 'a number',
  DotDot: "'..'",
};

function describeToken(name: string): string {
  return TOKEN_WORDS[name] ?? name;
}

function hintFor(expected: string | undefined, token: IToken): string | undefined {
  if (expected === 'Arrow') return 'a kernel declares its outputs: kernel f(A: f32[N]) -> B { ... }';
  if (expected === 'RBrace')
    return 'a kernel body holds statements `T[i] = expr` and `rank R = n`, one per line';
  if (token.tokenType === EOF) return 'the file ended early: check for an unclosed bracket or brace';
  return undefined;
}
