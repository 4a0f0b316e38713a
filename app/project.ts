import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ProjectConfigInput } from 'dynamo-loadtest';
import { shopImport } from './data/import-map.js';
import { BIG_ORDER_FILTER_POLICY, ORDER_COMPLETED_PIPE_FILTER, orderNotification } from './events.js';
import { accessPatterns, type PatternId, SHOP_SERVICE } from './patterns.js';
import { DEFAULT_TABLE_NAME, keys, tableDefinition } from './table.js';

/**
 * The shop as one project on the toolkit: what its loadtest.config.ts declares, built from the app's
 * own model (the table definition, the key builders, the pattern registry), so nothing here spells a
 * key by hand. The toolkit starts the app (app/main.ts) and the data command (app/seed-main.ts) as
 * processes, with the SDK's environment pointing at the capacity gate, as it would any user's app.
 */
const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
/**
 * A program of the shop as a command: its bundle in dist/app/ when the CLI runs compiled (the build
 * bundles main.ts and seed-main.ts, and its stamp covers app/, so the bundle is of these sources),
 * else the source through tsx, which costs each start ~0.8 s of CPU more.
 */
const node = (script: string) => {
  const bundle = fileURLToPath(new URL(`../dist/app/${basename(script, '.ts')}.mjs`, import.meta.url));
  if (process.env.LOADTEST_COMPILED === '1' && existsSync(bundle)) return [process.execPath, bundle];
  return [process.execPath, '--import', 'tsx', fileURLToPath(new URL(script, import.meta.url))];
};

/** `PK = USER#{email} AND SK = USER#{email}`: a key template from the model's key builders. */
const equals = (key: Record<string, string | number>) =>
  Object.entries(key)
    .map(([attr, value]) => `${attr} = ${value}`)
    .join(' AND ');

type Match = NonNullable<NonNullable<ProjectConfigInput['patterns']>[number]['match']>;

/**
 * Each pattern's shape, so the gate names the shop's calls even from a client that does not tag them
 * (the app itself tags every call with `withPattern`). The most specific rule that fits wins.
 */
function rules(table: string): Record<PatternId, Match> {
  const user = keys.user('{email}');
  const cartIndex = keys.orderIndex('{email}', '', true);
  return {
    registerUser: { table, operation: 'PutItem', key: equals(user) },
    getUserByEmail: { table, operation: 'GetItem', key: equals(user) },
    createProduct: { table, operation: 'PutItem', key: equals(keys.product('{id}')) },
    getProduct: { table, operation: 'GetItem', key: equals(keys.product('{id}')) },
    getProductsByIds: { table, operation: 'BatchGetItem' },
    listProductsByPriceRange: {
      table,
      index: 'GSI2',
      operation: 'Query',
      key: `GSI2PK = ${keys.productCatalogue} AND GSI2SK BETWEEN {min} AND {max}`,
    },
    listProducts: { table, index: 'GSI2', operation: 'Query', key: `GSI2PK = ${keys.productCatalogue}` },
    listProductsByCategory: {
      table,
      index: 'GSI1',
      operation: 'Query',
      key: `GSI1PK = ${keys.productCategory('{category}')}`,
    },
    searchProductsByTitle: {
      table,
      index: 'GSI3',
      operation: 'Query',
      key: `GSI3PK = ${keys.productCatalogue} AND begins_with(GSI3SK, ${keys.productTitle('')})`,
    },
    getCurrentCart: [
      { table, index: 'GSI3', operation: 'Query', key: `GSI3PK = ${cartIndex.GSI3PK}` },
      {
        table,
        operation: 'PutItem',
        key: `PK = ${keys.userPartition('{email}')} AND begins_with(SK, ${keys.orderPrefix})`,
      },
    ],
    getCartItems: { table, operation: 'Query', key: `PK = ${keys.orderItemsPartition('{orderId}')}` },
    addToCart: {
      table,
      operation: ['PutItem', 'UpdateItem'],
      key: equals(keys.orderItem('{orderId}', '{productId}')),
    },
    removeFromCart: {
      table,
      operation: 'DeleteItem',
      key: equals(keys.orderItem('{orderId}', '{productId}')),
    },
    checkout: { table, operation: 'TransactWriteItems' },
    getOrderHistory: {
      table,
      operation: 'Query',
      key: `PK = ${keys.userPartition('{email}')} AND begins_with(SK, ${keys.orderPrefix})`,
    },
  };
}

export interface ShopProjectOptions {
  readonly tableName?: string;
  /** The key the app signs and verifies tokens with (default: a new random one per process). */
  readonly authSecret?: string;
}

export function shopProject(options: ShopProjectOptions = {}): ProjectConfigInput {
  const table = options.tableName ?? DEFAULT_TABLE_NAME;
  // Only the app holds it: the data command gets its tokens from the app's dev-token route.
  const authSecret = options.authSecret ?? randomBytes(32).toString('base64url');
  const shapes = rules(table);
  return {
    name: SHOP_SERVICE,
    app: {
      start: {
        command: node('./main.ts'),
        cwd: REPO_ROOT,
        env: {
          TABLE_NAME: table,
          AUTH_SECRET: authSecret,
          HOST: '127.0.0.1',
          DEV_TOKENS: '1',
          EXPOSE_METRICS: '1',
          EMF: 'off',
        },
      },
      ready: { path: '/health', status: 200, timeoutSec: 60 },
    },
    tables: [
      {
        name: table,
        partitionKey: tableDefinition.partitionKey,
        sortKey: tableDefinition.sortKey,
        globalSecondaryIndexes: tableDefinition.indexes.map((i) => ({
          name: i.name,
          partitionKey: i.partitionKey,
          sortKey: i.sortKey,
          projection: 'ALL' as const,
        })),
        billing: { mode: 'on-demand' },
        stream: 'NEW_AND_OLD_IMAGES',
      },
    ],
    patterns: accessPatterns.map((p) => ({ id: p.id, description: p.description, match: shapes[p.id] })),
    data: { command: { command: node('./seed-main.ts'), cwd: REPO_ROOT, env: { TABLE_NAME: table } } },
    scenarios: fileURLToPath(new URL('../scenarios', import.meta.url)),
    events: {
      table,
      filter: ORDER_COMPLETED_PIPE_FILTER,
      subscriptionFilter: BIG_ORDER_FILTER_POLICY,
      message: (image: Record<string, unknown>) =>
        orderNotification(image as Parameters<typeof orderNotification>[0]),
      subscription: 'orders@example.com',
    },
    import: { table, ...shopImport, entities: [...shopImport.entities] },
  };
}
