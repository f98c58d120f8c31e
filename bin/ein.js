#!/usr/bin/env node
// The installed `ein` command: runs the compiled CLI from dist/ (built by `npm run build`, which
// `npm ci` runs through the prepare script).
let cli;
try {
  cli = await import('../dist/cli/main.js');
} catch (e) {
  if (e?.code !== 'ERR_MODULE_NOT_FOUND') throw e;
  console.error('ein: the compiled CLI is missing; run `npm run build` (or `npm ci`) first');
  process.exit(2);
}
process.exitCode = await cli.main(process.argv.slice(2));
