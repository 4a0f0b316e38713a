import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { PutMetricDataCommandInput } from '@aws-sdk/client-cloudwatch';
import { afterEach, describe, expect, it } from 'vitest';
import { LocalTokens } from '../../app/index.js';
import { ServerConfigError, serverConfigFromEnv } from '../../app/main.js';
import { shopProject } from '../../app/project.js';
import { EMF_NAMESPACE } from '../../instrument/index.js';

/** app/main.ts as the container runs it: `node --import tsx app/main.ts`. */
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SECRET = 'x'.repeat(40);

interface Running {
  readonly child: ChildProcess;
  readonly url: Promise<string>;
  readonly exit: Promise<number | null>;
  stdout(): string;
  stderr(): string;
}

let running: Running | undefined;

function start(env: Record<string, string>): Running {
  const child = spawn(process.execPath, ['--import', 'tsx', 'app/main.ts'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      AWS_REGION: 'eu-west-1',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      // Nothing listens there: a DynamoDB call fails at once instead of reaching AWS.
      AWS_ENDPOINT_URL_DYNAMODB: 'http://127.0.0.1:9',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const url = new Promise<string>((resolve, reject) => {
    child.stderr?.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /listening on 0\.0\.0\.0:(\d+)/.exec(err);
      if (m?.[1]) resolve(`http://127.0.0.1:${m[1]}`);
    });
    child.once('exit', () => reject(new Error(`app exited before listening: ${err}`)));
  });
  url.catch(() => {});
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  running = { child, url, exit, stdout: () => out, stderr: () => err };
  return running;
}

afterEach(async () => {
  if (running && running.child.exitCode === null) {
    running.child.kill('SIGKILL');
    await running.exit;
  }
  running = undefined;
});

describe('the app container entry (app/main.ts)', () => {
  it('serves health on 0.0.0.0, has no dev-token route, publishes EMF on stdout and exits 0 on SIGTERM', async () => {
    const app = start({ TABLE_NAME: 'shop', AUTH_SECRET: SECRET, PORT: '0' });
    const url = await app.url;

    expect((await fetch(`${url}/health`)).status).toBe(200);
    const dev = await fetch(`${url}/api/dev/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'a@b.co' }),
    });
    expect(dev.status).toBe(404);
    expect((await fetch(`${url}/api/users/me`)).status).toBe(401);
    // A token signed with AUTH_SECRET gets past the verifier to the database (unreachable here: 503).
    const token = await new LocalTokens(SECRET).sign('a@b.co');
    const me = await fetch(`${url}/api/users/me`, { headers: { authorization: `Bearer ${token}` } });
    expect(me.status).toBe(503);

    app.child.kill('SIGTERM');
    expect(await app.exit).toBe(0);
    // The EMF window is flushed on the way out: one line for the pattern the request used.
    const emf = app
      .stdout()
      .trim()
      .split('\n')
      .filter(Boolean)
      .map(
        (l) => JSON.parse(l) as { _aws?: unknown; AccessPattern?: string; Errors?: number; Service?: string },
      );
    expect(emf).toEqual([expect.objectContaining({ AccessPattern: 'getUserByEmail', Errors: 1 })]);
    expect(emf[0]?._aws).toBeDefined();
    // Its Service dimension is the shop project's name: what `loadtest run --target aws` reads back.
    expect(emf[0]?.Service).toBe(shopProject().name);
  }, 30_000);

  it('with EMF_SINK=cloudwatch (ECS, App Runner) sends its metrics with PutMetricData, the last window on SIGTERM', async () => {
    // A CloudWatch stand-in on loopback, where the SDK's AWS_ENDPOINT_URL_CLOUDWATCH sends the app.
    const received: { target: string; body: PutMetricDataCommandInput }[] = [];
    const cloudwatch = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => {
        body += c.toString('utf8');
      });
      req.on('end', () => {
        received.push({ target: String(req.headers['x-amz-target']), body: JSON.parse(body) });
        res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' }).end('{}');
      });
    });
    await new Promise<void>((r) => cloudwatch.listen(0, '127.0.0.1', r));
    try {
      const { port } = cloudwatch.address() as AddressInfo;
      const app = start({
        TABLE_NAME: 'shop',
        AUTH_SECRET: SECRET,
        PORT: '0',
        EMF_SINK: 'cloudwatch',
        AWS_ENDPOINT_URL_CLOUDWATCH: `http://127.0.0.1:${port}`,
      });
      const url = await app.url;
      const token = await new LocalTokens(SECRET).sign('a@b.co');
      expect(
        (await fetch(`${url}/api/users/me`, { headers: { authorization: `Bearer ${token}` } })).status,
      ).toBe(503);
      app.child.kill('SIGTERM');
      expect(await app.exit).toBe(0);
      // Nothing on stdout: the lines went to CloudWatch instead.
      expect(app.stdout().trim()).toBe('');
      expect(received.map((r) => r.target)).toEqual(['GraniteServiceVersion20100801.PutMetricData']);
      const data = received[0]?.body;
      expect(data?.Namespace).toBe(EMF_NAMESPACE);
      const errors = data?.MetricData?.find((d) => d.MetricName === 'Errors');
      expect(errors?.Dimensions).toEqual([
        { Name: 'Service', Value: shopProject().name },
        { Name: 'AccessPattern', Value: 'getUserByEmail' },
      ]);
      expect(errors?.Values).toEqual([1]);
    } finally {
      cloudwatch.closeAllConnections();
      await new Promise((r) => cloudwatch.close(r));
    }
  }, 30_000);

  it('refuses to start without its table or secret (exit 2)', async () => {
    const app = start({ AUTH_SECRET: SECRET });
    expect(await app.exit).toBe(2);
    expect(app.stderr()).toContain('TABLE_NAME is not set');
  }, 30_000);

  it('reads its configuration from the environment', () => {
    // The container's defaults are what AWS needs: every interface, no dev-token route, no
    // /__metrics, EMF lines on stdout.
    expect(serverConfigFromEnv({ TABLE_NAME: 't', AUTH_SECRET: SECRET })).toEqual({
      tableName: 't',
      port: 8080,
      authSecret: SECRET,
      region: undefined,
      host: '0.0.0.0',
      devTokens: false,
      exposeMetrics: false,
      emf: true,
      emfSink: 'stdout',
    });
    expect(
      serverConfigFromEnv({ TABLE_NAME: 't', AUTH_SECRET: SECRET, EMF_SINK: 'cloudwatch' }).emfSink,
    ).toBe('cloudwatch');
    expect(() => serverConfigFromEnv({ TABLE_NAME: 't', AUTH_SECRET: SECRET, EMF_SINK: 'logs' })).toThrow(
      /EMF_SINK must be one of stdout, cloudwatch, got "logs"/,
    );
    // The embedded stack's (the shop's loadtest.config.ts) turns them around.
    expect(
      serverConfigFromEnv({
        TABLE_NAME: 't',
        AUTH_SECRET: SECRET,
        HOST: '127.0.0.1',
        DEV_TOKENS: '1',
        EXPOSE_METRICS: 'true',
        EMF: 'off',
      }),
    ).toMatchObject({ host: '127.0.0.1', devTokens: true, exposeMetrics: true, emf: false });
    expect(
      serverConfigFromEnv({ TABLE_NAME: 't', AUTH_SECRET: SECRET, PORT: '9000', AWS_REGION: 'eu-west-1' }),
    ).toMatchObject({ port: 9000, region: 'eu-west-1' });
    expect(() => serverConfigFromEnv({ TABLE_NAME: 't' })).toThrow(ServerConfigError);
    expect(() => serverConfigFromEnv({ TABLE_NAME: 't', AUTH_SECRET: 'short' })).toThrow(/32 bytes/);
    expect(() => serverConfigFromEnv({ TABLE_NAME: 't', AUTH_SECRET: SECRET, PORT: 'http' })).toThrow(/PORT/);
  });
});
