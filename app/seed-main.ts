import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { pathToFileURL } from 'node:url';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { LocalTokens } from './auth.js';
import { bulkWrite } from './data/bulk.js';
import { createDynamoClients } from './data/client.js';
import { generateSeed, type SeedData } from './seed.js';

/**
 * The shop's data command (its loadtest.config.ts names it): writes the deterministic seed into the
 * table and the fixtures the scenarios read (users with tokens, products with their popularity).
 * The toolkit runs it with the endpoint, region and dummy keys in the SDK's own variables, and with:
 *
 *   LOADTEST_SEED      JSON parameters: users, products, orders, seed, csv (loadtest seed --users 50 ...)
 *   LOADTEST_FIXTURES  where to write the fixtures (JSON)
 *   LOADTEST_APP_URL   the app, which issues the users' tokens (POST /api/dev/token) locally
 *   TABLE_NAME         from the config
 *   AUTH_SECRET        instead of the app: sign tokens with this key
 *
 * Against a deployed stack (`--target aws`) the toolkit adds LOADTEST_TARGET=aws, LOADTEST_STACK and
 * the stack's outputs as LOADTEST_OUTPUT_<KEY>: the table is LOADTEST_OUTPUT_TABLENAME (over
 * TABLE_NAME, the config's local name), and the tokens are signed here with the key in the secret
 * LOADTEST_OUTPUT_AUTHSECRETARN names, as the deployed app verifies them (it has no dev-token route).
 * There the seed is skipped when it is already in the table (it is deterministic), since its writes
 * would count against the table's capacity in the run's first minute; the fixtures are still written.
 *
 * Exit 2 on bad parameters, 1 when AWS or the writes fail (one line naming the table or the secret).
 */
export const seedParams = z.strictObject({
  users: z.int().min(0).max(1_000_000).default(20),
  products: z.int().min(0).max(1_000_000).default(60),
  orders: z.int().min(0).max(1_000_000).default(0),
  seed: z.int().default(42),
  /** Also write email,token for every user to this CSV file. */
  csv: z.string().optional(),
});
export type SeedParams = z.infer<typeof seedParams>;

/** What scenarios read (scenarios/lib/shop.cjs): never users or tokens written in a scenario. */
export interface ShopFixtures {
  readonly users: { email: string; token: string }[];
  /** With their Zipf popularity weight, for processors that pick popular products more often. */
  readonly products: { id: string; category: string; title: string; price: number; weight: number }[];
}

export type Mint = (email: string) => Promise<string>;

export async function shopFixtures(
  data: Pick<SeedData, 'users' | 'products'>,
  mint: Mint,
): Promise<ShopFixtures> {
  const users: ShopFixtures['users'] = [];
  // A few at a time: the app may be serving other requests.
  for (let i = 0; i < data.users.length; i += 16) {
    const batch = data.users.slice(i, i + 16);
    users.push(
      ...(await Promise.all(batch.map(async (u) => ({ email: u.email, token: await mint(u.email) })))),
    );
  }
  return {
    users,
    products: data.products.map((p) => ({
      id: p.id,
      category: p.category,
      title: p.title,
      price: p.price,
      weight: p.weight,
    })),
  };
}

export class SeedInputError extends Error {
  override name = 'SeedInputError';
}

/** Tokens from the running app (its signing key never leaves it); waits for it to be up first. */
export function appTokens(appUrl: string, timeoutMs = 60_000, signal?: AbortSignal): Mint {
  let ready: Promise<void> | undefined;
  const waitUp = async () => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        const res = await fetch(`${appUrl}/health`, { signal: AbortSignal.timeout(2000) });
        if (res.ok) return;
      } catch {}
      if (Date.now() > deadline) throw new Error(`the app at ${appUrl} did not answer GET /health in time`);
      // The seed failed otherwise (its writes): no reason to keep waiting for the app.
      signal?.throwIfAborted();
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  return async (email) => {
    ready ??= waitUp();
    await ready;
    const res = await fetch(`${appUrl}/api/dev/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email }),
    });
    if (!res.ok) throw new Error(`POST ${appUrl}/api/dev/token for ${email}: HTTP ${res.status}`);
    return ((await res.json()) as { token: string }).token;
  };
}

export function parseSeedParams(json: string | undefined): SeedParams {
  let raw: unknown = {};
  try {
    raw = json ? JSON.parse(json) : {};
  } catch {
    throw new SeedInputError(`LOADTEST_SEED is not JSON: ${json}`);
  }
  const parsed = seedParams.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const known = '(known: users, products, orders, seed, csv)';
    if (issue?.code === 'unrecognized_keys')
      throw new SeedInputError(
        `seed parameter ${issue.keys.join(', ')}: not a parameter of the shop's seed ${known}`,
      );
    const field = issue?.path.join('.') || '(parameters)';
    throw new SeedInputError(`seed parameter ${field}: ${issue?.message ?? 'invalid'} ${known}`);
  }
  if (parsed.data.orders > 0 && (parsed.data.users === 0 || parsed.data.products === 0))
    throw new SeedInputError('seed parameter orders: needs at least one user and one product');
  return parsed.data;
}

/** Reading the deployed stack's signing key failed: exit 1, naming the secret. */
export class AuthSecretUnavailable extends Error {
  override name = 'AuthSecretUnavailable';
}

/** The deployed app's HS256 key, from the Secrets Manager secret the stack made for it (AUTH_SECRET). */
export async function deployedSigningKey(secretArn: string, region: string): Promise<LocalTokens> {
  // Loaded only here: local seeding never needs the Secrets Manager client.
  const { GetSecretValueCommand, SecretsManagerClient } = await import('@aws-sdk/client-secrets-manager');
  const client = new SecretsManagerClient({ region });
  try {
    const res = await client.send(new GetSecretValueCommand({ SecretId: secretArn }));
    if (!res.SecretString) throw new AuthSecretUnavailable(`secret ${secretArn} has no SecretString`);
    return new LocalTokens(res.SecretString);
  } catch (err) {
    if (err instanceof AuthSecretUnavailable) throw err;
    const e = err as Error;
    throw new AuthSecretUnavailable(`secret ${secretArn}: ${e.name}: ${e.message}`, { cause: err });
  } finally {
    client.destroy();
  }
}

/** How the users' tokens are made: a key we were given, the deployed stack's secret, or the local app. */
async function minter(
  env: NodeJS.ProcessEnv,
  region: string,
  signal: AbortSignal,
): Promise<Mint | undefined> {
  const secret = env.AUTH_SECRET;
  if (secret) {
    const tokens = new LocalTokens(secret);
    return (email) => tokens.sign(email);
  }
  if (env.LOADTEST_TARGET === 'aws') {
    // The deployed app has no dev-token route: only its own key makes tokens it accepts.
    const arn = env.LOADTEST_OUTPUT_AUTHSECRETARN;
    if (!arn) return undefined;
    const tokens = await deployedSigningKey(arn, region);
    return (email) => tokens.sign(email);
  }
  return env.LOADTEST_APP_URL ? appTokens(env.LOADTEST_APP_URL, 60_000, signal) : undefined;
}

export async function main(env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let params: SeedParams;
  try {
    params = parseSeedParams(env.LOADTEST_SEED);
  } catch (err) {
    console.error(`[seed] ${(err as Error).message}`);
    return 2;
  }
  const onAws = env.LOADTEST_TARGET === 'aws';
  // The deployed table's name wins over the config's, which is the local one.
  const table = env.LOADTEST_OUTPUT_TABLENAME || env.TABLE_NAME;
  if (!table) {
    console.error(`[seed] TABLE_NAME is not set${onAws ? ' and the stack has no TableName output' : ''}`);
    return 2;
  }
  const secret = env.AUTH_SECRET;
  if (secret !== undefined && new TextEncoder().encode(secret).length < 32) {
    console.error('[seed] AUTH_SECRET is under 32 bytes');
    return 2;
  }
  const region = env.AWS_REGION ?? 'us-east-1';
  // Aborted when main returns: token minting that still waits for the app stops with it.
  const done = new AbortController();
  let mint: Mint | undefined;
  try {
    mint = await minter(env, region, done.signal);
  } catch (err) {
    console.error(`[seed] the users' tokens: ${(err as Error).message}`);
    return 1;
  }
  if (!mint) {
    if (onAws) {
      console.error(
        `[seed] no tokens for the users: stack ${env.LOADTEST_STACK ?? '(unnamed)'} has no AuthSecretArn output and AUTH_SECRET is not set`,
      );
      return 2;
    }
    // Seeding a bare endpoint (no app to issue tokens): the data goes in, the users have emails only.
    console.error(
      'note: no running app (LOADTEST_APP_URL) and no AUTH_SECRET to make tokens with: the fixtures have emails only',
    );
  }
  const { raw, doc } = createDynamoClients({ region });
  try {
    const started = Date.now();
    const data = generateSeed(params);
    const what = `${data.users.length} users, ${data.products.length} products, ${data.orders.length} orders`;
    // The seed is deterministic: when its last item is there, so is the rest.
    const last = data.items.at(-1);
    const write = async () => {
      const present =
        onAws && last
          ? (await doc.send(new GetCommand({ TableName: table, Key: { PK: last.PK, SK: last.SK } }))).Item
          : undefined;
      if (present) {
        console.log(`seed: already in ${table} (${what})`);
        return;
      }
      const result = await bulkWrite(doc, table, data.items);
      const seconds = (Date.now() - started) / 1000;
      console.log(
        `seed: ${what} = ${result.written} items into ${table} in ${seconds.toFixed(2)} s (${result.calls} BatchWriteItem calls, ${result.retries} retries)`,
      );
    };
    // The tokens need the app, the items need the table: each waits for its own, at the same time
    // (locally, both come up together at the start of a run).
    const [, fixtures] = await Promise.all([write(), shopFixtures(data, mint ?? (async () => ''))]);
    if (env.LOADTEST_FIXTURES) {
      await mkdir(dirname(env.LOADTEST_FIXTURES), { recursive: true });
      await writeFile(env.LOADTEST_FIXTURES, `${JSON.stringify(fixtures)}\n`);
    }
    if (params.csv) {
      await mkdir(dirname(params.csv), { recursive: true });
      await writeFile(
        params.csv,
        `email,token\n${fixtures.users.map((u) => `${u.email},${u.token}`).join('\n')}\n`,
      );
      console.log(`seed: users and tokens in ${params.csv}`);
    }
    const first = fixtures.users[0];
    if (first) console.log(`token (${first.email}): ${first.token}`);
    return 0;
  } catch (err) {
    console.error(`[seed] ${table}: ${(err as Error).name}: ${(err as Error).message}`);
    return 1;
  } finally {
    done.abort();
    raw.destroy();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await main();
}
