// Ein syntax highlighting for CodeMirror: a StreamLanguage tokenizer (no Lezer grammar needed). It
// follows the lexer's token classes (src/frontend/lexer.ts) and the naming rules of the language:
// UPPERCASE names are ranks or tensors, lowercase ones indices, plus keywords, built-ins and types.
import { HighlightStyle, StreamLanguage, syntaxHighlighting, type StreamParser } from '@codemirror/language';
import { tags } from '@lezer/highlight';

const KEYWORDS = new Set(['kernel', 'rank', 'schedule', 'tile', 'by', 'fuse', 'chunk', 'scratchpad']);
const BUILTINS = new Set([
  'exp',
  'log',
  'sqrt',
  'rsqrt',
  'tanh',
  'erf',
  'sigmoid',
  'abs',
  'max',
  'min',
  'where',
  'sum',
  'prod',
]);
const TYPES = new Set(['f32', 'i32']);

interface EinState {
  /** After `kernel` or `schedule`: the next name is a definition. */
  defining: boolean;
}

const parser: StreamParser<EinState> = {
  name: 'ein',
  startState: () => ({ defining: false }),
  token(stream, state) {
    if (stream.eatSpace()) return null;
    if (stream.match(/^#.*/)) return 'comment';
    if (stream.match(/^(?:\d+\.\d*|\.\d+|\d+)(?:[eE][+-]?\d+)?(?:KiB|MiB|B)?/)) return 'number';
    if (stream.match(/^(?:->|\.\.|<=|>=|==|!=|[-+*/^<>=])/)) return 'operator';
    const word = stream.match(/^[A-Za-z_][A-Za-z0-9_]*/) as RegExpMatchArray | null;
    if (word) {
      const name = word[0];
      if (state.defining) {
        state.defining = false;
        return 'def';
      }
      if (KEYWORDS.has(name)) {
        state.defining = name === 'kernel' || name === 'schedule';
        return 'keyword';
      }
      if (name === 'inf') return 'atom';
      if (TYPES.has(name)) return 'type';
      if (BUILTINS.has(name) && stream.match(/^\s*[([]/, false)) return 'builtin';
      // A tensor is subscripted; a bare UPPERCASE name is a rank; a bare lowercase one an index.
      if (stream.match(/^\s*\[/, false)) return 'variable';
      return /^[A-Z]/.test(name) ? 'variable-2' : 'variable-3';
    }
    stream.next();
    return 'punctuation';
  },
  languageData: { commentTokens: { line: '#' } },
  tokenTable: {
    def: tags.definition(tags.function(tags.variableName)),
    builtin: tags.standard(tags.function(tags.variableName)),
    'variable-2': tags.constant(tags.variableName),
    'variable-3': tags.local(tags.variableName),
    punctuation: tags.punctuation,
  },
};

export const einLanguage = StreamLanguage.define(parser);

const style = HighlightStyle.define([
  { tag: tags.keyword, color: '#8250df', fontWeight: '600' },
  { tag: tags.comment, color: '#6e7781', fontStyle: 'italic' },
  { tag: tags.number, color: '#0550ae' },
  { tag: tags.atom, color: '#0550ae' },
  { tag: tags.operator, color: '#cf222e' },
  { tag: tags.typeName, color: '#953800' },
  { tag: tags.definition(tags.function(tags.variableName)), color: '#6639ba', fontWeight: '600' },
  { tag: tags.standard(tags.function(tags.variableName)), color: '#0a3069', fontWeight: '600' },
  { tag: tags.variableName, color: '#116329', fontWeight: '600' },
  { tag: tags.constant(tags.variableName), color: '#953800' },
  { tag: tags.local(tags.variableName), color: '#24292f' },
]);

export const einHighlighting = syntaxHighlighting(style);
