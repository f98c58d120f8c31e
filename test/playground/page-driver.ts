// Driving the playground page in Chromium: launch (a fresh profile, the flags this machine needs),
// the editor, the status line, and a check that a screenshot is not blank.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

export interface Browser {
  readonly context: BrowserContext;
  readonly page: Page;
  /** Console errors and uncaught exceptions of the page and its workers. */
  readonly errors: string[];
  close(): Promise<void>;
}

export async function launch(): Promise<Browser> {
  const profile = mkdtempSync(join(tmpdir(), 'ein-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    // WebGPU on SwiftShader; without the networking flags Chromium's background requests hit the
    // machine's closed network at every start.
    args: [
      '--enable-unsafe-webgpu',
      '--no-sandbox',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
    viewport: { width: 1400, height: 900 },
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  return {
    context,
    page,
    errors,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Replaces the whole document, as a user pasting a program would. */
export async function setEditorText(page: Page, text: string): Promise<void> {
  await page.click('.cm-content');
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.press('Delete');
  await page.keyboard.insertText(text);
}

export async function editorText(page: Page): Promise<string> {
  return page.evaluate(() =>
    Array.from(document.querySelectorAll('.cm-content .cm-line'), (l) => l.textContent ?? '').join('\n'),
  );
}

/** Waits for the compile that is running (or about to) to finish; returns its state and message. */
export async function settledStatus(page: Page): Promise<{ state: string; text: string }> {
  await page.waitForFunction(() => {
    const status = document.getElementById('status');
    return status && status.dataset.state !== 'busy' && status.dataset.state !== 'idle';
  });
  return page.evaluate(() => {
    const status = document.getElementById('status')!;
    return { state: status.dataset.state!, text: status.textContent ?? '' };
  });
}

export async function compileAndWait(page: Page): Promise<{ state: string; text: string }> {
  await page.evaluate(() => (document.getElementById('status')!.dataset.state = 'busy'));
  await page.click('#compile');
  return settledStatus(page);
}

/** Clicks a Run button and waits for its verdict. */
export async function runOn(
  page: Page,
  button: 'run-wasm' | 'run-webgpu',
): Promise<{ status: string; text: string }> {
  const target = button === 'run-wasm' ? 'wasm' : 'webgpu';
  await page.click(`#${button}`);
  await page.waitForFunction((t) => {
    const result = document.getElementById('run-result')!;
    return result.dataset.target === t && result.dataset.status !== 'running';
  }, target);
  return page.evaluate(() => {
    const result = document.getElementById('run-result')!;
    return { status: result.dataset.status!, text: result.textContent ?? '' };
  });
}

/**
 * Decodes a PNG in the page (an <img> drawn on a canvas) and returns the standard deviation of its
 * luminance and how many distinct colours it has: a blank page has ~0 and 1.
 */
export async function pixelStats(page: Page, png: Buffer): Promise<{ stddev: number; colors: number }> {
  return page.evaluate(async (base64) => {
    const image = new Image();
    image.src = `data:image/png;base64,${base64}`;
    await image.decode();
    const canvas = new OffscreenCanvas(image.width, image.height);
    const context = canvas.getContext('2d')!;
    context.drawImage(image, 0, 0);
    const { data } = context.getImageData(0, 0, image.width, image.height);
    let sum = 0;
    let squares = 0;
    const colors = new Set<number>();
    for (let i = 0; i < data.length; i += 4) {
      const y = 0.299 * data[i]! + 0.587 * data[i + 1]! + 0.114 * data[i + 2]!;
      sum += y;
      squares += y * y;
      if (colors.size < 4096) colors.add((data[i]! << 16) | (data[i + 1]! << 8) | data[i + 2]!);
    }
    const n = data.length / 4;
    return { stddev: Math.sqrt(Math.max(0, squares / n - (sum / n) ** 2)), colors: colors.size };
  }, png.toString('base64'));
}
