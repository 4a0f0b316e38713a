import { randomBytes } from 'node:crypto';
import {
  createDynamoClients,
  createShop,
  DEFAULT_TABLE_NAME,
  ensureTable,
  LocalTokens,
  type SeedResult,
  type Shop,
  seed,
} from '../../app/index.js';
import { CapacityGate, type DynamoDBLocal, type PatternRule, startDynamoDBLocal } from '../../local/index.js';

/**
 * The shop in this process, for tests of the app itself: DynamoDB Local, the capacity gate in front
 * of it (on-demand, so it never throttles unless a test says so), the shop table, a seeded catalogue
 * and the app on 127.0.0.1. (The toolkit runs the shop as a process, from its project config; these
 * tests look inside it: its metrics, its store, its tokens.)
 */
export interface ShopTestStack {
  readonly appUrl: string;
  readonly dynamodbEndpoint: string;
  readonly endpoint: string;
  readonly tableName: string;
  readonly tokens: LocalTokens;
  readonly shop: Shop;
  readonly seeded: SeedResult | undefined;
  readonly gate: CapacityGate;
  /** A second gate between the first and DynamoDB that names calls by these rules alone. */
  readonly ruleGate: CapacityGate | undefined;
  stop(): Promise<void>;
}

export async function startTestStack(
  seedOptions: { products?: number; users?: number } | false = { products: 12, users: 4 },
  options: { rules?: readonly PatternRule[] } = {},
): Promise<ShopTestStack> {
  const ddb: DynamoDBLocal = await startDynamoDBLocal();
  // The first gate strips the tag header, so the second one sees the calls as an untagged client sends them.
  const ruleGate = options.rules
    ? new CapacityGate({ upstream: ddb.endpoint, capacity: { mode: 'on-demand' }, rules: options.rules })
    : undefined;
  const upstream = ruleGate ? await ruleGate.listen() : ddb.endpoint;
  const gate = new CapacityGate({ upstream, capacity: { mode: 'on-demand' } });
  const endpoint = await gate.listen();
  const tableName = DEFAULT_TABLE_NAME;
  const { raw, doc } = createDynamoClients({ endpoint });
  try {
    await ensureTable(raw, tableName);
    const tokens = new LocalTokens(randomBytes(32));
    const seeded = seedOptions === false ? undefined : await seed(doc, tableName, seedOptions);
    const shop = createShop({ doc, tableName, verifier: tokens, devTokens: tokens, exposeMetrics: true });
    const appUrl = await shop.app.listen({ host: '127.0.0.1', port: 0 });
    return {
      appUrl,
      dynamodbEndpoint: ddb.endpoint,
      endpoint,
      tableName,
      tokens,
      shop,
      seeded,
      gate,
      ruleGate,
      async stop() {
        await shop.close();
        raw.destroy();
        await gate.close();
        await ruleGate?.close();
        await ddb.stop();
      },
    };
  } catch (err) {
    raw.destroy();
    await gate.close();
    await ruleGate?.close();
    await ddb.stop();
    throw err;
  }
}

export type Api = (
  method: string,
  path: string,
  options?: { body?: unknown; token?: string; raw?: string; headers?: Record<string, string> },
) => Promise<{
  status: number;
  headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: tests read JSON answers of many shapes.
  body: any;
}>;

/** A small fetch wrapper: JSON in, JSON (or text) out. */
export function api(stack: { appUrl: string }): Api {
  return async (method, path, options = {}) => {
    const headers: Record<string, string> = { ...options.headers };
    let body: string | undefined;
    if (options.raw !== undefined) body = options.raw;
    else if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers['content-type'] ??= 'application/json';
    }
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    const res = await fetch(`${stack.appUrl}${path}`, {
      method,
      headers,
      ...(body !== undefined ? { body } : {}),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {}
    return { status: res.status, headers: res.headers, body: parsed };
  };
}

/** Registers a fresh user and returns a token for it. */
export async function newUser(call: Api, email: string, name = 'Test User'): Promise<string> {
  const reg = await call('POST', '/api/users', { body: { email, name } });
  if (reg.status !== 201) throw new Error(`register ${email}: ${reg.status} ${JSON.stringify(reg.body)}`);
  const tok = await call('POST', '/api/dev/token', { body: { email } });
  return tok.body.token as string;
}
