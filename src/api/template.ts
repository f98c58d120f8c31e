// The `ein` tagged template: one-liners such as
//   const { C } = await ein`C[m, n] = A[m, k] * B[k, n]`(A, B)
// The statements become a kernel (template-kernel.ts explains how), specialised to the arguments'
// shapes and compiled through `compile`, so its cache (source + options + shapes) applies.
import { EinError } from '../frontend/diagnostics.js';
import { compile, type CompileOptions } from './compile.js';
import type { Kernel } from './kernel.js';
import {
  analyzeTemplate,
  remapError,
  TEMPLATE_FILE,
  templateKernel,
  type TemplateAnalysis,
} from './template-kernel.js';
import { toTensor, type Tensor, type TensorInput } from './tensors.js';

export type TemplateOptions = Omit<CompileOptions, 'ranks' | 'kernel' | 'file'>;

/** What a template evaluates to: call it with the tensors it reads, in order of first use. */
export interface TemplateFunction {
  (...tensors: TensorInput[]): Promise<Record<string, Tensor>>;
  /** The compiled kernel for these arguments, for its report and generated source. */
  kernel(...tensors: TensorInput[]): Promise<Kernel>;
  /** The tensors it reads (its parameters, in order) and the ones it returns. */
  readonly params: readonly string[];
  readonly outputs: readonly string[];
}

export interface EinTag {
  (strings: TemplateStringsArray, ...values: (number | string)[]): TemplateFunction;
  /** The same tag with other compile options: `ein.with({ target: 'interp' })`. */
  with(options: TemplateOptions): EinTag;
}

function joinTemplate(strings: TemplateStringsArray, values: readonly unknown[]): string {
  return strings.reduce((text, part, i) => {
    if (i === 0) return part;
    const value = values[i - 1];
    if (typeof value !== 'number' && typeof value !== 'string')
      throw new EinError({
        message: `\${…} in an ein template must be a number or a string, got ${typeof value}`,
        hint: 'tensors are arguments of the call: ein`Y[i] = X[i] * 2`(X)',
      });
    return text + String(value) + part;
  }, '');
}

function templateFunction(analysis: TemplateAnalysis, options: TemplateOptions): TemplateFunction {
  const names = analysis.params.map((p) => p.name);
  const kernelFor = async (args: readonly TensorInput[]): Promise<Kernel> => {
    if (args.length !== names.length)
      throw new EinError({
        message: `the template reads ${names.join(', ') || 'no tensor'} but was called with ${args.length} argument${args.length === 1 ? '' : 's'}`,
        hint: 'pass the tensors the statements read but do not define, in order of first use',
      });
    const tensors = args.map((a, i) => toTensor(a, names[i]!));
    const { source, ranks } = templateKernel(analysis, tensors);
    try {
      return await compile(source, { ...options, ranks, file: TEMPLATE_FILE });
    } catch (e) {
      throw e instanceof EinError ? remapError(e, analysis.text, analysis.params) : e;
    }
  };
  const call = async (...args: TensorInput[]): Promise<Record<string, Tensor>> => {
    const kernel = await kernelFor(args);
    try {
      return await kernel.run(Object.fromEntries(names.map((n, i) => [n, args[i]!])));
    } catch (e) {
      throw e instanceof EinError ? remapError(e, analysis.text, analysis.params) : e;
    }
  };
  return Object.assign(call, {
    kernel: (...args: TensorInput[]) => kernelFor(args),
    params: names,
    outputs: analysis.outputs,
  });
}

function makeTag(options: TemplateOptions): EinTag {
  const tag = (strings: TemplateStringsArray, ...values: (number | string)[]) =>
    templateFunction(analyzeTemplate(joinTemplate(strings, values)), options);
  return Object.assign(tag, { with: (more: TemplateOptions) => makeTag({ ...options, ...more }) });
}

/** The tagged template; compiles for WASM by default. */
export const ein: EinTag = makeTag({});
