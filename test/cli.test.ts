// The `ein` command in-process through main(argv, io): help, check, fmt and run, their exit codes,
// and that every failure prints a formatted error (never a stack trace). One test spawns the built
// CLI, bin/ein.js, when dist/ exists.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, test } from 'vitest';
import { main } from '../src/cli/main.js';
import { decodeNpy, encodeNpy } from '../src/cli/npy.js';
import type { Tensor } from '../src/ir/tensor.js';
import { ein, expectNoStackTrace } from './support/cli-run.js';

const dir = mkdtempSync(join(tmpdir(), 'ein-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Write a file into the temp dir; returns its path. */
function file(name: string, content: string | Uint8Array): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

const f32 = (shape: number[], values: number[]): Tensor => ({
  dtype: 'f32',
  shape,
  data: Float32Array.from(values),
});
const i32 = (shape: number[], values: number[]): Tensor => ({
  dtype: 'i32',
  shape,
  data: Int32Array.from(values),
});
const npy = (name: string, t: Tensor) => file(name, encodeNpy(t));
const readNpy = (path: string) => decodeNpy(readFileSync(path), path);

describe('help and usage', () => {
  test('ein --help lists the commands', async () => {
    const r = await ein('--help');
    expect(r.code).toBe(0);
    expect(r.out).toContain('Usage: ein [options] [command]');
    for (const c of ['check <files...>', 'fmt [options] <files...>', 'run [options] <file>'])
      expect(r.out).toContain(c);
    expect(r.err).toBe('');
  });

  test('ein run --help lists its options', async () => {
    const r = await ein('run', '--help');
    expect(r.code).toBe(0);
    expect(r.out).toContain('Usage: ein run [options] <file>');
    for (const o of [
      '--kernel <name>',
      '--in <NAME=PATH.npy>',
      '--out <NAME=PATH.npy>',
      '--rank <NAME=INT>',
      '--random-inputs',
      '--seed <n>',
      '--max-tensor-bytes <bytes>',
    ])
      expect(r.out).toContain(o);
  });

  test('ein --version', async () => {
    const r = await ein('--version');
    expect(r.code).toBe(0);
    expect(r.out.trim()).toBe('0.1.0');
  });

  test('an unknown command exits 1 with a message', async () => {
    const r = await ein('frobnicate', 'x.ein');
    expect(r.code).toBe(1);
    expect(r.err).toContain("error: unknown command 'frobnicate'");
    expectNoStackTrace(r.err);
  });

  test('a missing argument exits 1 with a message', async () => {
    const r = await ein('check');
    expect(r.code).toBe(1);
    expect(r.err).toContain("missing required argument 'files'");
  });
});

describe('ein check', () => {
  const bad = 'kernel f(A: f32[N]) -> B {\n  B[i] = A2[i]\n}\n';

  test('a good file: exit 0 and the kernels it defines', async () => {
    const r = await ein('check', 'examples/matmul.ein', 'examples/attention_1pass.ein');
    expect(r.code).toBe(0);
    expect(r.out).toBe(
      'examples/matmul.ein: ok (matmul)\nexamples/attention_1pass.ein: ok (attention_1pass)\n',
    );
    expect(r.err).toBe('');
  });

  test('a failing file: exit 1 and the formatted error', async () => {
    const path = file('bad.ein', bad);
    const r = await ein('check', path);
    expect(r.code).toBe(1);
    expect(r.out).toBe('');
    expect(r.err).toBe(
      [
        `${path}:2:10: error: unknown tensor 'A2'`,
        ' 2 |   B[i] = A2[i]',
        '   |          ^^^^^',
        '  hint: did you mean A?',
        '',
      ].join('\n'),
    );
    expectNoStackTrace(r.err);
  });

  test('every file is checked: good ones are reported, the exit code says one failed', async () => {
    const path = file('bad2.ein', bad);
    const r = await ein('check', path, 'examples/softmax.ein');
    expect(r.code).toBe(1);
    expect(r.out).toBe('examples/softmax.ein: ok (softmax)\n');
    expect(r.err).toContain(`${path}:2:10: error:`);
  });

  test('a missing file', async () => {
    const r = await ein('check', join(dir, 'nope.ein'));
    expect(r.code).toBe(1);
    expect(r.err).toBe(`error: ${join(dir, 'nope.ein')}: no such file\n`);
  });

  test('a syntax error at the end of the file points at its last token', async () => {
    const path = file('eof.ein', 'kernel f(A: f32[N]) -> B {\n  B[i] = A[i]\n');
    const r = await ein('check', path);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`${path}:2:13: error: expected '}' but found the end of the file`);
  });
});

describe('ein fmt', () => {
  const messy = [
    '# Softmax, messy.',
    'kernel softmax(X:f32[R,C])->Y{',
    '  MX[r]=max[c] X[r,c]   # row max',
    '',
    '',
    '  EX[r, c] = exp((X[r, c] - MX[r]))',
    '  SX[r] = sum[c] EX[r,c]; Y[r,c] = EX[r,c]/SX[r]',
    '}',
    '# trailing',
    '',
  ].join('\n');
  const formatted = [
    '# Softmax, messy.',
    'kernel softmax(X: f32[R, C]) -> Y {',
    '  MX[r] = max[c] X[r, c]  # row max',
    '',
    '  EX[r, c] = exp(X[r, c] - MX[r])',
    '  SX[r] = sum[c] EX[r, c]',
    '  Y[r, c] = EX[r, c] / SX[r]',
    '}',
    '# trailing',
    '',
  ].join('\n');

  test('prints the canonical form, comments kept', async () => {
    const r = await ein('fmt', file('messy.ein', messy));
    expect(r.code).toBe(0);
    expect(r.out).toBe(formatted);
  });

  test('is idempotent', async () => {
    const r = await ein('fmt', file('formatted.ein', formatted));
    expect(r.out).toBe(formatted);
    for (const example of ['matmul', 'attention_1pass', 'mlp', 'conv1d']) {
      const path = `examples/${example}.ein`;
      expect((await ein('fmt', path)).out).toBe(readFileSync(path, 'utf8'));
    }
  });

  test('--check: exit 0 when formatted, 1 with the file named when not', async () => {
    expect(await ein('fmt', '--check', file('ok.ein', formatted))).toEqual({ code: 0, out: '', err: '' });
    const path = file('messy2.ein', messy);
    const r = await ein('fmt', '--check', path);
    expect(r.code).toBe(1);
    expect(r.err).toBe(`${path}: not formatted (run ein fmt --write ${path})\n`);
    expect(readFileSync(path, 'utf8')).toBe(messy);
  });

  test('--write rewrites a copy in place; then --check passes', async () => {
    const path = join(dir, 'copy.ein');
    copyFileSync(file('messy3.ein', messy), path);
    const r = await ein('fmt', '--write', path);
    expect(r).toEqual({ code: 0, out: '', err: '' });
    expect(readFileSync(path, 'utf8')).toBe(formatted);
    expect((await ein('fmt', '--check', path)).code).toBe(0);
  });

  test('a file that does not parse: exit 1, formatted error, file untouched', async () => {
    const source = 'kernel f(A: f32[N]) -> B {\n  B[i] = (A[i]\n}\n';
    const path = file('broken.ein', source);
    const r = await ein('fmt', '--write', path);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`${path}:3:1: error: expected ')' but found '}'`);
    expect(readFileSync(path, 'utf8')).toBe(source);
    expectNoStackTrace(r.err);
  });
});

describe('ein run', () => {
  const A = f32([2, 3], [1, 2, 3, 4, 5, 6]);
  const B = f32([3, 2], [1, 0, 0, 1, 1, 1]);
  const C = [4, 5, 10, 11]; // A · B

  test('--in .npy inputs, --out .npy outputs read back', async () => {
    const out = join(dir, 'c.npy');
    const r = await ein(
      'run',
      'examples/matmul.ein',
      '--in',
      `A=${npy('a.npy', A)}`,
      '--in',
      `B=${npy('b.npy', B)}`,
      '--out',
      `C=${out}`,
    );
    expect(r).toEqual({ code: 0, out: '', err: '' });
    const c = readNpy(out);
    expect(c.dtype).toBe('f32');
    expect(c.shape).toEqual([2, 2]);
    expect(Array.from(c.data)).toEqual(C);
  });

  test('without --out the outputs are printed', async () => {
    const r = await ein(
      'run',
      'examples/matmul.ein',
      '--in',
      `A=${npy('a2.npy', A)}`,
      '--in',
      `B=${npy('b2.npy', B)}`,
    );
    expect(r.code).toBe(0);
    expect(r.out).toBe('C: f32[2, 2] =\n[[4, 5],\n [10, 11]]\n');
  });

  test('--random-inputs --seed is reproducible, and --rank sets the shapes', async () => {
    const args = [
      'run',
      'examples/matmul.ein',
      '--random-inputs',
      '--rank',
      'M=2',
      '--rank',
      'K=3',
      '--rank',
      'N=4',
    ];
    const one = await ein(...args, '--seed', '7');
    const again = await ein(...args, '--seed', '7');
    const other = await ein(...args, '--seed', '8');
    expect(one.code).toBe(0);
    expect(one.out).toMatch(/^C: f32\[2, 4\] =\n/);
    expect(again.out).toBe(one.out);
    expect(other.out).not.toBe(one.out);
  });

  test('an input given, the rest random; the given input binds the ranks', async () => {
    const r = await ein(
      'run',
      'examples/matmul.ein',
      '--in',
      `A=${npy('a3.npy', A)}`,
      '--random-inputs',
      '--rank',
      'N=5',
    );
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^C: f32\[2, 5\] =/);
  });

  test('--kernel picks a kernel; the default is the last one', async () => {
    const path = file(
      'two.ein',
      [
        'kernel double(X: f32[N]) -> Y {',
        '  Y[i] = X[i] * 2',
        '}',
        'kernel negate(X: f32[N]) -> Z {',
        '  Z[i] = -X[i]',
        '}',
        '',
      ].join('\n'),
    );
    const x = npy('x.npy', f32([3], [1, 2, 3]));
    expect((await ein('run', path, '--in', `X=${x}`)).out).toBe('Z: f32[3] =\n[-1, -2, -3]\n');
    expect((await ein('run', path, '--kernel', 'double', '--in', `X=${x}`)).out).toBe(
      'Y: f32[3] =\n[2, 4, 6]\n',
    );
  });

  test('a gather with an i32 input', async () => {
    const path = file(
      'embed.ein',
      'kernel embed(wte: f32[V, D], tok: i32[T]) -> X {\n  X[t, d] = wte[tok[t], d]\n}\n',
    );
    const wte = npy('wte.npy', f32([3, 2], [0, 1, 10, 11, 20, 21]));
    const tok = npy('tok.npy', i32([2], [2, 0]));
    const r = await ein('run', path, '--in', `wte=${wte}`, '--in', `tok=${tok}`);
    expect(r.out).toBe('X: f32[2, 2] =\n[[20, 21],\n [0, 1]]\n');
  });

  describe('errors', () => {
    async function expectError(args: string[], message: string): Promise<string> {
      const r = await ein(...args);
      expect(r.code).toBe(1);
      expect(r.out).toBe('');
      expect(r.err).toContain(message);
      expectNoStackTrace(r.err);
      return r.err;
    }

    test('missing inputs', async () => {
      const err = await expectError(
        ['run', 'examples/matmul.ein', '--rank', 'M=2', '--rank', 'K=2', '--rank', 'N=2'],
        'error: inputs A, B of matmul not given',
      );
      expect(err).toContain('hint: pass --in A=PATH.npy, or --random-inputs');
    });

    test('a rank with no value names the flag', async () => {
      const err = await expectError(
        ['run', 'examples/matmul.ein', '--random-inputs', '--rank', 'M=2'],
        'examples/matmul.ein:2:25: error: rank K has no value',
      );
      expect(err).toContain(' 2 | kernel matmul(A: f32[M, K], B: f32[K, N]) -> C {');
      expect(err).toContain('hint: pass --rank K=INT');
    });

    test('an unknown kernel', async () => {
      const err = await expectError(
        ['run', 'examples/matmul.ein', '--kernel', 'nope', '--random-inputs'],
        "examples/matmul.ein has no kernel 'nope'",
      );
      expect(err).toContain('hint: kernels: matmul');
    });

    test('--in or --out naming no input or output', async () => {
      await expectError(
        ['run', 'examples/matmul.ein', '--in', `Q=${npy('q.npy', A)}`],
        '--in Q: matmul has no input Q',
      );
      await expectError(
        ['run', 'examples/matmul.ein', '--random-inputs', '--out', `D=${join(dir, 'd.npy')}`],
        '--out D: matmul has no output D',
      );
    });

    test('--in files that cannot be used', async () => {
      await expectError(
        ['run', 'examples/matmul.ein', '--in', `A=${join(dir, 'missing.npy')}`],
        `--in A=${join(dir, 'missing.npy')}: cannot read the file`,
      );
      const text = file('a.txt', 'not numpy');
      await expectError(
        ['run', 'examples/matmul.ein', '--in', `A=${text}`],
        `error: ${text}: not a .npy file (bad magic)`,
      );
      await expectError(
        [
          'run',
          'examples/matmul.ein',
          '--random-inputs',
          '--rank',
          'N=2',
          '--in',
          `A=${npy('ai.npy', i32([2, 3], [1, 2, 3, 4, 5, 6]))}`,
        ],
        '--in A: the file holds i32 but matmul declares f32',
      );
    });

    test('inputs whose shapes disagree on a rank', async () => {
      const err = await expectError(
        [
          'run',
          'examples/matmul.ein',
          '--in',
          `A=${npy('a4.npy', A)}`,
          '--in',
          `B=${npy('b4.npy', f32([2, 2], [1, 2, 3, 4]))}`,
        ],
        'examples/matmul.ein:2:29: error: input B axis 0 has size 2, but K = 3',
      );
      expect(err).toContain('\n   |                             ^^^^^^^^^^^^\n');
    });

    test('a bad --rank value', async () => {
      await expectError(
        ['run', 'examples/matmul.ein', '--random-inputs', '--rank', 'M=abc'],
        'error: --rank M=abc: a rank is a positive whole number',
      );
      await expectError(
        ['run', 'examples/matmul.ein', '--random-inputs', '--rank', 'M'],
        "expected NAME=VALUE, got 'M'",
      );
    });

    test('bad --seed and --max-tensor-bytes values', async () => {
      await expectError(
        ['run', 'examples/matmul.ein', '--random-inputs', '--seed', 'x'],
        "'x' is not a whole number",
      );
      await expectError(
        ['run', 'examples/matmul.ein', '--random-inputs', '--max-tensor-bytes', 'lots'],
        "'lots' is not a size in bytes",
      );
    });

    test('a tensor beyond --max-tensor-bytes: the message names the limit and the flag', async () => {
      const err = await expectError(
        [
          'run',
          'examples/matmul.ein',
          '--random-inputs',
          '--rank',
          'M=64',
          '--rank',
          'K=64',
          '--rank',
          'N=2',
          '--max-tensor-bytes',
          '4KiB',
        ],
        'examples/matmul.ein:2:15: error: A needs 16 KiB (shape [64, 64]), beyond the limit of 4 KiB per tensor',
      );
      expect(err).toContain('hint: raise the limit with --max-tensor-bytes BYTES');
      expect(
        (
          await ein(
            'run',
            'examples/matmul.ein',
            '--random-inputs',
            '--rank',
            'M=64',
            '--rank',
            'K=64',
            '--rank',
            'N=2',
            '--max-tensor-bytes',
            '16KiB',
          )
        ).code,
      ).toBe(0);
    });

    test('a subscript out of range is found before running, with its place in the file', async () => {
      const path = file('diff.ein', 'kernel diff(X: f32[T]) -> Y {\n  Y[t] = X[t + 1] - X[t]\n}\n');
      const err = await expectError(
        ['run', path, '--random-inputs', '--rank', 'T=4'],
        `${path}:2:10: error: subscript t + 1 of X ranges over 1..4`,
      );
      expect(err).toContain(' 2 |   Y[t] = X[t + 1] - X[t]\n   |          ^^^^^^^^');
    });

    test('a gather out of range while running, with its place in the file', async () => {
      const path = file(
        'embed2.ein',
        'kernel embed(wte: f32[V, D], tok: i32[T]) -> X {\n  X[t, d] = wte[tok[t], d]\n}\n',
      );
      const wte = npy('wte2.npy', f32([3, 2], [0, 1, 10, 11, 20, 21]));
      const tok = npy('tok2.npy', i32([2], [1, 3]));
      await expectError(
        ['run', path, '--in', `wte=${wte}`, '--in', `tok=${tok}`],
        `${path}:2:13: error: wte[...] reads position 3 on axis 0, outside its 3 elements`,
      );
    });

    test('a file that does not check', async () => {
      const path = file('bad3.ein', 'kernel f(A: f32[N]) -> B {\n  B[i] = A[i] * Q\n}\n');
      await expectError(['run', path, '--random-inputs'], `${path}:2:17: error: unknown name 'Q'`);
    });

    test('a file without kernels', async () => {
      await expectError(['run', file('empty.ein', 'rank R = 3\n'), '--random-inputs'], 'defines no kernel');
    });
  });
});

describe('internal errors', () => {
  let saved: string | undefined;
  beforeEach(() => {
    saved = process.env['EIN_DEBUG'];
    delete process.env['EIN_DEBUG'];
  });
  afterEach(() => {
    if (saved === undefined) delete process.env['EIN_DEBUG'];
    else process.env['EIN_DEBUG'] = saved;
  });

  test('a bug in Ein is reported in one line with exit 2, not as a stack trace', async () => {
    const err: string[] = [];
    const io = {
      out: () => {
        throw new TypeError('cannot write');
      },
      err: (t: string) => err.push(t),
    };
    const code = await main(['check', 'examples/matmul.ein'], io);
    expect(code).toBe(2);
    expect(err.join('\n')).toBe(
      'ein: internal error: cannot write\nThis is a bug in Ein; please report it with the input that caused it.',
    );
    expectNoStackTrace(err.join('\n'));
  });

  test('EIN_DEBUG shows the stack', async () => {
    process.env['EIN_DEBUG'] = '1';
    const err: string[] = [];
    const io = {
      out: () => {
        throw new TypeError('cannot write');
      },
      err: (t: string) => err.push(t),
    };
    expect(await main(['check', 'examples/matmul.ein'], io)).toBe(2);
    expect(err.join('\n')).toMatch(/TypeError: cannot write\n\s+at /);
  });
});

const built = existsSync('dist/cli/main.js');
test.skipIf(!built)(
  built
    ? 'node bin/ein.js check examples/matmul.ein (the built CLI)'
    : 'node bin/ein.js: skipped, dist/ is missing (run `npm run build`)',
  () => {
    const r = spawnSync(process.execPath, ['bin/ein.js', 'check', 'examples/matmul.ein'], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('examples/matmul.ein: ok (matmul)\n');
    expect(r.status).toBe(0);
  },
);
