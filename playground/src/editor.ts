// The editor: CodeMirror 6 with Ein highlighting and inline diagnostics from the real checker
// (the same EinError diagnostics `ein check` prints, with their hints).
import { linter, lintGutter, type Diagnostic as LintDiagnostic } from '@codemirror/lint';
import { defaultKeymap, history, historyKeymap, indentWithTab } from '@codemirror/commands';
import { bracketMatching, indentOnInput } from '@codemirror/language';
import { EditorState, type Text } from '@codemirror/state';
import {
  drawSelection,
  EditorView,
  highlightActiveLine,
  highlightActiveLineGutter,
  keymap,
  lineNumbers,
} from '@codemirror/view';
import { checkProgram, EinError } from '../../src/index.js';
import { einHighlighting, einLanguage } from './ein-language.js';

/** A 1-based line and column as a document offset, clamped into the document. */
function offsetOf(doc: Text, line: number, col: number): number {
  const l = doc.line(Math.min(Math.max(1, line), doc.lines));
  return Math.min(l.from + Math.max(0, col - 1), l.to);
}

/** The diagnostics of an EinError as CodeMirror lint entries. */
export function lintEntries(doc: Text, error: EinError): LintDiagnostic[] {
  return error.diagnostics.map((d) => {
    const span = d.span ?? { line: 1, col: 1, endLine: 1, endCol: 1 };
    const from = offsetOf(doc, span.line, span.col);
    const to = Math.max(from, offsetOf(doc, span.endLine, span.endCol));
    return {
      from,
      to: to === from ? Math.min(from + 1, doc.length) : to,
      severity: 'error',
      message: d.hint ? `${d.message}\nhint: ${d.hint}` : d.message,
      source: 'ein check',
    };
  });
}

const einLinter = linter(
  (view) => {
    try {
      checkProgram(view.state.doc.toString(), 'playground.ein');
      return [];
    } catch (e) {
      if (e instanceof EinError) return lintEntries(view.state.doc, e);
      throw e;
    }
  },
  { delay: 300 },
);

export function createEditor(parent: HTMLElement, doc: string, onChange: (text: string) => void): EditorView {
  return new EditorView({
    parent,
    doc,
    extensions: [
      // The npm package `codemirror` installed here is CodeMirror 5, so the setup is assembled.
      lineNumbers(),
      highlightActiveLineGutter(),
      highlightActiveLine(),
      history(),
      drawSelection(),
      indentOnInput(),
      bracketMatching(),
      EditorState.tabSize.of(2),
      keymap.of([...defaultKeymap, ...historyKeymap, indentWithTab]),
      einLanguage,
      einHighlighting,
      einLinter,
      lintGutter(),
      EditorView.updateListener.of((u) => {
        if (u.docChanged) onChange(u.state.doc.toString());
      }),
    ],
  });
}

export function setDocument(view: EditorView, text: string): void {
  view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text } });
}
