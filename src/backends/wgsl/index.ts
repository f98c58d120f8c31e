export { acquireGpu, describeAdapter } from './device.js';
export type { AcquireOptions, AdapterSummary, EinGpu, GpuAcquisition, GpuLimits } from './device.js';
export { runCompute } from './compute.js';
export type { ComputeResult, ComputeRun, StorageBinding, UniformBinding } from './compute.js';
export { compileWgsl, validateWgsl } from './shader.js';
export { withErrorScopes } from './error-scopes.js';
export { EinGpuError, formatDiagnostic } from './gpu-error.js';
export type { EinGpuErrorKind, WgslDiagnostic } from './gpu-error.js';
