// The `ein` command. Every user error prints as FILE:LINE:COL with a caret and exits 1; anything else
// is an internal error (exit 2), shown without a stack trace unless EIN_DEBUG is set.
import { Command, CommanderError, Option } from 'commander';
import { EinError } from '../frontend/diagnostics.js';
import { checkCommand } from './commands/check.js';
import { compileCommand, type CompileCommandOptions } from './commands/compile.js';
import { demoCommand } from './commands/demo.js';
import { explainCommand, type ExplainOptions } from './commands/explain.js';
import { fmtCommand } from './commands/fmt.js';
import { generateCommand, parseNumberOption, type GenerateOptions } from './commands/generate.js';
import { playgroundCommand, type PlaygroundOptions } from './commands/playground.js';
import { runCommand, type RunOptions } from './commands/run.js';
import { processIO, type CliIO } from './io.js';
import { collectPair, parseBytes, parseInteger } from './options.js';
import { runners } from './targets.js';

export const VERSION = '0.1.0';

function buildProgram(io: CliIO, setCode: (code: number | Promise<number>) => void): Command {
  const program = new Command('ein')
    .description('Ein: a compiler for memory-aware kernels written as cascades of Einsums')
    .version(VERSION)
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) });

  program
    .command('check')
    .description('parse and check Ein files; report every error with its line and column')
    .argument('<files...>', '.ein files')
    .action((files: string[]) => setCode(checkCommand(files, io)));

  program
    .command('fmt')
    .description('print Ein files in canonical form (comments kept)')
    .argument('<files...>', '.ein files')
    .option('-w, --write', 'rewrite the files in place')
    .option('--check', 'exit 1 if any file is not formatted')
    .action((files: string[], opts: { write?: boolean; check?: boolean }) =>
      setCode(fmtCommand(files, opts, io)),
    );

  program
    .command('run')
    .description('run a kernel on inputs from .npy files or random ones; write or print its outputs')
    .argument('<file>', '.ein file')
    .option('-k, --kernel <name>', 'kernel to run (default: the last one in the file)')
    .addOption(
      new Option('-t, --target <target>', 'where to run').choices(Object.keys(runners)).default('interp'),
    )
    .option('--in <NAME=PATH.npy>', 'an input tensor (repeatable)', collectPair)
    .option('--rank <NAME=INT>', 'the value of a symbolic rank (repeatable)', collectPair)
    .option('--random-inputs', 'fill the inputs not given with reproducible random values')
    .option('--seed <n>', 'seed for --random-inputs', parseInteger, 0)
    .option('--out <NAME=PATH.npy>', 'write an output tensor (repeatable)', collectPair)
    .option('--print', 'print the outputs (the default when no --out is given)')
    .option('--threads <n>', 'worker threads for targets that use them', parseInteger)
    .option('--max-tensor-bytes <bytes>', 'largest tensor allowed (default 1GiB)', parseBytes)
    .action((file: string, opts: RunOptions) => setCode(runCommand(file, opts, io)));

  program
    .command('compile')
    .description(
      'compile a kernel: fusion, tiling, memory plan; write the Loop IR and target source, report bytes moved',
    )
    .argument('<file>', '.ein file')
    .option('-k, --kernel <name>', 'kernel to compile (default: the last one in the file)')
    .addOption(
      new Option('-t, --target <target>', 'target').choices(['wasm', 'wgsl', 'cuda', 'all']).default('wasm'),
    )
    .option('-o, --out <dir>', 'write the generated files here')
    .option('--rank <NAME=INT>', 'the value of a symbolic rank (repeatable)', collectPair)
    .option('--scratchpad <bytes>', "on-chip bytes per workgroup (default: the target's)", parseBytes)
    .option('--threads <n>', 'worker threads the memory plan provides for (WASM)', parseInteger)
    .option('--report <path.json>', 'write the compile report as JSON')
    .option('--explain', 'print every kernel, its traffic against the lower bound, and every decision')
    .option('--dump-after <pass>', 'print the state after one pass')
    .option('--dump-all', 'print the state after every pass')
    .addOption(new Option('--emit <what>', 'what to write with -o').choices(['loops', 'all']).default('all'))
    .option('--no-online', 'do not rewrite multi-pass softmax chains into the 1-pass form')
    .option('--max-tensor-bytes <bytes>', 'largest tensor allowed (default 1GiB)', parseBytes)
    .action((file: string, opts: CompileCommandOptions) => setCode(compileCommand(file, opts, io)));

  program
    .command('generate')
    .description('generate text from a llama2.c checkpoint; the forward pass is examples/llama.ein')
    .requiredOption('--model <path>', 'llama2.c checkpoint (.bin)')
    .requiredOption('--tokenizer <path>', 'llama2.c tokenizer (.bin)')
    .option('--prompt <text>', 'text to start from', '')
    .option('--steps <n>', 'positions to run, prompt included (0: the sequence length)', parseInteger, 256)
    .option('--temperature <t>', 'sampling temperature; 0 is greedy', parseNumberOption, 1)
    .option('--top-p <p>', 'nucleus sampling threshold', parseNumberOption, 0.9)
    .option('--seed <n>', 'random seed (default: from the clock, as llama2.c)', parseInteger)
    .addOption(
      new Option('-t, --target <target>', 'where kernels run (wasm and wgsl hold the model resident)')
        .choices(Object.keys(runners))
        .default('wasm'),
    )
    .option('--max-memory <bytes>', 'refuse to run if the predicted peak memory is larger', parseBytes)
    .action((opts: GenerateOptions) => setCode(generateCommand(opts, io)));

  program
    .command('playground')
    .description('serve the playground (editor, pass-by-pass IR, generated code, memory charts) on 127.0.0.1')
    .option('-p, --port <n>', 'port to listen on', parseInteger, 5173)
    .option('--dist <dir>', 'serve this prebuilt playground instead of building one')
    .option('--dev', "run Vite's dev server (reloads on edits)")
    .action((opts: PlaygroundOptions) => setCode(playgroundCommand(opts, io)));

  program
    .command('explain')
    .description(
      'memory plans: COSMA scratchpad allocation (ILP beside greedy) with --scratchpad, AutoChunk with --max-memory; then the compile explanation',
    )
    .argument('<file>', '.ein file')
    .option('-k, --kernel <name>', 'kernel to explain (default: the last one in the file)')
    .option('--rank <NAME=INT>', 'the value of a symbolic rank (repeatable), e.g. --rank T=64', collectPair)
    .option('--scratchpad <bytes>', 'COSMA: the scratchpad all global buffers share (e.g. 64KiB)', parseBytes)
    .option('--max-memory <bytes>', 'AutoChunk: budget for the peak of intermediate memory', parseBytes)
    .addOption(
      new Option('-t, --target <target>', 'target').choices(['wasm', 'wgsl', 'cuda']).default('wasm'),
    )
    .option(
      '--kernel-scratchpad <bytes>',
      "fusion's on-chip bytes per workgroup (default: the target's)",
      parseBytes,
    )
    .option('--threads <n>', 'worker threads the memory plan provides for (WASM)', parseInteger)
    .option('--time-limit <seconds>', 'ILP time limit per solve (default 10)', parseInteger)
    .option('--no-online', 'do not rewrite multi-pass softmax chains into the 1-pass form')
    .option('--report <path.json>', 'write the compile report with both plans as JSON')
    .option('--all-steps', 'print every step of a scratchpad plan (default: the first and last 6)')
    .option('--max-tensor-bytes <bytes>', 'largest tensor allowed (default 1GiB)', parseBytes)
    .action((file: string, opts: ExplainOptions) => setCode(explainCommand(file, opts, io)));

  program
    .command('demo')
    .description('the quick-start demo: check, compile and run examples/attention.ein, and report')
    .action(() => setCode(demoCommand(io)));

  return program;
}

export async function main(argv: readonly string[], io: CliIO = processIO): Promise<number> {
  let result: number | Promise<number> = 0;
  try {
    const program = buildProgram(io, (c) => (result = c));
    await program.parseAsync(argv as string[], { from: 'user' });
    return await result;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 1;
    if (e instanceof EinError) {
      io.err(e.format());
      return 1;
    }
    const message = e instanceof Error ? e.message : String(e);
    io.err(
      `ein: internal error: ${message}\nThis is a bug in Ein; please report it with the input that caused it.`,
    );
    if (process.env['EIN_DEBUG'] && e instanceof Error) io.err(e.stack ?? '');
    return 2;
  }
}
