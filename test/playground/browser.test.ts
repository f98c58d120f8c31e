// The playground in a real browser (Debian's Chromium, headless, driven by playwright-core): build
// it with Vite, serve it on 127.0.0.1 with COOP/COEP, then do what a user does — see a diagnostic,
// fix it, compile, open every tab, run on WASM and WebGPU against the interpreter, reload from the
// shared URL — and check a screenshot is not blank. Outside CI it skips when Chromium is missing.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { buildPlayground, serveStatic, type PlaygroundServer } from '../../src/cli/commands/playground.js';
import {
  CHROMIUM,
  compileAndWait,
  editorText,
  launch,
  pixelStats,
  runOn,
  setEditorText,
  settledStatus,
  type Browser,
} from './page-driver.js';

const available = existsSync(CHROMIUM);
if (!available) {
  if (process.env.CI) throw new Error(`${CHROMIUM} is missing: .ci/run installs Debian's chromium`);
  console.warn(`skipping the playground browser test: ${CHROMIUM} is missing (apt-get install chromium)`);
}

const BROKEN = `# two matrix products in a row: C is an intermediate
kernel chain(A: f32[M, K], B: f32[K, N], D: f32[N, P]) -> E {
  C[m, n] = A[m, k] * Bt[k, n]
  E[m, p] = sigmoid(C[m, n] * D[n, p])
}
`;
const FIXED = BROKEN.replace('Bt[k, n]', 'B[k, n]');

describe.skipIf(!available)('the playground in Chromium', { timeout: 90_000 }, () => {
  let dist: string;
  let server: PlaygroundServer;
  let browser: Browser;

  beforeAll(async () => {
    dist = mkdtempSync(join(tmpdir(), 'ein-playground-'));
    await buildPlayground(dist);
    server = await serveStatic(dist);
    browser = await launch();
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (dist) rmSync(dist, { recursive: true, force: true });
  });

  test('loads cross-origin isolated and compiles the default example', async () => {
    const { page } = browser;
    await page.goto(server.url);
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
    const status = await settledStatus(page);
    expect(status.state, status.text).toBe('ok');
    expect(status.text).toContain('compiled attention');
    // Every file of examples/ is in the picker.
    const examples = await page.$$eval('#example option', (o) =>
      o.map((x) => (x as HTMLOptionElement).value),
    );
    expect(examples).toEqual(expect.arrayContaining(['attention', 'matmul', 'softmax', 'llama']));
  });

  test('shows the checker diagnostic inline, and compiles once it is fixed', async () => {
    const { page } = browser;
    await setEditorText(page, BROKEN);
    await page.waitForSelector('.cm-lintRange-error');
    await page.hover('.cm-lintRange-error');
    const tooltip = await page.waitForSelector('.cm-tooltip-lint');
    expect(await tooltip.textContent()).toContain("unknown tensor 'Bt'");
    const failed = await compileAndWait(page);
    expect(failed.state).toBe('error');
    expect(failed.text).toContain("playground.ein:3:23: error: unknown tensor 'Bt'");

    await setEditorText(page, FIXED);
    await page.waitForSelector('.cm-lintRange-error', { state: 'detached' });
    await page.fill('#cosma', '4096');
    // The rank inputs follow the program as it is edited.
    await page.waitForFunction(
      () =>
        Array.from(
          document.querySelectorAll<HTMLInputElement>('#ranks input'),
          (i) => i.dataset.rank,
        ).join() === 'M,K,N,P',
    );
    const compiled = await compileAndWait(page);
    expect(compiled.state, compiled.text).toBe('ok');
    expect(compiled.text).toContain('compiled chain (M=16, K=16, N=16, P=16)');
  });

  test('every tab shows its part: pass dumps, WASM text, WGSL, CUDA, memory charts', async () => {
    const { page } = browser;
    await page.click('.tab[data-tab="passes"]');
    const passes = await page.$$eval('#pass-list button', (b) =>
      b.map((x) => (x as HTMLElement).dataset.pass!),
    );
    expect(passes).toEqual(expect.arrayContaining(['inline', 'fusion', 'tiling', 'lower', 'memplan']));
    for (const pass of passes) {
      await page.click(`#pass-list button[data-pass="${pass}"]`);
      expect(await page.textContent('#pass-dump')).toContain(`# after ${pass}:`);
    }
    await page.click('.tab[data-tab="wasm"]');
    expect(await page.isVisible('#source-wasm')).toBe(true);
    expect(await page.textContent('#source-wasm')).toMatch(/^\(module[\s\S]*\(memory .* shared\)/);
    await page.click('.tab[data-tab="wgsl"]');
    const wgsl = (await page.textContent('#source-wgsl')) ?? '';
    expect(wgsl).toMatch(/@compute|not available yet/);
    if (!wgsl.includes('@compute')) console.warn('the WGSL tab says: ' + wgsl);
    await page.click('.tab[data-tab="cuda"]');
    const cuda = (await page.textContent('#source-cuda')) ?? '';
    expect(cuda).toMatch(/__global__|not available yet/);
    await page.click('.tab[data-tab="memory"]');
    expect(await page.$$eval('#arena-chart g.buffer', (g) => g.length)).toBeGreaterThanOrEqual(4);
    expect(await page.isVisible('#cosma-chart svg')).toBe(true);
    expect(
      await page.$$eval('#cosma-chart g.resident, #cosma-chart g.reload', (g) => g.length),
    ).toBeGreaterThan(0);
    expect(await page.$$eval('#traffic-chart g.moved', (g) => g.length)).toBeGreaterThanOrEqual(1);
    expect(await page.textContent('#explain')).toContain('lower bound');
  });

  test('runs on WASM in a worker and matches the interpreter', async () => {
    const { page } = browser;
    await page.click('.tab[data-tab="run"]');
    const result = await runOn(page, 'run-wasm');
    expect(result.status, result.text).toBe('pass');
    expect(result.text).toContain('wasm: check passed');
  });

  test('runs on WebGPU (SwiftShader) and matches the interpreter', async (ctx) => {
    const { page } = browser;
    const adapter = await page.evaluate(async () => Boolean(await navigator.gpu?.requestAdapter()));
    if (!adapter) {
      console.warn('skipping the WebGPU run: navigator.gpu has no adapter in this Chromium');
      ctx.skip();
    }
    const result = await runOn(page, 'run-webgpu');
    if (result.status === 'unavailable' && result.text.includes('not available yet')) {
      console.warn(`skipping the WebGPU check: ${result.text}`);
      ctx.skip();
    }
    expect(result.status, result.text).toBe('pass');
    expect(result.text).toContain('webgpu: check passed');
  });

  test('the shared URL reopens the same program with the same options', async () => {
    const { page, context } = browser;
    await page.click('#share');
    const url = await page.inputValue('#share-url');
    expect(url).toMatch(/#p=[A-Za-z0-9_-]+$/);
    const second = await context.newPage();
    await second.goto(url);
    const status = await settledStatus(second);
    expect(status.state, status.text).toBe('ok');
    expect(status.text).toContain('compiled chain');
    expect((await editorText(second)).trim()).toBe(FIXED.trim());
    expect(await second.inputValue('#cosma')).toBe('4096');
    await second.close();
  });

  test('a screenshot of the page is not blank', async () => {
    const { page, errors } = browser;
    await page.click('.tab[data-tab="memory"]');
    const png = await page.screenshot({ type: 'png' });
    const path = join(tmpdir(), 'ein-playground.png');
    writeFileSync(path, png);
    const stats = await pixelStats(page, png);
    expect(stats.stddev, `screenshot ${path}`).toBeGreaterThan(20);
    expect(stats.colors).toBeGreaterThan(50);
    expect(errors).toEqual([]);
  });
});
