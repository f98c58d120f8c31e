// What the run worker does with one request: the compiled kernel on WASM, or the interpreter.
import { checkProgram, compile, EinError, interpret } from '../../src/index.js';
import { compileOptions } from './compile-options.js';
import type { RunReply, RunRequest } from './run-protocol.js';

export async function handle(request: RunRequest): Promise<RunReply> {
  const { id, kind, source, options, inputs } = request;
  try {
    const started = performance.now();
    let outputs;
    if (kind === 'interp') {
      const program = checkProgram(source, 'playground.ein');
      const kernel = options.kernel ?? program.kernels[program.kernels.length - 1]!.name;
      outputs = interpret(program, kernel, inputs, { ranks: options.ranks });
    } else {
      const compiled = await compile(source, compileOptions(options, 'wasm'));
      outputs = await compiled.run(inputs);
    }
    return { id, ok: true, outputs, ms: performance.now() - started };
  } catch (e) {
    const error = e instanceof EinError ? e.format() : String(e instanceof Error ? (e.stack ?? e) : e);
    return { id, ok: false, error };
  }
}
