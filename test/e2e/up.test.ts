import { readFileSync } from 'node:fs';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { GateSnapshot } from '../../local/index.js';
import { alive, ROOT, runCli, waitUntil } from '../helpers/cli.js';

/** Addresses listening on `port`, from the kernel's own table (Linux): hex IP as /proc shows it. */
function listeners(port: number): string[] {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  return ['/proc/net/tcp', '/proc/net/tcp6'].flatMap((f) =>
    readFileSync(f, 'utf8')
      .split('\n')
      .slice(1)
      .map((l) => l.trim().split(/\s+/))
      // state 0A = LISTEN
      .filter((cols) => cols[1]?.endsWith(`:${hexPort}`) && cols[3] === '0A')
      .map((cols) => cols[1]?.split(':')[0] ?? ''),
  );
}

describe('loadtest up', () => {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`serves the seeded shop through the gate, records its endpoints, and stops everything on ${signal}`, async () => {
      const state = await mkdtemp(join(tmpdir(), 'loadtest-up-'));
      const run = runCli([
        'up',
        '--port',
        '0',
        '--gate-port',
        '0',
        '--products',
        '7',
        '--users',
        '2',
        '--state-dir',
        state,
      ]);
      try {
        const [, url] = await run.waitFor(/^app: (http:\/\/127\.0\.0\.1:\d+)/m);
        const [, token] = await run.waitFor(/^\s*token \(user1@example\.com\): (\S+)$/m);
        await run.waitFor(/^Press Ctrl-C to stop\.$/m);
        const [, endpoint] = await run.waitFor(
          /^ {2}export AWS_ENDPOINT_URL_DYNAMODB=(http:\/\/127\.0\.0\.1:\d+)$/m,
        );
        expect(run.stdout()).toMatch(/^ {2}export AWS_ACCESS_KEY_ID=local$/m);
        // Its start is timed from its spawn, early as that is: no JVM answers in under 100 ms.
        const [, startMs] = run.stdout().match(/^dynamodb: .*, started in (\d+) ms/m) ?? [];
        expect(Number(startMs)).toBeGreaterThan(100);
        expect((await fetch(`${url}/health`)).status).toBe(200);
        const products = (await (await fetch(`${url}/api/products?limit=100`)).json()) as {
          items: unknown[];
        };
        expect(products.items).toHaveLength(7);
        const me = await fetch(`${url}/api/users/me`, { headers: { authorization: `Bearer ${token}` } });
        expect(await me.json()).toMatchObject({ email: 'user1@example.com' });
        const recorded = JSON.parse(await readFile(join(state, 'stack.json'), 'utf8'));
        expect(recorded).toMatchObject({
          version: 2,
          name: 'shop',
          appUrl: url,
          endpoint,
          tables: ['shop'],
          gateAdminUrl: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/),
          fixtures: join(state, 'fixtures.json'),
          dynamodbPid: expect.any(Number),
          appPid: expect.any(Number),
        });
        expect(alive(recorded.dynamodbPid)).toBe(true);
        expect(alive(recorded.appPid)).toBe(true);
        // A second stack in the same folder would share stack.json: refused, naming the first.
        const second = runCli(['up', '--port', '0', '--gate-port', '0', '--state-dir', state]);
        expect((await second.exited).code, second.stdout()).toBe(2);
        expect(second.stderr()).toContain(
          `a stack is already up in ${state} (loadtest up, pid ${recorded.pid}, since ${recorded.startedAt}, endpoint ${endpoint})`,
        );
        expect(JSON.parse(await readFile(join(state, 'stack.json'), 'utf8'))).toEqual(recorded);
        // The app's calls went through the gate, which names them by the shop's tags.
        const snapshot = (await (await fetch(`${recorded.gateAdminUrl}/snapshot`)).json()) as GateSnapshot;
        expect(snapshot.patterns.getUserByEmail).toMatchObject({ source: 'tag' });
        expect(snapshot.declared).toContain('checkout');
        // DynamoDB Local and the gate listen on loopback only (127.0.0.1, or its v4-mapped v6 form).
        for (const port of [new URL(recorded.dynamodbEndpoint).port, new URL(endpoint ?? '').port]) {
          const addresses = listeners(Number(port));
          expect(addresses.length, `port ${port}`).toBeGreaterThan(0);
          for (const a of addresses) expect(['0100007F', '0000000000000000FFFF00000100007F']).toContain(a);
        }
        run.child.kill(signal);
        expect(await run.exited).toEqual({ code: 0, signal: null });
        expect(await waitUntil(() => !alive(recorded.dynamodbPid))).toBe(true);
        expect(await waitUntil(() => !alive(recorded.appPid))).toBe(true);
        await expect(readFile(join(state, 'stack.json'))).rejects.toThrow();
        await expect(readFile(join(state, 'fixtures.json'))).rejects.toThrow();
      } finally {
        run.child.kill('SIGKILL');
      }
    }, 60_000);
  }

  it('refuses a bad flag with exit code 2 and names it; a parameter the data command does not know, too', async () => {
    const bad = runCli(['up', '--port', '99999']);
    expect((await bad.exited).code).toBe(2);
    expect(bad.stderr()).toMatch(/--port/);
    const state = await mkdtemp(join(tmpdir(), 'loadtest-up-bad-'));
    const unknown = runCli([
      'up',
      '--port',
      '0',
      '--gate-port',
      '0',
      '--colour',
      'blue',
      '--state-dir',
      state,
    ]);
    expect((await unknown.exited).code).toBe(2);
    expect(unknown.stderr()).toMatch(/seed parameter .*colour/);
    expect(unknown.stderr()).toMatch(/known: users, products, orders, seed, csv/);
  }, 60_000);

  it("checks --port only when it starts the app there: --no-app runs beside the user's own app on it", async () => {
    const { createServer } = await import('node:http');
    const own = createServer((_req, res) => res.end('mine'));
    await new Promise<void>((r) => own.listen(0, '127.0.0.1', r));
    const port = String((own.address() as { port: number }).port);
    try {
      const withApp = runCli(['up', '--port', port, '--gate-port', '0']);
      expect((await withApp.exited).code).toBe(2);
      expect(withApp.stderr()).toMatch(new RegExp(`--port: 127\\.0\\.0\\.1:${port} is already in use`));
      const state = await mkdtemp(join(tmpdir(), 'loadtest-up-noapp-'));
      const noApp = runCli(['up', '--no-app', '--port', port, '--gate-port', '0', '--state-dir', state]);
      try {
        await noApp.waitFor(/^Press Ctrl-C to stop\.$/m);
        noApp.child.kill('SIGTERM');
        expect(await noApp.exited).toEqual({ code: 0, signal: null });
      } finally {
        noApp.child.kill('SIGKILL');
      }
    } finally {
      await new Promise<void>((r) => own.close(() => r()));
    }
  }, 60_000);

  it('says how to install Java when it is missing, and exits 3', async () => {
    const run = runCli(['up', '--port', '0', '--gate-port', '0'], {
      env: { ...process.env, PATH: '/nonexistent' },
    });
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
