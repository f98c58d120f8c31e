import { readFileSync, writeFileSync } from 'node:fs';
import { EinError } from '../../frontend/diagnostics.js';
import { checkSource, readSource } from '../../frontend/index.js';
import type { CascadeProgram } from '../../ir/cascade.js';
import { bindKernel } from '../../ir/bind.js';
import { DEFAULT_LIMITS } from '../../ir/limits.js';
import { randomInputs } from '../../ir/random-inputs.js';
import type { Tensor } from '../../ir/tensor.js';
import type { CliIO } from '../io.js';
import { decodeNpy, encodeNpy } from '../npy.js';
import { parseRankValues } from '../options.js';
import { formatTensor } from '../print-tensor.js';
import { runners } from '../targets.js';

export interface RunOptions {
  readonly kernel?: string;
  readonly target: string;
  readonly in?: Record<string, string>;
  readonly rank?: Record<string, string>;
  readonly randomInputs?: boolean;
  readonly seed: number;
  readonly out?: Record<string, string>;
  readonly print?: boolean;
  readonly maxTensorBytes?: number;
  readonly threads?: number;
}

function readNpy(name: string, path: string): Tensor {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch {
    throw new EinError({ message: `--in ${name}=${path}: cannot read the file` });
  }
  return decodeNpy(bytes, path);
}

/** `ein run FILE`: bind ranks from --rank and the inputs' shapes, run, then write or print the outputs. */
export async function runCommand(file: string, opts: RunOptions, io: CliIO): Promise<number> {
  const source = readSource(file);
  const program = checkSource(source, file);
  try {
    return await runChecked(file, program, opts, io);
  } catch (e) {
    // Binding and running report spans in the kernel's source (a size, a subscript, a parameter).
    if (e instanceof EinError && e.diagnostics[0]?.span) throw e.withSource(file, source);
    throw e;
  }
}

async function runChecked(
  file: string,
  program: CascadeProgram,
  opts: RunOptions,
  io: CliIO,
): Promise<number> {
  const kernel = opts.kernel ?? program.kernels[program.kernels.length - 1]?.name;
  if (!kernel) throw new EinError({ message: `${file} defines no kernel` });
  const runner = runners[opts.target];
  if (!runner)
    throw new EinError({
      message: `unknown target '${opts.target}'`,
      hint: `targets: ${Object.keys(runners).join(', ')}`,
    });

  const k = program.kernels.find((x) => x.name === kernel);
  if (!k)
    throw new EinError({
      message: `${file} has no kernel '${kernel}'`,
      hint: `kernels: ${program.kernels.map((x) => x.name).join(', ')}`,
    });
  for (const name of Object.keys(opts.in ?? {}))
    if (!k.params.includes(name))
      throw new EinError({
        message: `--in ${name}: ${kernel} has no input ${name}`,
        hint: `inputs: ${k.params.join(', ')}`,
      });
  for (const name of Object.keys(opts.out ?? {}))
    if (!k.outputs.includes(name))
      throw new EinError({
        message: `--out ${name}: ${kernel} has no output ${name}`,
        hint: `outputs: ${k.outputs.join(', ')}`,
      });
  const given = Object.fromEntries(Object.entries(opts.in ?? {}).map(([n, p]) => [n, readNpy(n, p)]));
  const bound = bindKernel(program, kernel, {
    ranks: parseRankValues(opts.rank),
    inputShapes: Object.fromEntries(Object.entries(given).map(([n, t]) => [n, t.shape])),
    limits: { ...DEFAULT_LIMITS, ...(opts.maxTensorBytes ? { maxTensorBytes: opts.maxTensorBytes } : {}) },
  });
  const missing = k.params.filter((p) => !given[p]);
  if (missing.length > 0 && !opts.randomInputs)
    throw new EinError({
      message: `input${missing.length > 1 ? 's' : ''} ${missing.join(', ')} of ${kernel} not given`,
      hint: `pass --in ${missing[0]}=PATH.npy, or --random-inputs`,
    });
  const inputs = { ...randomInputs(bound, opts.seed), ...given };
  for (const [name, t] of Object.entries(given))
    if (t.dtype !== k.tensors[name]!.dtype)
      throw new EinError({
        message: `--in ${name}: the file holds ${t.dtype} but ${kernel} declares ${k.tensors[name]!.dtype}`,
      });

  const outputs = await runner({ bound, inputs, threads: opts.threads });
  for (const [name, path] of Object.entries(opts.out ?? {})) writeFileSync(path, encodeNpy(outputs[name]!));
  if (opts.print || !opts.out) for (const [name, t] of Object.entries(outputs)) io.out(formatTensor(name, t));
  return 0;
}
