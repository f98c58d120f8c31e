import type { EinGpu } from './device.js';
import { EinGpuError, formatDiagnostic, type WgslDiagnostic } from './gpu-error.js';
import { withTimeout } from './timeout.js';

/** Dawn's (Tint's) diagnostics for `source`: errors, warnings and notes, each with line:column. */
export async function validateWgsl(gpu: EinGpu, source: string): Promise<WgslDiagnostic[]> {
  return (await createModule(gpu, source, 'validateWgsl')).diagnostics;
}

/**
 * Compiles `source` into a shader module. Any error or warning throws an {@link EinGpuError} of kind
 * 'compilation' quoting the offending WGSL lines: generated code must compile cleanly.
 */
export async function compileWgsl(
  gpu: EinGpu,
  source: string,
  label = 'ein shader',
): Promise<GPUShaderModule> {
  const { module, diagnostics } = await createModule(gpu, source, label);
  const problems = diagnostics.filter((d) => d.severity !== 'info');
  if (problems.length > 0) {
    const counted = `${problems.length} problem${problems.length === 1 ? '' : 's'}`;
    const text = diagnostics.map(formatDiagnostic).join('\n');
    throw new EinGpuError('compilation', `WGSL '${label}' has ${counted}:\n${text}`, diagnostics);
  }
  return module;
}

async function createModule(
  gpu: EinGpu,
  source: string,
  label: string,
): Promise<{ module: GPUShaderModule; diagnostics: WgslDiagnostic[] }> {
  gpu.assertHealthy();
  // A failed module also raises a validation error; its compilation messages say the same with
  // positions, so the scope only matters when there are none.
  gpu.device.pushErrorScope('validation');
  const module = gpu.device.createShaderModule({ code: source, label });
  const info = await withTimeout(module.getCompilationInfo(), `getCompilationInfo() of '${label}'`);
  const scopeError = await withTimeout(gpu.device.popErrorScope(), `popErrorScope() after '${label}'`);
  const lines = source.split(/\r\n|\r|\n/);
  const diagnostics = info.messages.map((m): WgslDiagnostic => ({
    severity: m.type,
    message: m.message,
    line: m.lineNum,
    column: m.linePos,
    sourceLine: m.lineNum > 0 ? (lines[m.lineNum - 1] ?? '') : '',
  }));
  if (scopeError && !diagnostics.some((d) => d.severity === 'error')) {
    diagnostics.push({
      severity: 'error',
      message: scopeError.message.trim(),
      line: 0,
      column: 0,
      sourceLine: '',
    });
  }
  return { module, diagnostics };
}
