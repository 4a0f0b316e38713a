import { mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Report } from '../../runner/report/types.js';
import { ARTIFACTS, inkedPixels, launchChromium, watchedPage } from '../helpers/browser.js';
import { ROOT, runCli } from '../helpers/cli.js';

/**
 * The HTML report and the live dashboard in a real browser (Debian's Chromium, headless): charts drawn
 * with data, no console errors, nothing fetched from anywhere but the file or 127.0.0.1, and the
 * threshold verdicts on the page equal to the JSON report's.
 */
const PROCESSOR = join(ROOT, 'scenarios/lib/shop.cjs');
/** A request name from a user's scenario that would be markup if it were not escaped. */
const HOSTILE = '<img src=x onerror="document.body.dataset.pwned=1">';
/** The first series colour of the page (#1f77b4). */
const BLUE: [number, number, number] = [31, 119, 180];

let dir: string;
let browser: Browser;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'loadtest-browser-'));
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
});

const scenario = `config:
  target: http://127.0.0.1:1
  phases: [{ duration: 6, arrivalRate: 4 }]
  processor: ${PROCESSOR}
  loadtest:
    thresholds:
      "*": ["errorRate < 0.5"]
      getProduct: ["p99 < 5000", "rcuPerRequest < 0.1"]
scenarios:
  - flow:
      - function: pickProduct
      - get: { url: "/api/products/{{ productId }}", name: getProduct }
      - get: { url: "/api/products?category={{ category }}", name: listProductsByCategory }
      - get: { url: /health, name: '${HOSTILE}' }
`;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const onlyLocal = (requests: readonly string[], origin: string) =>
  requests.filter((u) => !u.startsWith(origin) && !u.startsWith('data:'));

describe('the HTML report and the live dashboard in Chromium', () => {
  it('serves a live dashboard that updates during a run, then the report file draws the same rows with the same verdicts', async () => {
    const state = join(dir, 'state');
    const output = join(dir, 'browse.json');
    const htmlFile = join(dir, 'browse.html');
    const file = join(dir, 'browse.yml');
    await writeFile(file, scenario);

    const dashboard = runCli(['dashboard', '--state-dir', state, '--port', '0']);
    try {
      const [, url = ''] = await dashboard.waitFor(/dashboard: (http:\/\/127\.0\.0\.1:\d+\/)/, 20_000);
      const run = runCli(['run', file, '--output', output, '--html', htmlFile, '--state-dir', state]);

      // Live: the page polls the dashboard, which reads the run's live.json (rewritten every 2 s).
      const live = await watchedPage(browser);
      await live.page.goto(url);
      await live.page.waitForSelector('body[data-source="run"] [data-chart="header-requests"]', {
        timeout: 45_000,
      });
      const points = async () =>
        Number(await live.page.getAttribute('[data-chart="header-requests"]', 'data-points'));
      const first = await points();
      const started = Date.now();
      // Two more points (4 s of run) must show up without reloading: an update at least every 2 s.
      while ((await points()) < first + 2 && Date.now() - started < 9_000) await sleep(200);
      const elapsed = Date.now() - started;
      expect(await points()).toBeGreaterThanOrEqual(first + 2);
      expect(elapsed).toBeLessThan(9_000);
      expect(await inkedPixels(live.page, '[data-chart="header-requests"] canvas', BLUE)).toBeGreaterThan(20);
      await live.page.screenshot({ path: join(ARTIFACTS, 'live-dashboard.png'), fullPage: true });

      const { code } = await run.exited;
      // rcuPerRequest < 0.1 cannot hold for a GetItem (0.5 RCU): the run fails that one threshold.
      expect(code, run.stderr()).toBe(1);
      await live.page.locator('#status', { hasText: 'finished' }).waitFor({ timeout: 5_000 });
      expect(live.problems).toEqual([]);
      expect(onlyLocal(live.requests, url)).toEqual([]);
      expect(await live.page.getAttribute('body', 'data-pwned')).toBeNull();
      await live.page.close();

      // The file: opened from disk, everything inline.
      const report = JSON.parse(await readFile(output, 'utf8')) as Report;
      expect(report.timeline?.length).toBeGreaterThanOrEqual(3);
      const { page, problems, requests } = await watchedPage(browser);
      await page.goto(`file://${htmlFile}`);
      await page.waitForSelector('body[data-ready="true"]');
      const charts = Number(await page.getAttribute('body', 'data-charts'));
      expect(charts).toBeGreaterThan(10);
      expect(await page.locator('#charts canvas').count()).toBe(charts);
      const empty = await page.$$eval('#charts [data-chart]', (els) =>
        els.filter((e) => Number(e.getAttribute('data-points')) < 3).map((e) => e.getAttribute('data-chart')),
      );
      expect(empty).toEqual([]);
      expect(await inkedPixels(page, '[data-chart="header-requests"] canvas', BLUE)).toBeGreaterThan(20);
      // One row per request name: the header, the two patterns, the hostile name as plain text.
      const rows = await page.$$eval('#charts section', (els) =>
        els.map((e) => e.querySelector('h3')?.textContent),
      );
      expect(rows).toEqual(['Table shop', 'getProduct', 'listProductsByCategory', HOSTILE]);
      expect(await page.locator('img').count()).toBe(0);
      expect(await page.getAttribute('body', 'data-pwned')).toBeNull();

      // Verdicts on the page = verdicts in the JSON.
      const shown = await page.$$eval('#thresholds tr.threshold', (trs) =>
        trs.map((tr) => ({
          pattern: tr.getAttribute('data-pattern'),
          threshold: `${tr.getAttribute('data-metric')} ${tr.getAttribute('data-op')} ${tr.getAttribute('data-value')}`,
          verdict: tr.querySelector('.verdict')?.textContent,
        })),
      );
      const expected = report.thresholds.map((t) => ({
        pattern: t.pattern,
        threshold: `${t.metric} ${t.op} ${t.value}`,
        verdict: t.passed ? 'PASS' : 'FAIL',
      }));
      const key = (x: { pattern: string | null; threshold: string }) => `${x.pattern} ${x.threshold}`;
      expect([...shown].sort((a, b) => key(a).localeCompare(key(b)))).toEqual(
        [...expected].sort((a, b) => key(a).localeCompare(key(b))),
      );
      expect(shown.filter((s) => s.verdict === 'FAIL').map(key)).toEqual(['getProduct rcuPerRequest < 0.1']);
      expect(await page.getAttribute('#verdict', 'data-verdict')).toBe(report.passed ? 'passed' : 'failed');
      // Threshold lines are drawn where their metric is: getProduct's capacity-per-request chart.
      const annotated = await page.$$eval('#charts section[data-row="getProduct"] [data-chart]', (els) =>
        els.map((e) => e.getAttribute('data-chart')),
      );
      expect(annotated).toContain('getProduct-capacityPerRequest');
      expect(await page.locator('#hot-keys').count()).toBe(1);
      await page.screenshot({ path: join(ARTIFACTS, 'report.png'), fullPage: true });
      expect(problems).toEqual([]);
      expect(onlyLocal(requests, 'file://')).toEqual([]);
      await page.close();
    } finally {
      dashboard.child.kill('SIGTERM');
      await dashboard.exited;
    }
  }, 120_000);

  it('keeps the mixed scenario report under 2 MB and draws it offline', async () => {
    const output = join(dir, 'mixed.json');
    const htmlFile = join(dir, 'mixed.html');
    // Ten seconds of the real mixed scenario (its full length is 60 s; the unit tests bound the size
    // of a report with the longest timeline the recorder keeps).
    const run = runCli([
      'run',
      'mixed',
      '--duration',
      '10',
      '--rate',
      '6',
      '--output',
      output,
      '--html',
      htmlFile,
      '--state-dir',
      join(dir, 'mixed-state'),
      '--quiet',
    ]);
    const { code } = await run.exited;
    expect([0, 1], run.stderr()).toContain(code);
    const size = (await stat(htmlFile)).size;
    console.info(`mixed (10 s): HTML report ${(size / 1024).toFixed(0)} KB`);
    expect(size).toBeLessThan(2 * 1024 * 1024);

    const { page, problems, requests } = await watchedPage(browser);
    // No network at all: anything but the file itself is refused.
    await page.route(/^(?!file:)/, (route) => route.abort());
    await page.goto(`file://${htmlFile}`);
    await page.waitForSelector('body[data-ready="true"]');
    expect(Number(await page.getAttribute('body', 'data-charts'))).toBeGreaterThan(10);
    expect(await inkedPixels(page, '[data-chart="header-requests"] canvas', BLUE)).toBeGreaterThan(20);
    await page.screenshot({ path: join(ARTIFACTS, 'report-mixed.png'), fullPage: false });
    expect(problems).toEqual([]);
    expect(onlyLocal(requests, 'file://')).toEqual([]);
    await page.close();
  }, 120_000);
});
