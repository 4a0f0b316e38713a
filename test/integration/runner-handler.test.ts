import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lambdaHandler } from '../../runner/aws/index.js';
import { runSlice } from '../../runner/engine/handler.js';

/** The runner handler against a trivial HTTP target on loopback, with the real Artillery engine. */
let server: Server;
let target: string;
let hits = 0;

beforeAll(async () => {
  server = createServer((_req, res) => {
    hits += 1;
    res.end('ok');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  target = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((r) => server.close(() => r())));

const script = (seconds: number) => ({
  config: { target: '', phases: [{ duration: seconds, arrivalRate: 10 }] },
  scenarios: [{ flow: [{ get: { url: '/health', name: 'health' } }] }],
});

describe('runner handler', () => {
  it('stops before the time limit and says so, returning what it measured', async () => {
    const s = script(60);
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
    // The phaser of a stopped run keeps firing in a reused process; those arrivals send nothing.
    const after = hits;
    await new Promise((r) => setTimeout(r, 1500));
    expect(hits).toBe(after);
  }, 30_000);

  it('runs a short slice to its end', async () => {
    const s = script(1);
    s.config.target = target;
    const result = await runSlice({ worker: 0, workers: 1, script: s, scriptPath: 'inline.yml' });
    expect(result.status).toBe('ok');
    expect(result.result?.byName.health?.requests).toBe(10);
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
