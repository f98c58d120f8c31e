// Ein as a library (JIT): compile a cascade of Einsums from a string, run it, read its report and
// generated code. The same module works in Node and in browsers: nothing on this path imports node:*.
// See docs/api.md.
import './api/gpu-backends.js'; // registers the WGSL backend (printer and WebGPU runner)

export { compile, clearCache, checkProgram, type CompileOptions } from './api/compile.js';
export { Kernel, TARGET_NAMES, type PassSnapshot, type Target } from './api/kernel.js';
export { ein, type EinTag, type TemplateFunction, type TemplateOptions } from './api/template.js';
export { toNested, toTensor, type NestedArray, type Tensor, type TensorInput } from './api/tensors.js';
export { registerBackend, backendFor, type GpuBackend, type GpuTarget } from './api/backends.js';
export { EinError, type Diagnostic } from './frontend/diagnostics.js';
export { format } from './frontend/format.js';
export { interpret } from './ir/interpreter.js';
export type { CompileReport, KernelReport } from './passes/report.js';
export type { MemoryPlan, ArenaEntry } from './passes/memplan.js';
export type { Span } from './ir/expr.js';
