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
} from '../app/index.js';
import { type DynamoDBLocal, startDynamoDBLocal } from './dynamodb-local.js';
import { CapacityGate } from './gate/index.js';

/**
 * The embedded stack: DynamoDB Local (or any endpoint given), the shop table, a seeded catalogue and
 * the shop app on loopback. Everything a `loadtest` command needs with no AWS account.
 */
export interface StackOptions {
  /** App port; 0 (default) picks a free one. */
  readonly port?: number;
  /** Use this DynamoDB-compatible endpoint instead of starting DynamoDB Local. */
  readonly dynamodbEndpoint?: string;
  /** Keep DynamoDB Local's data in this folder (its -dbPath) instead of memory. */
  readonly persistDir?: string;
  readonly tableName?: string;
  readonly seed?: { products?: number; users?: number } | false;
  /**
   * Put the capacity gate between the app and DynamoDB (default true). It starts on-demand, so the
   * seed is never throttled; a run sets the scenario's capacity with `gate.reset(capacity)`.
   */
  readonly capacityGate?: boolean;
  /** Sign and verify tokens with this secret (>= 32 bytes), as the deployed app does with AUTH_SECRET; default random. */
  readonly authSecret?: string;
  readonly log?: (line: string) => void;
}

export interface EmbeddedStack {
  readonly appUrl: string;
  readonly dynamodbEndpoint: string;
  /** The DynamoDB Local process this stack started, if it started one. */
  readonly dynamodbPid: number | undefined;
  readonly tableName: string;
  readonly tokens: LocalTokens;
  readonly shop: Shop;
  readonly seeded: SeedResult | undefined;
  /** The capacity gate, when the stack runs one. */
  readonly gate: CapacityGate | undefined;
  /** Called once if a component (DynamoDB Local) dies while the stack runs. */
  onFailure(listener: (reason: string) => void): void;
  stop(): Promise<void>;
}

export async function startEmbeddedStack(options: StackOptions = {}): Promise<EmbeddedStack> {
  const log = options.log ?? (() => {});
  const tableName = options.tableName ?? DEFAULT_TABLE_NAME;
  let ddb: DynamoDBLocal | undefined;
  const failureListeners: ((reason: string) => void)[] = [];
  let endpoint = options.dynamodbEndpoint;
  if (!endpoint) {
    const started = Date.now();
    ddb = await startDynamoDBLocal(options.persistDir ? { dbPath: options.persistDir } : {});
    endpoint = ddb.endpoint;
    log(
      `dynamodb: ${endpoint} (DynamoDB Local, ${options.persistDir ? `data in ${options.persistDir}` : 'in memory'}, started in ${Date.now() - started} ms)`,
    );
    ddb.onExit((code, signal) => {
      const reason = `DynamoDB Local exited unexpectedly (code ${code}, signal ${signal})`;
      for (const l of failureListeners) l(reason);
    });
  } else {
    log(`dynamodb: ${endpoint} (given)`);
  }
  let gate: CapacityGate | undefined;
  let appEndpoint = endpoint;
  if (options.capacityGate !== false) {
    gate = new CapacityGate({ upstream: endpoint, tableName, capacity: { mode: 'on-demand' } });
    appEndpoint = await gate.listen();
    log(`capacity gate: ${appEndpoint} -> ${endpoint}`);
  }
  const { raw, doc } = createDynamoClients({ endpoint: appEndpoint });
  let shop: Shop | undefined;
  try {
    const table = await ensureTable(raw, tableName);
    log(`table: ${tableName} (${table})`);
    const tokens = new LocalTokens(options.authSecret ?? randomBytes(32));
    shop = createShop({ doc, tableName, verifier: tokens, devTokens: tokens, exposeMetrics: true });
    let seeded: SeedResult | undefined;
    if (options.seed !== false) {
      const started = Date.now();
      // BatchWriteItem straight to the table: the seed is not part of anyone's load test.
      seeded = await seed(doc, tableName, options.seed ?? {});
      log(
        `seed: ${seeded.products.length} products, ${seeded.users.length} users in ${Date.now() - started} ms`,
      );
    }
    const address = await shop.app.listen({ host: '127.0.0.1', port: options.port ?? 0 });
    const running = shop;
    return {
      appUrl: address,
      dynamodbEndpoint: endpoint,
      dynamodbPid: ddb?.pid,
      tableName,
      tokens,
      shop: running,
      seeded,
      gate,
      onFailure: (l) => failureListeners.push(l),
      async stop() {
        await running.close();
        raw.destroy();
        await gate?.close();
        await ddb?.stop();
      },
    };
  } catch (err) {
    await shop?.close().catch(() => {});
    raw.destroy();
    await gate?.close();
    await ddb?.stop();
    throw err;
  }
}
