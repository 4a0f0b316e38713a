import { mkdtemp, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lambdaHandler } from '../../runner/aws/index.js';
import type { ArtilleryScript } from '../../runner/engine/artillery.js';
import { LocalProcessInvoker } from '../../runner/engine/fanout.js';
import { runSlice } from '../../runner/engine/handler.js';

/** The runner handler against a trivial HTTP target on loopback, with the real Artillery engine. */
let server: Server;
let target: string;
let hits = 0;
let followed = 0;

beforeAll(async () => {
  server = createServer((req, res) => {
    hits += 1;
    if (req.url === '/followed') followed += 1;
    if (req.url === '/page') {
      res.setHeader('content-type', 'text/html');
      return res.end('<html><body><a class="next" href="/followed">next</a></body></html>');
    }
    res.end('ok');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  target = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((r) => server.close(() => r())));

const script = (
  seconds: number,
  flow: unknown[] = [{ get: { url: '/health', name: 'health' } }],
): ArtilleryScript & { config: { target: string; phases: Record<string, unknown>[] } } => ({
  config: { target: '', phases: [{ duration: seconds, arrivalRate: 10 }] },
  scenarios: [{ flow }],
});

describe('runner handler', () => {
  it('stops before the time limit and says so, returning what it measured', async () => {
    // Two requests with a pause between: virtual users are mid-flow when the slice stops.
    const s = script(60, [
      { get: { url: '/health', name: 'health' } },
      { think: 1 },
      { get: { url: '/health', name: 'second' } },
    ]);
    s.config.target = target;
    const started = Date.now();
    const result = await runSlice(
      { worker: 1, workers: 4, script: s, scriptPath: 'inline.yml', stopBeforeLimitMs: 1000 },
      { remainingMs: () => 3000 },
    );
    const took = Date.now() - started;
    expect(result.status).toBe('stopped');
    expect(result.stoppedEarly).toMatch(/^time limit: stopped 1 s before the host's limit/);
    expect(took).toBeLessThan(10_000);
    expect(result.result?.byName.health?.requests).toBeGreaterThan(5);

    // The same process runs the next slice (a warm Lambda): the stopped one's phaser fires no new
    // arrivals, and its users still mid-flow finish without a response counted in the next run.
    const next = script(1);
    next.config.target = target;
    const second = await runSlice({ worker: 1, workers: 4, script: next, scriptPath: 'inline.yml' });
    expect(second.status).toBe('ok');
    expect(second.result?.byName.health?.requests).toBe(10);
    expect(second.result?.byName.second).toBeUndefined();
    await new Promise((r) => setTimeout(r, 1500));
    const settled = hits;
    await new Promise((r) => setTimeout(r, 1500));
    expect(hits).toBe(settled);
  }, 30_000);

  it('sends nothing later when stopped before its first arrival (a leading pause)', async () => {
    const s = script(30);
    s.config.target = target;
    s.config.phases = [{ pause: 1 }, { duration: 30, arrivalRate: 10 }];
    const before = hits;
    const result = await runSlice(
      { worker: 0, workers: 1, script: s, scriptPath: 'inline.yml' },
      { signal: AbortSignal.timeout(200) },
    );
    expect(result.status).toBe('stopped');
    await new Promise((r) => setTimeout(r, 2500));
    expect(hits).toBe(before);
  }, 30_000);

  it('runs a short slice to its end', async () => {
    const s = script(1);
    s.config.target = target;
    const result = await runSlice({ worker: 0, workers: 1, script: s, scriptPath: 'inline.yml' });
    expect(result.status).toBe('ok');
    expect(result.result?.byName.health?.requests).toBe(10);
    // Done when its last virtual user is, not at Artillery's next once-a-second check; with the last
    // period's counters still flushed (every virtual user counted as completed).
    const { lastResponseAt, endedAt, firstRequestAt } = result.result ?? {};
    expect(Date.parse(endedAt ?? '') - Date.parse(lastResponseAt ?? '')).toBeLessThan(400);
    expect(Date.parse(firstRequestAt ?? '')).toBeLessThanOrEqual(Date.parse(lastResponseAt ?? ''));
    expect(result.result?.counters['vusers.completed']).toBe(10);
  }, 30_000);

  it('a worker process reports its progress when asked, between its once-a-second reports', async () => {
    // The run's timeline samples the client and the DynamoDB side at one moment with this.
    const invoker = new LocalProcessInvoker();
    const s = script(5);
    s.config.target = target;
    const seen: number[] = [];
    const done = invoker.invoke({ worker: 0, workers: 1, script: s, scriptPath: 'inline.yml' }, () =>
      seen.push(Date.now()),
    );
    // Running: its first report came (a worker from the sources takes seconds to load Artillery).
    for (let i = 0; i < 300 && seen.length === 0; i += 1) await new Promise((r) => setTimeout(r, 50));
    const asked = Date.now();
    for (let i = 0; i < 3; i += 1) {
      await invoker.progress();
      await new Promise((r) => setTimeout(r, 50));
    }
    // Three answers in about 0.2 s: the interval alone sends at most one.
    expect(seen.filter((t) => t >= asked).length).toBeGreaterThanOrEqual(3);
    expect(Date.now() - asked).toBeLessThan(900);
    expect((await done).status).toBe('ok');
    // Nothing running: nothing to wait for.
    await expect(invoker.progress()).resolves.toBeUndefined();
  }, 30_000);

  it('fails on a processor with a syntax error saying what and where, in its first line', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'loadtest-syntax-'));
    await writeFile(join(dir, 'broken.cjs'), 'module.exports = { foo(c, e, next) { next( } };\n');
    const s = script(1, [{ function: 'foo' }, { get: { url: '/health', name: 'health' } }]);
    s.config.target = target;
    (s.config as { processor?: string }).processor = './broken.cjs';
    const result = await runSlice({ worker: 0, workers: 1, script: s, scriptPath: join(dir, 'broken.yml') });
    expect(result).toMatchObject({ status: 'failed', badScript: true });
    expect(result.error?.split('\n')[0]).toBe(
      `config.processor ./broken.cjs: failed to load (${join(dir, 'broken.cjs')}:1): SyntaxError: Unexpected token '}'`,
    );
  }, 30_000);

  it('refuses a function the script names and its processor does not define, naming where and what it has', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'loadtest-fns-'));
    await writeFile(
      join(dir, 'p.cjs'),
      'module.exports = { setUser(c, e, next) { next(); }, version: 2 };\n',
    );
    const s = script(1, [
      { function: 'setUser' },
      { loop: [{ function: 'pickOne' }], count: 2 },
      { get: { url: '/health', name: 'health', afterResponse: ['setUser', 'readIt'] } },
    ]);
    s.config.target = target;
    (s.config as { processor?: string }).processor = './p.cjs';
    const result = await runSlice({ worker: 0, workers: 1, script: s, scriptPath: join(dir, 's.yml') });
    expect(result).toMatchObject({ status: 'failed', badScript: true });
    expect(result.error).toBe(
      'config.processor ./p.cjs has no function "pickOne" (scenarios.0.flow.1.loop.0.function), "readIt" (scenarios.0.flow.2.get.afterResponse.1); it exports: setUser',
    );
  }, 30_000);

  it("captures from HTML with a CSS selector (Artillery's cheerio, loaded only when first used)", async () => {
    const s = script(1, [
      { get: { url: '/page', name: 'page', capture: { selector: 'a.next', attr: 'href', as: 'next' } } },
      { get: { url: '{{ next }}', name: 'followed' } },
    ]);
    s.config.target = target;
    const before = followed;
    const result = await runSlice({ worker: 0, workers: 1, script: s, scriptPath: 'inline.yml' });
    expect(result.status).toBe('ok');
    expect(result.result?.byName.page?.requests).toBe(10);
    expect(result.result?.byName.followed?.codes).toEqual({ 200: 10 });
    // The server saw the captured path itself, not the target's root.
    expect(followed - before).toBe(10);
  }, 30_000);

  it('answers a bad Lambda payload with a failed result naming the field', async () => {
    const result = await lambdaHandler(
      { worker: 2, workers: 0, script: {} },
      { getRemainingTimeInMillis: () => 1000 },
    );
    expect(result).toMatchObject({ worker: 2, status: 'failed' });
    expect(result.error).toMatch(/^bad runner event: workers:/);
  });
});
