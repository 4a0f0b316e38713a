import { pathToFileURL } from 'node:url';
import { createDynamoClients, createShop, LocalTokens } from './index.js';

/**
 * The container entry of the app (App Runner: `node --import tsx app/main.ts`). Only translates the
 * environment into `createShop`'s options: tokens are verified with the stack's secret and there is
 * no dev-token route, so on AWS nobody can mint a token without that secret.
 */
export interface ServerConfig {
  readonly tableName: string;
  readonly port: number;
  readonly authSecret: string;
  readonly region: string | undefined;
}

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
  const port = env.PORT === undefined || env.PORT === '' ? 8080 : Number(env.PORT);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ServerConfigError(`PORT must be an integer 0..65535, got ${JSON.stringify(env.PORT)}`);
  }
  return { tableName, port, authSecret, region: env.AWS_REGION ?? env.AWS_DEFAULT_REGION };
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
  const shop = createShop({
    doc,
    tableName: config.tableName,
    verifier: new LocalTokens(config.authSecret),
    // One EMF line per pattern per interval on stdout: App Runner ships stdout to CloudWatch Logs,
    // which turns the lines into metrics.
    emf: { write: (line) => process.stdout.write(`${line}\n`) },
  });
  await shop.app.listen({ host: '0.0.0.0', port: config.port });
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
      .then(() => {
        raw.destroy();
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
