// `ein playground`: build the playground page with Vite and serve it on 127.0.0.1 only, with the
// cross-origin isolation headers (COOP/COEP) that SharedArrayBuffer — and so the WASM thread pool —
// needs. `--dist DIR` serves an existing build; `--dev` runs Vite's dev server (hot reload) instead.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EinError } from '../../frontend/diagnostics.js';
import type { CliIO } from '../io.js';

/** The package root: this file is src/cli/commands/ (tsx) or dist/cli/commands/ (built). */
const PACKAGE_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const PLAYGROUND_ROOT = join(PACKAGE_ROOT, 'playground');
const VITE_CONFIG = join(PLAYGROUND_ROOT, 'vite.config.ts');

export const ISOLATION_HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
} as const;

const MIME: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

export interface PlaygroundServer {
  readonly url: string;
  close(): Promise<void>;
}

/** Serves the files under `dir` on 127.0.0.1 (port 0: any free port), isolated cross-origin. */
export async function serveStatic(dir: string, port = 0): Promise<PlaygroundServer> {
  const root = resolve(dir);
  const server: Server = createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
    const file = normalize(join(root, path.endsWith('/') ? `${path}index.html` : path));
    // Never serve outside the build directory.
    const inside = file === root || file.startsWith(root + sep);
    const info = inside ? await stat(file).catch(() => undefined) : undefined;
    if (!info?.isFile()) {
      res.writeHead(404, { 'Content-Type': 'text/plain', ...ISOLATION_HEADERS }).end('not found');
      return;
    }
    res.writeHead(200, {
      'Content-Type': MIME[extname(file)] ?? 'application/octet-stream',
      'Content-Length': info.size,
      'Cache-Control': 'no-cache',
      ...ISOLATION_HEADERS,
    });
    createReadStream(file).pipe(res);
  });
  await new Promise<void>((done, fail) => {
    server.once('error', fail);
    server.listen(port, '127.0.0.1', done);
  });
  const address = server.address();
  const actualPort = typeof address === 'object' && address ? address.port : port;
  return {
    url: `http://127.0.0.1:${actualPort}/`,
    close: () => new Promise<void>((done) => server.close(() => done())),
  };
}

type ViteModule = typeof import('vite');

async function loadVite(): Promise<ViteModule> {
  try {
    return await import('vite');
  } catch {
    throw new EinError({
      message: 'the playground needs Vite, which is a development dependency',
      hint: 'run `npm ci` in a checkout of Ein, or serve a prebuilt page with --dist DIR',
    });
  }
}

/** Builds the playground into `outDir` with its own Vite config. */
export async function buildPlayground(outDir: string): Promise<void> {
  const vite = await loadVite();
  await vite.build({
    configFile: VITE_CONFIG,
    logLevel: 'warn',
    build: { outDir, emptyOutDir: true },
  });
}

export interface PlaygroundOptions {
  readonly port: number;
  readonly dist?: string;
  readonly dev?: boolean;
}

/** Runs until interrupted (Ctrl-C). */
export async function playgroundCommand(opts: PlaygroundOptions, io: CliIO): Promise<number> {
  let server: PlaygroundServer;
  if (opts.dev) {
    const vite = await loadVite();
    const dev = await vite.createServer({
      configFile: VITE_CONFIG,
      server: { host: '127.0.0.1', port: opts.port, strictPort: true, headers: ISOLATION_HEADERS },
    });
    await dev.listen();
    server = { url: `http://127.0.0.1:${opts.port}/`, close: () => dev.close() };
  } else {
    let dir = opts.dist;
    if (!dir) {
      dir = join(tmpdir(), 'ein-playground');
      io.out('building the playground…');
      await buildPlayground(dir);
    }
    server = await serveStatic(dir, opts.port);
  }
  io.out(`Ein playground: ${server.url}  (Ctrl-C stops it)`);
  await new Promise<void>((done) => {
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
  });
  await server.close();
  return 0;
}
