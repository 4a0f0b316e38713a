import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { alive, ROOT, runCli, waitUntil } from '../helpers/cli.js';

describe('loadtest up', () => {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`serves the seeded shop, records its endpoints, and stops everything on ${signal}`, async () => {
      const state = await mkdtemp(join(tmpdir(), 'loadtest-up-'));
      const run = runCli(['up', '--port', '0', '--products', '7', '--users', '2', '--state-dir', state]);
      try {
        const [, url] = await run.waitFor(/^app: (http:\/\/127\.0\.0\.1:\d+)$/m);
        const [, token] = await run.waitFor(/^token \(user1@example\.com\): (\S+)$/m);
        expect((await fetch(`${url}/health`)).status).toBe(200);
        const products = (await (await fetch(`${url}/api/products?limit=100`)).json()) as {
          items: unknown[];
        };
        expect(products.items).toHaveLength(7);
        const me = await fetch(`${url}/api/users/me`, { headers: { authorization: `Bearer ${token}` } });
        expect(await me.json()).toMatchObject({ email: 'user1@example.com' });
        const recorded = JSON.parse(await readFile(join(state, 'stack.json'), 'utf8'));
        expect(recorded).toMatchObject({ appUrl: url, tableName: 'shop', dynamodbPid: expect.any(Number) });
        expect(alive(recorded.dynamodbPid)).toBe(true);
        run.child.kill(signal);
        expect(await run.exited).toEqual({ code: 0, signal: null });
        expect(await waitUntil(() => !alive(recorded.dynamodbPid))).toBe(true);
        await expect(readFile(join(state, 'stack.json'))).rejects.toThrow();
      } finally {
        run.child.kill('SIGKILL');
      }
    });
  }

  it('refuses a bad flag with exit code 2 and names it', async () => {
    const bad = runCli(['up', '--port', '99999']);
    expect((await bad.exited).code).toBe(2);
    expect(bad.stderr()).toMatch(/--port/);
    const unknown = runCli(['up', '--colour', 'blue']);
    expect((await unknown.exited).code).toBe(2);
    expect(unknown.stderr()).toMatch(/colour/);
  });

  it('says how to install Java when it is missing, and exits 3', async () => {
    const run = runCli(['up', '--port', '0'], { env: { ...process.env, PATH: '/nonexistent' } });
    expect((await run.exited).code).toBe(3);
    expect(run.stderr()).toMatch(/needs Java 17/);
    expect(run.stderr()).toMatch(/apt-get install/);
    expect(run.stderr()).toMatch(/--dynamodb-endpoint/);
  });

  it('leaves no DynamoDB Local behind when the process crashes', async () => {
    const run = runCli([], {
      command: [process.execPath, '--import', 'tsx', join(ROOT, 'test/e2e/fixtures/crash-after-start.ts')],
    });
    const [, pid] = await run.waitFor(/^pid (\d+)$/m);
    const result = await run.exited;
    expect(result.code).not.toBe(0);
    expect(run.stderr()).toMatch(/simulated crash/);
    expect(await waitUntil(() => !alive(Number(pid)))).toBe(true);
  });
});
