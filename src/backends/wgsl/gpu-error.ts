/** What went wrong on the GPU side; lets callers (and tests) branch without parsing messages. */
export type EinGpuErrorKind =
  | 'no-adapter'
  | 'compilation'
  | 'validation'
  | 'out-of-memory'
  | 'internal'
  | 'device-lost'
  | 'limit'
  | 'timeout';

/** A WGSL compiler message with its 1-based position (0:0 when it has none). */
export interface WgslDiagnostic {
  severity: GPUCompilationMessageType;
  message: string;
  line: number;
  column: number;
  /** The source line the message points at, empty when it points nowhere. */
  sourceLine: string;
}

/**
 * Every WebGPU failure surfaces as this error: Dawn only prints validation errors unless they are
 * caught in an error scope, so nothing may be left to the console.
 */
export class EinGpuError extends Error {
  override readonly name = 'EinGpuError';

  constructor(
    readonly kind: EinGpuErrorKind,
    message: string,
    readonly diagnostics: readonly WgslDiagnostic[] = [],
  ) {
    super(message);
  }
}

/** `3:14 error: unresolved value 'foo'` followed by the offending line and a caret under the column. */
export function formatDiagnostic(d: WgslDiagnostic): string {
  const head = `${d.line}:${d.column} ${d.severity}: ${d.message}`;
  if (d.sourceLine === '') return head;
  const gutter = `${d.line} | `;
  const caret = ' '.repeat(gutter.length + Math.max(0, d.column - 1)) + '^';
  return `${head}\n  ${gutter}${d.sourceLine}\n  ${caret}`;
}
