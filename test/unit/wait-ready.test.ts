import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppFailed, CHECK_USER_AGENT, freePort, httpStatus, waitReady } from '../../local/index.js';

// An app that is up but not ready: it answers 503 until told otherwise.
let server: Server;
let url: string;
let readyNow = false;
let userAgent: string | undefined;
beforeAll(async () => {
  server = createServer((req, res) => {
    userAgent = req.headers['user-agent'];
    res.statusCode = readyNow ? 200 : 503;
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('waiting for an app watched from its launch', () => {
  it("checks it with the CLI's own user-agent, so an app's log (or a bench) tells the check from load", async () => {
    readyNow = true;
    expect(await httpStatus(`${url}/`, 2000)).toBe(200);
    expect(userAgent).toBe(CHECK_USER_AGENT);
    expect(CHECK_USER_AGENT).toBe('dynamo-loadtest-check');
  });

  it('counts its timeout from when the tables exist, not from the call', async () => {
    readyNow = false;
    let tablesExist = () => {};
    const tablesDone = new Promise<void>((resolve) => {
      tablesExist = resolve;
    });
    const started = Date.now();
    const outcome = waitReady(undefined, { url, path: '/', status: [200], timeoutSec: 0.3 }, 'the app', {
      timeoutStarts: tablesDone,
    }).then(
      () => 'ready',
      (err: unknown) => err,
    );
    // Three times its timeout without an answer it wants: still waiting, the clock has not started.
    await new Promise((r) => setTimeout(r, 900));
    tablesExist();
    const err = await outcome;
    expect(err).toBeInstanceOf(AppFailed);
    expect((err as Error).message).toMatch(
      /the app was not ready after 0.3 s \(GET \/ answered 503, want 200\)/,
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(1200);
  });

  it('is ready as soon as the app answers, tables or not', async () => {
    readyNow = false;
    const waiting = waitReady(undefined, { url, path: '/', status: [200], timeoutSec: 0.3 }, 'the app', {
      timeoutStarts: new Promise(() => {}),
    });
    await new Promise((r) => setTimeout(r, 500));
    readyNow = true;
    await expect(waiting).resolves.toBeUndefined();
  });

  it('stops polling when the stack goes down', async () => {
    const stopping = new AbortController();
    // Nothing listens there, and the clock never starts: only the signal can end this wait.
    const nobody = `http://127.0.0.1:${await freePort()}`;
    const waiting = waitReady(undefined, { url: nobody, path: '/', timeoutSec: 1 }, 'the app', {
      signal: stopping.signal,
      timeoutStarts: new Promise(() => {}),
    });
    setTimeout(() => stopping.abort(new Error('the stack is stopping')), 300);
    await expect(waiting).rejects.toThrow('the stack is stopping');
  });
});

describe('an app on a port browsers block', () => {
  it('is ready there, and its answer read, as Artillery would reach it (fetch says "bad port")', async () => {
    const app = createServer((_req, res) => res.end('ok'));
    let port: number | undefined;
    // Ports fetch refuses (its "bad ports" list); the first one free on this machine.
    for (const candidate of [6000, 6665, 6666, 6667, 6668, 6669, 10080]) {
      const bound = await new Promise<boolean>((resolve) => {
        app.once('error', () => resolve(false));
        app.listen(candidate, '127.0.0.1', () => resolve(true));
      });
      if (bound) {
        port = candidate;
        break;
      }
    }
    expect(port, 'one of the blocked ports is free').toBeDefined();
    try {
      const at = `http://127.0.0.1:${port}`;
      await expect(fetch(at)).rejects.toThrow();
      expect(await httpStatus(`${at}/`, 2000)).toBe(200);
      await expect(
        waitReady(undefined, { url: at, path: '/', status: [200], timeoutSec: 2 }, 'the app'),
      ).resolves.toBeUndefined();
    } finally {
      await new Promise<void>((resolve) => app.close(() => resolve()));
    }
  });
});
