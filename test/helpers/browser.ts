import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { ROOT } from './cli.js';

/** Debian's Chromium (`apt-get install chromium`); playwright-core drives it, it downloads nothing. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const ARTIFACTS = join(ROOT, 'out/test-artifacts');

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `no Chromium at ${CHROMIUM}: install it with \`apt-get update && apt-get install -y chromium\` (or set CHROMIUM_PATH)`,
    );
  }
  await mkdir(ARTIFACTS, { recursive: true });
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

export interface WatchedPage {
  readonly page: Page;
  /** Console errors and warnings, and uncaught exceptions. */
  readonly problems: string[];
  /** Every URL the page asked for. */
  readonly requests: string[];
}

/** A page that records what the tests assert on: console problems and every request it makes. */
export async function watchedPage(browser: Browser): Promise<WatchedPage> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  const problems: string[] = [];
  const requests: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`uncaught: ${e.message}`));
  page.on('request', (r) => requests.push(r.url()));
  return { page, problems, requests };
}

/**
 * Pixels of a canvas that are neither transparent nor white nor the grid's grey: what a drawn series
 * leaves. Counted in the page, so an empty chart (axes only) shows as few.
 */
export async function inkedPixels(
  page: Page,
  selector: string,
  rgb: [number, number, number],
): Promise<number> {
  return page.$eval(
    selector,
    (canvas, color) => {
      // The project's TypeScript has no DOM lib: the little of a canvas this needs, typed here.
      const c = canvas as unknown as {
        width: number;
        height: number;
        getContext(
          kind: '2d',
        ): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } } | null;
      };
      const data = c.getContext('2d')?.getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      if (!data) return 0;
      for (let i = 0; i < data.length; i += 4) {
        if (
          Math.abs((data[i] ?? 0) - color[0]) < 40 &&
          Math.abs((data[i + 1] ?? 0) - color[1]) < 40 &&
          Math.abs((data[i + 2] ?? 0) - color[2]) < 40 &&
          (data[i + 3] ?? 0) > 128
        )
          n += 1;
      }
      return n;
    },
    rgb,
  );
}
