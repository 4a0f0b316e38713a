import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  type QueryCommandInput,
  type QueryCommandOutput,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { ulid } from 'ulid';
import { AlreadyExists, Conflict, InvalidInput, NotFound, Throttled } from '../errors.js';
import type { PatternId } from '../patterns.js';
import { keys } from '../table.js';
import { type Cursor, decodeCursor, encodeCursor } from './cursor.js';
import type { PatternClient, Send } from './instrument.js';
import { MAX_BATCH_GET, MAX_CHECKOUT_LINES, MAX_LINE_QUANTITY } from './limits.js';

export interface User {
  email: string;
  name: string;
  /** Id of the user's open cart: fixed before the cart exists so concurrent creators agree on it. */
  cartId: string;
  createdAt: string;
}

export interface NewProduct {
  title: string;
  description: string;
  price: number;
  category: string;
  images: string[];
}

export interface Product extends NewProduct {
  id: string;
  sold: number;
  createdAt: string;
}

export type ProductSummary = Pick<Product, 'id' | 'title' | 'price' | 'category' | 'images'>;

export interface Order {
  orderId: string;
  email: string;
  status: 'CURRENT' | 'COMPLETED';
  createdAt: string;
  completedAt?: string;
  total?: number;
  itemCount?: number;
}

export interface OrderItem {
  orderId: string;
  productId: string;
  title: string;
  price: number;
  quantity: number;
}

export interface Page<T> {
  items: T[];
  cursor?: string;
}

export interface ProductFilters {
  category?: string;
  q?: string;
  minPrice?: number;
  maxPrice?: number;
}

/** BatchGetItem and TransactWriteItems limits. */
export { MAX_BATCH_GET, MAX_CHECKOUT_LINES, MAX_LINE_QUANTITY } from './limits.js';

const BATCH_GET_ATTEMPTS = 8;
const MAX_PAGE_READS = 10;

export interface ShopStoreOptions {
  readonly tableName: string;
  readonly newId?: () => string;
  readonly clock?: () => Date;
  readonly sleep?: (ms: number) => Promise<void>;
}

function strip<T>(item: Record<string, unknown>): T {
  const { PK, SK, GSI1PK, GSI1SK, GSI2PK, GSI2SK, GSI3PK, GSI3SK, entity, ...rest } = item;
  return rest as T;
}

function isConditionFailure(err: unknown): err is Error & { Item?: Record<string, unknown> } {
  return err instanceof Error && err.name === 'ConditionalCheckFailedException';
}

/** Each public method is one access pattern (or a composition of them), run through the instrumented path. */
export class ShopStore {
  private readonly table: string;
  private readonly newId: () => string;
  private readonly clock: () => Date;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(
    private readonly db: PatternClient,
    options: ShopStoreOptions,
  ) {
    this.table = options.tableName;
    this.newId = options.newId ?? (() => ulid());
    this.clock = options.clock ?? (() => new Date());
    this.sleep = options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  }

  private now(): string {
    return this.clock().toISOString();
  }

  // --- users -------------------------------------------------------------------------------------

  registerUser(input: { email: string; name: string }): Promise<User> {
    return this.db.run('registerUser', async (send) => {
      const user: User = {
        email: input.email,
        name: input.name,
        cartId: this.newId(),
        createdAt: this.now(),
      };
      try {
        await send(
          new PutCommand({
            TableName: this.table,
            Item: { ...keys.user(user.email), entity: 'User', ...user },
            ConditionExpression: 'attribute_not_exists(PK)',
          }),
        );
      } catch (err) {
        if (isConditionFailure(err)) {
          throw new AlreadyExists(`a user with email ${input.email} already exists`, { email: input.email });
        }
        throw err;
      }
      return user;
    });
  }

  getUserByEmail(email: string): Promise<User | undefined> {
    return this.db.run('getUserByEmail', async (send) => {
      const out = await send(new GetCommand({ TableName: this.table, Key: keys.user(email) }));
      return out.Item ? strip<User>(out.Item) : undefined;
    });
  }

  // --- products ----------------------------------------------------------------------------------

  createProduct(input: NewProduct): Promise<Product> {
    return this.db.run('createProduct', async (send) => {
      const product: Product = { ...input, id: this.newId(), sold: 0, createdAt: this.now() };
      await send(
        new PutCommand({
          TableName: this.table,
          Item: {
            ...keys.product(product.id),
            ...keys.productIndexes(product),
            entity: 'Product',
            ...product,
          },
          ConditionExpression: 'attribute_not_exists(PK)',
        }),
      );
      return product;
    });
  }

  getProduct(id: string): Promise<Product> {
    return this.db.run('getProduct', async (send) => {
      const out = await send(new GetCommand({ TableName: this.table, Key: keys.product(id) }));
      if (!out.Item) throw new NotFound(`no product with id ${id}`, { productId: id });
      return strip<Product>(out.Item);
    });
  }

  /** BatchGetItem, retrying UnprocessedKeys with exponential backoff and jitter, as AWS advises. */
  getProductsByIds(ids: readonly string[]): Promise<{ products: Product[]; missing: string[] }> {
    const unique = [...new Set(ids)];
    if (unique.length > MAX_BATCH_GET) {
      throw new InvalidInput(`ids: at most ${MAX_BATCH_GET} ids per request`, { field: 'ids' });
    }
    return this.db.run('getProductsByIds', async (send) => {
      const found: Product[] = [];
      let pending: Record<string, unknown>[] = unique.map((id) => keys.product(id));
      for (let attempt = 0; pending.length > 0; attempt += 1) {
        if (attempt >= BATCH_GET_ATTEMPTS) {
          throw new Throttled(`${pending.length} keys stayed unprocessed after ${attempt} attempts`, 1, {
            unprocessed: pending.length,
          });
        }
        if (attempt > 0) await this.sleep(Math.random() * Math.min(1000, 25 * 2 ** attempt));
        const out = await send(new BatchGetCommand({ RequestItems: { [this.table]: { Keys: pending } } }));
        for (const item of out.Responses?.[this.table] ?? []) found.push(strip<Product>(item));
        pending = (out.UnprocessedKeys?.[this.table]?.Keys ?? []) as Record<string, unknown>[];
      }
      const byId = new Map(found.map((p) => [p.id, p]));
      return {
        products: unique.flatMap((id) => byId.get(id) ?? []),
        missing: unique.filter((id) => !byId.has(id)),
      };
    });
  }

  /**
   * One Query per call. The most selective filter picks the index (title prefix, then category, then
   * price range, else the whole catalogue by price); the other filters become a FilterExpression.
   */
  listProducts(
    filters: ProductFilters,
    page: { limit: number; cursor?: string },
  ): Promise<Page<ProductSummary | Product> & { pattern: PatternId }> {
    const startKey = decodeCursor(page.cursor);
    const values: Record<string, unknown> = {};
    const names: Record<string, string> = {};
    const filter: string[] = [];
    let pattern: PatternId;
    let query: Omit<QueryCommandInput, 'TableName'>;
    const hasPrice = filters.minPrice !== undefined || filters.maxPrice !== undefined;
    const min = filters.minPrice ?? 0;
    const max = filters.maxPrice ?? Number.MAX_SAFE_INTEGER;
    if (min > max) throw new InvalidInput('minPrice: must not be above maxPrice', { field: 'minPrice' });

    if (filters.q !== undefined) {
      pattern = 'searchProductsByTitle';
      values[':pk'] = keys.productCatalogue;
      values[':prefix'] = keys.productTitle(filters.q);
      query = { IndexName: 'GSI3', KeyConditionExpression: 'GSI3PK = :pk AND begins_with(GSI3SK, :prefix)' };
    } else if (filters.category !== undefined) {
      pattern = 'listProductsByCategory';
      values[':pk'] = keys.productCategory(filters.category);
      query = { IndexName: 'GSI1', KeyConditionExpression: 'GSI1PK = :pk' };
    } else if (hasPrice) {
      pattern = 'listProductsByPriceRange';
      values[':pk'] = keys.productCatalogue;
      values[':min'] = min;
      values[':max'] = max;
      query = { IndexName: 'GSI2', KeyConditionExpression: 'GSI2PK = :pk AND GSI2SK BETWEEN :min AND :max' };
    } else {
      pattern = 'listProducts';
      values[':pk'] = keys.productCatalogue;
      names['#id'] = 'id';
      names['#title'] = 'title';
      names['#price'] = 'price';
      names['#category'] = 'category';
      names['#images'] = 'images';
      // The catalogue page needs no description: project it away to keep items (and RCUs) small.
      query = {
        IndexName: 'GSI2',
        KeyConditionExpression: 'GSI2PK = :pk',
        ProjectionExpression: '#id, #title, #price, #category, #images',
      };
    }
    if (pattern !== 'listProductsByCategory' && filters.category !== undefined) {
      names['#category'] = 'category';
      values[':category'] = filters.category;
      filter.push('#category = :category');
    }
    if (pattern !== 'listProductsByPriceRange' && hasPrice) {
      names['#price'] = 'price';
      values[':min'] = min;
      values[':max'] = max;
      filter.push('#price BETWEEN :min AND :max');
    }
    const input: QueryCommandInput = {
      TableName: this.table,
      ...query,
      ExpressionAttributeValues: values,
      ...(Object.keys(names).length > 0 ? { ExpressionAttributeNames: names } : {}),
      ...(filter.length > 0 ? { FilterExpression: filter.join(' AND ') } : {}),
    };
    return this.db.run(pattern, async (send) => {
      const out = await this.queryPage(send, input, page.limit, startKey);
      return { pattern, items: out.items.map((i) => strip<Product>(i)), ...cursorOf(out.lastKey) };
    });
  }

  /**
   * One page of a Query. With a FilterExpression, DynamoDB's Limit counts items read, not items kept,
   * so a page can come back short or empty with more to come: keep reading (up to MAX_PAGE_READS
   * calls) until the page is full or the list ends. A forged or foreign cursor makes DynamoDB answer
   * ValidationException: that is the client's error.
   */
  private async queryPage(send: Send, input: QueryCommandInput, limit: number, startKey: Cursor | undefined) {
    const items: Record<string, unknown>[] = [];
    let next: Record<string, unknown> | undefined = startKey;
    for (let reads = 0; reads < MAX_PAGE_READS; reads += 1) {
      let out: QueryCommandOutput;
      try {
        out = await send(
          new QueryCommand({ ...input, Limit: limit - items.length, ExclusiveStartKey: next }),
        );
      } catch (err) {
        if (startKey && err instanceof Error && err.name === 'ValidationException') {
          throw new InvalidInput('cursor: does not belong to this list', { field: 'cursor' }, { cause: err });
        }
        throw err;
      }
      items.push(...(out.Items ?? []));
      next = out.LastEvaluatedKey;
      if (!next || items.length >= limit || input.FilterExpression === undefined) break;
    }
    return { items, lastKey: next };
  }

  // --- cart and orders ---------------------------------------------------------------------------

  /**
   * The open cart from GSI3, created if absent. Its id is the one the user record holds, so two
   * concurrent first requests create the same cart and the conditional Put keeps just one.
   */
  getCurrentCart(user: User): Promise<Order> {
    return this.db.run('getCurrentCart', async (send) => {
      const cartKey = keys.orderIndex(user.email, '', true);
      const out = await send(
        new QueryCommand({
          TableName: this.table,
          IndexName: 'GSI3',
          KeyConditionExpression: 'GSI3PK = :pk AND GSI3SK = :sk',
          ExpressionAttributeValues: { ':pk': cartKey.GSI3PK, ':sk': cartKey.GSI3SK },
        }),
      );
      // GSIs are eventually consistent: a cart just checked out may still show as current. The user
      // record names the cart that is really open.
      const open = (out.Items ?? []).map((i) => strip<Order>(i)).find((o) => o.orderId === user.cartId);
      if (open) return open;
      const cart: Order = {
        orderId: user.cartId,
        email: user.email,
        status: 'CURRENT',
        createdAt: this.now(),
      };
      try {
        await send(
          new PutCommand({
            TableName: this.table,
            Item: {
              ...keys.order(user.email, cart.orderId),
              ...keys.orderIndex(user.email, cart.orderId, true),
              entity: 'Order',
              ...cart,
            },
            ConditionExpression: 'attribute_not_exists(PK)',
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        );
        return cart;
      } catch (err) {
        if (!isConditionFailure(err)) throw err;
        // A concurrent request created it first: DynamoDB hands back the item (marshalled, as
        // lib-dynamodb leaves error payloads alone).
        const existing = err.Item
          ? strip<Order>(unmarshall(err.Item as Record<string, AttributeValue>))
          : undefined;
        if (existing?.status === 'CURRENT') return existing;
        throw new Conflict('the cart was just checked out; reload and retry', { orderId: cart.orderId });
      }
    });
  }

  getCartItems(orderId: string): Promise<OrderItem[]> {
    return this.db.run('getCartItems', async (send) => {
      const items: OrderItem[] = [];
      let startKey: Record<string, unknown> | undefined;
      do {
        const out = await send(
          new QueryCommand({
            TableName: this.table,
            KeyConditionExpression: 'PK = :pk',
            ExpressionAttributeValues: { ':pk': keys.orderItemsPartition(orderId) },
            ConsistentRead: true,
            ...(startKey ? { ExclusiveStartKey: startKey } : {}),
          }),
        );
        for (const i of out.Items ?? []) items.push(strip<OrderItem>(i));
        startKey = out.LastEvaluatedKey;
      } while (startKey);
      return items;
    });
  }

  /** A conditional Put for a new line, else an atomic `SET quantity = quantity + :q`: concurrent adds sum. */
  addToCart(
    orderId: string,
    product: Product,
    quantity: number,
  ): Promise<{ item: OrderItem; created: boolean }> {
    return this.db.run('addToCart', async (send) => {
      const key = keys.orderItem(orderId, product.id);
      // The line can vanish between the two writes (a concurrent remove): then start over.
      for (let attempt = 0; attempt < 3; attempt += 1) {
        const item: OrderItem = {
          orderId,
          productId: product.id,
          title: product.title,
          price: product.price,
          quantity,
        };
        try {
          await send(
            new PutCommand({
              TableName: this.table,
              Item: { ...key, entity: 'OrderItem', ...item },
              ConditionExpression: 'attribute_not_exists(PK)',
            }),
          );
          return { item, created: true };
        } catch (err) {
          if (!isConditionFailure(err)) throw err;
        }
        try {
          const out = await send(
            new UpdateCommand({
              TableName: this.table,
              Key: key,
              UpdateExpression: 'SET #quantity = #quantity + :q',
              ConditionExpression: 'attribute_exists(PK) AND #quantity <= :room',
              ExpressionAttributeNames: { '#quantity': 'quantity' },
              ExpressionAttributeValues: { ':q': quantity, ':room': MAX_LINE_QUANTITY - quantity },
              ReturnValues: 'ALL_NEW',
              ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
            }),
          );
          return { item: strip<OrderItem>(out.Attributes ?? {}), created: false };
        } catch (err) {
          if (!isConditionFailure(err)) throw err;
          // The line exists, so the condition that failed is the quantity limit.
          if (err.Item) {
            throw new Conflict(`a cart line holds at most ${MAX_LINE_QUANTITY} units`, {
              orderId,
              productId: product.id,
            });
          }
        }
      }
      throw new Conflict('the cart line kept changing; retry', { orderId, productId: product.id });
    });
  }

  removeFromCart(orderId: string, productId: string): Promise<boolean> {
    return this.db.run('removeFromCart', async (send) => {
      const out = await send(
        new DeleteCommand({
          TableName: this.table,
          Key: keys.orderItem(orderId, productId),
          ReturnValues: 'ALL_OLD',
        }),
      );
      return out.Attributes !== undefined;
    });
  }

  /**
   * One TransactWriteItems: the order becomes COMPLETED only if it is still the open cart, every line
   * still has the quantity priced here, every product still exists (and counts its sales), and the
   * user moves on to a fresh cart id. Any failed condition cancels all of it.
   */
  async checkout(user: User): Promise<Order> {
    const cart = await this.getCurrentCart(user);
    const items = await this.getCartItems(cart.orderId);
    if (items.length === 0) throw new Conflict('the cart is empty', { orderId: cart.orderId });
    if (items.length > MAX_CHECKOUT_LINES) {
      throw new Conflict(`a cart of more than ${MAX_CHECKOUT_LINES} lines cannot be checked out at once`, {
        orderId: cart.orderId,
        lines: items.length,
      });
    }
    const total = Math.round(items.reduce((sum, i) => sum + i.price * i.quantity, 0) * 100) / 100;
    const completedAt = this.now();
    const nextCartId = this.newId();
    return this.db.run('checkout', async (send) => {
      try {
        await send(
          new TransactWriteCommand({
            TransactItems: [
              {
                Update: {
                  TableName: this.table,
                  Key: keys.order(user.email, cart.orderId),
                  // Attribute names go through placeholders: `total` and `status` are DynamoDB reserved words.
                  UpdateExpression:
                    'SET #status = :completed, GSI3SK = :sk, #total = :total, #itemCount = :n, #completedAt = :at',
                  ConditionExpression: '#status = :current',
                  ExpressionAttributeNames: {
                    '#status': 'status',
                    '#total': 'total',
                    '#itemCount': 'itemCount',
                    '#completedAt': 'completedAt',
                  },
                  ExpressionAttributeValues: {
                    ':completed': 'COMPLETED',
                    ':current': 'CURRENT',
                    ':sk': keys.orderIndex(user.email, cart.orderId, false).GSI3SK,
                    ':total': total,
                    ':n': items.length,
                    ':at': completedAt,
                  },
                },
              },
              ...items.map((i) => ({
                ConditionCheck: {
                  TableName: this.table,
                  Key: keys.orderItem(cart.orderId, i.productId),
                  ConditionExpression: '#quantity = :q',
                  ExpressionAttributeNames: { '#quantity': 'quantity' },
                  ExpressionAttributeValues: { ':q': i.quantity },
                },
              })),
              ...items.map((i) => ({
                Update: {
                  TableName: this.table,
                  Key: keys.product(i.productId),
                  UpdateExpression: 'ADD #sold :q',
                  ConditionExpression: 'attribute_exists(PK)',
                  ExpressionAttributeNames: { '#sold': 'sold' },
                  ExpressionAttributeValues: { ':q': i.quantity },
                },
              })),
              {
                Update: {
                  TableName: this.table,
                  Key: keys.user(user.email),
                  UpdateExpression: 'SET #cartId = :next',
                  ConditionExpression: '#cartId = :current',
                  ExpressionAttributeNames: { '#cartId': 'cartId' },
                  ExpressionAttributeValues: { ':next': nextCartId, ':current': cart.orderId },
                },
              },
            ],
          }),
        );
      } catch (err) {
        const reasons = (err as { CancellationReasons?: { Code?: string }[] }).CancellationReasons;
        if (err instanceof Error && err.name === 'TransactionCanceledException' && reasons) {
          const failed = reasons.map((r) => r.Code ?? 'None');
          if (failed.includes('ConditionalCheckFailed')) {
            throw new Conflict(
              'the cart changed during checkout (a line, a product or the cart itself); reload it',
              {
                orderId: cart.orderId,
                reasons: failed,
              },
            );
          }
        }
        throw err;
      }
      return { ...cart, status: 'COMPLETED' as const, total, itemCount: items.length, completedAt };
    });
  }

  getOrderHistory(email: string, page: { limit: number; cursor?: string }): Promise<Page<Order>> {
    const startKey = decodeCursor(page.cursor);
    return this.db.run('getOrderHistory', async (send) => {
      const out = await this.queryPage(
        send,
        {
          TableName: this.table,
          KeyConditionExpression: 'PK = :pk AND begins_with(SK, :order)',
          FilterExpression: '#status = :completed',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':pk': keys.userPartition(email),
            ':order': keys.orderPrefix,
            ':completed': 'COMPLETED',
          },
          ScanIndexForward: false,
        },
        page.limit,
        startKey,
      );
      return { items: out.items.map((i) => strip<Order>(i)), ...cursorOf(out.lastKey) };
    });
  }
}

function cursorOf(key: Record<string, unknown> | undefined): { cursor?: string } {
  const cursor = encodeCursor(key);
  return cursor ? { cursor } : {};
}
