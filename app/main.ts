import { pathToFileURL } from 'node:url';
import { CloudWatchEmfSink } from 'dynamo-loadtest/instrument';
import { LocalTokens } from './auth.js';
import { createShop } from './create-shop.js';
import { createDynamoClients } from './data/client.js';

/**
 * The entry of the app (App Runner: `node --import tsx app/main.ts`; locally the toolkit starts it
 * the same way, from the shop's loadtest.config.ts). Only translates the environment into
 * `createShop`'s options: tokens are verified with the stack's secret, and the dev-token route exists
 * only when DEV_TOKENS=1 (the embedded stack), so on AWS nobody can mint a token without that secret.
 * The DynamoDB endpoint comes from the SDK's own AWS_ENDPOINT_URL_DYNAMODB when set.
 */
export interface ServerConfig {
  readonly tableName: string;
  readonly port: number;
  readonly authSecret: string;
  readonly region: string | undefined;
  /** Where to listen: 0.0.0.0 in a container (default), 127.0.0.1 on a developer's machine. */
  readonly host: string;
  /** POST /api/dev/token, signing with AUTH_SECRET (local stacks only). */
  readonly devTokens: boolean;
  /** GET /__metrics (the app's own per-pattern numbers). */
  readonly exposeMetrics: boolean;
  /** Per-pattern metrics in EMF (default on). */
  readonly emf: boolean;
  /**
   * Where the EMF lines go: `stdout` (default; CloudWatch extracts them on Lambda, whose log path
   * marks them as EMF) or `cloudwatch` (PutMetricData: on ECS and App Runner, whose stdout is plain
   * logs to CloudWatch). From EMF_SINK.
   */
  readonly emfSink: EmfSink;
}

export const EMF_SINKS = ['stdout', 'cloudwatch'] as const;
export type EmfSink = (typeof EMF_SINKS)[number];

const flag = (v: string | undefined) => v === '1' || v === 'true';

export class ServerConfigError extends Error {
  override readonly name = 'ServerConfigError';
}

export function serverConfigFromEnv(env: NodeJS.ProcessEnv): ServerConfig {
  const tableName = env.TABLE_NAME;
  if (!tableName) throw new ServerConfigError('TABLE_NAME is not set: the DynamoDB table the app uses');
  const authSecret = env.AUTH_SECRET;
  if (!authSecret)
    throw new ServerConfigError('AUTH_SECRET is not set: the HS256 key tokens are signed with');
  if (new TextEncoder().encode(authSecret).length < 32) {
    throw new ServerConfigError('AUTH_SECRET must be at least 32 bytes');
  }
  const emfSink = env.EMF_SINK === undefined || env.EMF_SINK === '' ? 'stdout' : env.EMF_SINK;
  if (!(EMF_SINKS as readonly string[]).includes(emfSink)) {
    throw new ServerConfigError(
      `EMF_SINK must be one of ${EMF_SINKS.join(', ')}, got ${JSON.stringify(emfSink)}`,
    );
  }
  const port = env.PORT === undefined || env.PORT === '' ? 8080 : Number(env.PORT);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ServerConfigError(`PORT must be an integer 0..65535, got ${JSON.stringify(env.PORT)}`);
  }
  return {
    tableName,
    port,
    authSecret,
    region: env.AWS_REGION ?? env.AWS_DEFAULT_REGION,
    host: env.HOST || '0.0.0.0',
    devTokens: flag(env.DEV_TOKENS),
    exposeMetrics: flag(env.EXPOSE_METRICS),
    emf: env.EMF !== 'off',
    emfSink: emfSink as EmfSink,
  };
}

export async function main(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  let config: ServerConfig;
  try {
    config = serverConfigFromEnv(env);
  } catch (err) {
    console.error(`[app] ${(err as Error).message}`);
    process.exitCode = 2;
    return;
  }
  const { raw, doc } = createDynamoClients(config.region ? { region: config.region } : {});
  const tokens = new LocalTokens(config.authSecret);
  // The CloudWatch client is loaded only when it is used: it costs the app's start-up otherwise.
  let sink: CloudWatchEmfSink | undefined;
  let cloudwatch: { destroy(): void } | undefined;
  if (config.emf && config.emfSink === 'cloudwatch') {
    const { CloudWatchClient, PutMetricDataCommand } = await import('@aws-sdk/client-cloudwatch');
    const client = new CloudWatchClient(config.region ? { region: config.region } : {});
    cloudwatch = client;
    sink = new CloudWatchEmfSink((input) => client.send(new PutMetricDataCommand(input)), {
      onError: (err) => console.error('[app] PutMetricData failed:', (err as Error).message),
    });
  }
  const stdout = (line: string) => process.stdout.write(`${line}\n`);
  const shop = createShop({
    doc,
    tableName: config.tableName,
    verifier: tokens,
    ...(config.devTokens ? { devTokens: tokens } : {}),
    exposeMetrics: config.exposeMetrics,
    // One EMF line per pattern per interval: on stdout, or sent with PutMetricData (EMF_SINK).
    ...(config.emf ? { emf: { write: sink ? sink.write : stdout } } : {}),
  });
  await shop.app.listen({ host: config.host, port: config.port });
  const bound = shop.app.server.address();
  const where = bound && typeof bound === 'object' ? `${bound.address}:${bound.port}` : String(bound);
  console.error(`[app] listening on ${where} (table ${config.tableName})`);

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    console.error(`[app] ${signal}: closing`);
    // Closing flushes the last EMF window, so a deployment does not lose the final seconds of metrics.
    shop
      .close()
      .then(() => sink?.drain())
      .then(() => {
        raw.destroy();
        cloudwatch?.destroy();
        process.exit(0);
      })
      .catch((err: unknown) => {
        console.error('[app] error while closing:', err);
        process.exit(1);
      });
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main();
}
