/** One message of nvcc's front end, ptxas or the nvcc driver. */
export interface CudaDiagnostic {
  severity: 'error' | 'warning' | 'remark';
  message: string;
  /** Source file as nvcc names it, or the tool ('nvcc', 'ptxas') for messages about no file. */
  file: string;
  /** 1-based; 0 when the message has no line. */
  line: number;
  /** nvcc's diagnostic number, such as '177-D', when it gives one. */
  code?: string;
}

// kernel.cu(3): warning #177-D: variable "unused" was declared but never referenced
const SOURCE_MESSAGE = /^(.+?)\((\d+)\): (catastrophic error|error|warning|remark)(?: #([\w-]+))?: (.*)$/;
// nvcc fatal   : Unsupported gpu architecture 'sm_75x'   |   ptxas warning : Registers are spilled ...
const TOOL_MESSAGE = /^(nvcc|ptxas|nvlink|cicc)(?: info)? (fatal|error|warning|info)\s*: (.*)$/;
// Lines that only summarize or advise; everything they say is in the messages themselves.
const SUMMARY = [/^Remark: The warnings can be suppressed/, /^\d+ errors? detected in the compilation/];

/**
 * Parses nvcc's stderr. Source lines and carets that follow a message are skipped; any other line
 * becomes a warning, so that nothing nvcc says can pass unnoticed.
 */
export function parseNvccDiagnostics(stderr: string): CudaDiagnostic[] {
  const diagnostics: CudaDiagnostic[] = [];
  let inExcerpt = false;
  for (const raw of stderr.split('\n')) {
    const line = raw.trimEnd();
    if (line === '') {
      inExcerpt = false;
      continue;
    }
    const source = SOURCE_MESSAGE.exec(line);
    if (source) {
      const [, file, lineNumber, severity, code, message] = source;
      diagnostics.push({
        severity: severity === 'catastrophic error' ? 'error' : (severity as CudaDiagnostic['severity']),
        message,
        file,
        line: Number(lineNumber),
        ...(code ? { code } : {}),
      });
      inExcerpt = true;
      continue;
    }
    const tool = TOOL_MESSAGE.exec(line);
    if (tool) {
      const [, file, severity, message] = tool;
      if (severity === 'info') continue; // ptxas resource usage with -v
      diagnostics.push({ severity: severity === 'warning' ? 'warning' : 'error', message, file, line: 0 });
      continue;
    }
    if (inExcerpt || SUMMARY.some((pattern) => pattern.test(line))) continue;
    diagnostics.push({ severity: 'warning', message: line, file: 'nvcc', line: 0 });
  }
  return diagnostics;
}

/** `kernel.cu:3: warning #177-D: variable "unused" was declared but never referenced` */
export function formatCudaDiagnostic(d: CudaDiagnostic): string {
  const where = d.line > 0 ? `${d.file}:${d.line}` : d.file;
  return `${where}: ${d.severity}${d.code ? ` #${d.code}` : ''}: ${d.message}`;
}
