import {
  Agent,
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { crc32 } from 'node:zlib';
import type { AttributeValue, ConsumedCapacity } from '@aws-sdk/client-dynamodb';
import { type TableDefinition, tableDefinition } from '../../app/index.js';
import { TokenBucket } from './bucket.js';
import { type Item, itemSize, writeUnits } from './capacity.js';

/**
 * The capacity gate: an HTTP proxy in front of DynamoDB Local that enforces a table's capacity the
 * way DynamoDB does (provisioned token buckets with 300 s of burst, on-demand at twice the previous
 * peak, 3,000 RCU / 1,000 WCU per partition key, GSI write back-pressure) and answers throttled calls
 * with DynamoDB's own error, so an SDK's real retries run against it. It counts capacity by
 * DynamoDB's CloudWatch metric names and per partition key (the hot-key list).
 */
export interface Capacity {
  readonly read: number;
  readonly write: number;
}

export interface GateCapacity {
  readonly mode: 'provisioned' | 'on-demand';
  readonly table?: Capacity;
  readonly indexes?: Readonly<Record<string, Capacity>>;
  /** On-demand maximum throughput, per second. */
  readonly maxRead?: number;
  readonly maxWrite?: number;
}

export const PARTITION_LIMIT: Capacity = { read: 3000, write: 1000 };
export const ON_DEMAND_INITIAL: Capacity = { read: 12_000, write: 4_000 };
export const BURST_SECONDS = 300;
const DEFAULT_PROVISIONED: Capacity = { read: 5, write: 5 };

type Kind = 'Read' | 'Write';
type Reason =
  | 'ProvisionedThroughputExceeded'
  | 'KeyRangeThroughputExceeded'
  | 'MaxOnDemandThroughputExceeded';

export interface HotKey {
  table: string;
  index: string | null;
  partitionKey: string;
  rcu: number;
  wcu: number;
  throttleEvents: number;
}

export interface GateTableStats {
  table: string;
  index: string | null;
  consumedRcu: number;
  consumedWcu: number;
  readThrottleEvents: number;
  writeThrottleEvents: number;
  throttleReasons: Record<string, number>;
}

export interface GateSnapshot {
  tables: GateTableStats[];
  hotKeys: HotKey[];
  /** CloudWatch-style datapoints: metric name, dimensions, sum. */
  metrics: { name: string; dimensions: Record<string, string>; sum: number; count: number; max?: number }[];
}

interface Access {
  target: string; // 'table' or a GSI name
  kind: Kind;
  pk: string | undefined;
}

class Target {
  readonly read: TokenBucket;
  readonly write: TokenBucket;
  consumed = { Read: 0, Write: 0 };
  throttles = { Read: 0, Write: 0 };
  readonly reasons = new Map<string, number>();
  // On-demand: peak units in any one second, and this second's running total.
  private second = { at: -1, Read: 0, Write: 0 };
  private peak = { Read: 0, Write: 0 };

  constructor(
    private readonly capacity: GateCapacity,
    provisioned: Capacity,
    now: number,
  ) {
    const rate = (k: Kind) =>
      capacity.mode === 'provisioned' ? provisioned[k === 'Read' ? 'read' : 'write'] : this.onDemandLimit(k);
    const burst = (k: Kind) => (capacity.mode === 'provisioned' ? rate(k) * BURST_SECONDS : rate(k));
    this.read = new TokenBucket(rate('Read'), burst('Read'), now);
    this.write = new TokenBucket(rate('Write'), burst('Write'), now);
  }

  private onDemandLimit(kind: Kind): number {
    const initial = kind === 'Read' ? ON_DEMAND_INITIAL.read : ON_DEMAND_INITIAL.write;
    const cap = kind === 'Read' ? this.capacity.maxRead : this.capacity.maxWrite;
    const limit = Math.max(initial, 2 * (this.peak?.[kind] ?? 0));
    return cap !== undefined ? Math.min(cap, limit) : limit;
  }

  bucket(kind: Kind): TokenBucket {
    return kind === 'Read' ? this.read : this.write;
  }

  /** Why this target would throttle now, if it would. */
  refuses(kind: Kind, now: number): Reason | undefined {
    if (this.bucket(kind).admits(now)) return undefined;
    const capped = kind === 'Read' ? this.capacity.maxRead : this.capacity.maxWrite;
    return this.capacity.mode === 'on-demand' && capped !== undefined
      ? 'MaxOnDemandThroughputExceeded'
      : 'ProvisionedThroughputExceeded';
  }

  charge(kind: Kind, units: number, now: number): void {
    this.bucket(kind).take(units, now);
    this.consumed[kind] += units;
    if (this.capacity.mode !== 'on-demand') return;
    const sec = Math.floor(now / 1000);
    if (sec !== this.second.at) this.second = { at: sec, Read: 0, Write: 0 };
    this.second[kind] += units;
    if (this.second[kind] > this.peak[kind]) {
      this.peak[kind] = this.second[kind];
      const limit = this.onDemandLimit(kind);
      const b = this.bucket(kind);
      b.rate = limit;
      b.burst = limit;
    }
  }
}

const READ_OPS = new Set(['GetItem', 'Query', 'Scan', 'BatchGetItem', 'TransactGetItems']);
const WRITE_OPS = new Set(['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem', 'TransactWriteItems']);

function keyString(v: AttributeValue | undefined): string | undefined {
  if (!v) return undefined;
  return v.S ?? v.N ?? (v.B ? Buffer.from(v.B).toString('base64') : undefined);
}

type Json = Record<string, unknown>;

function writeRequestItem(r: Json): Item | undefined {
  return ((r.PutRequest as Json | undefined)?.Item ?? (r.DeleteRequest as Json | undefined)?.Key) as
    | Item
    | undefined;
}

export interface GateOptions {
  readonly upstream: string;
  readonly tableName: string;
  readonly capacity: GateCapacity;
  readonly definition?: TableDefinition;
  readonly clock?: () => number;
  readonly region?: string;
}

export class CapacityGate {
  private server: Server | undefined;
  private readonly clock: () => number;
  private readonly def: TableDefinition;
  private targets = new Map<string, Target>();
  private partitions = new Map<
    string,
    { read: TokenBucket; write: TokenBucket; rcu: number; wcu: number; throttles: number }
  >();
  private opStats = new Map<
    string,
    { throttled: number; latency: { sum: number; count: number; max: number } }
  >();
  private capacity: GateCapacity;
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 64 });
  private readonly upstreamUrl: URL;

  constructor(private readonly options: GateOptions) {
    this.clock = options.clock ?? (() => performance.timeOrigin + performance.now());
    this.def = options.definition ?? tableDefinition;
    this.capacity = options.capacity;
    this.upstreamUrl = new URL(options.upstream);
    this.reset();
  }

  /** Forget all counters and refill every bucket (a new run), optionally with new capacity. */
  reset(capacity: GateCapacity = this.capacity): void {
    this.capacity = capacity;
    const now = this.clock();
    const table = capacity.table ?? DEFAULT_PROVISIONED;
    this.targets = new Map([['table', new Target(capacity, table, now)]]);
    for (const index of this.def.indexes) {
      this.targets.set(index.name, new Target(capacity, capacity.indexes?.[index.name] ?? table, now));
    }
    this.partitions = new Map();
    this.opStats = new Map();
  }

  async listen(port = 0): Promise<string> {
    this.server = createServer((req, res) => void this.handle(req, res));
    this.server.keepAliveTimeout = 60_000;
    await new Promise<void>((r) => this.server?.listen(port, '127.0.0.1', r));
    const addr = this.server.address();
    return `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : port}`;
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    this.agent.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  }

  private arn(target: string): string {
    const table = `arn:aws:dynamodb:${this.options.region ?? 'local'}:000000000000:table/${this.options.tableName}`;
    return target === 'table' ? table : `${table}/index/${target}`;
  }

  private partition(target: string, pk: string) {
    const key = `${target}\u0000${pk}`;
    let p = this.partitions.get(key);
    if (!p) {
      const now = this.clock();
      p = {
        read: new TokenBucket(PARTITION_LIMIT.read, PARTITION_LIMIT.read, now),
        write: new TokenBucket(PARTITION_LIMIT.write, PARTITION_LIMIT.write, now),
        rcu: 0,
        wcu: 0,
        throttles: 0,
      };
      this.partitions.set(key, p);
    }
    return p;
  }

  private op(name: string) {
    let s = this.opStats.get(name);
    if (!s) {
      s = { throttled: 0, latency: { sum: 0, count: 0, max: 0 } };
      this.opStats.set(name, s);
    }
    return s;
  }

  /** Which targets and partitions a request reads or writes. */
  private accesses(op: string, body: Json): Access[] {
    const table = this.options.tableName;
    const pkName = this.def.partitionKey.name;
    const kind: Kind = READ_OPS.has(op) ? 'Read' : 'Write';
    const pkOf = (item: unknown) => keyString((item as Item | undefined)?.[pkName]);
    const forWrite = (pk: string | undefined): Access[] => [
      { target: 'table', kind, pk },
      ...this.def.indexes.map((i) => ({ target: i.name, kind, pk: undefined })),
    ];
    switch (op) {
      case 'GetItem':
        return body.TableName === table ? [{ target: 'table', kind, pk: pkOf(body.Key) }] : [];
      case 'Query':
      case 'Scan': {
        if (body.TableName !== table) return [];
        const target = typeof body.IndexName === 'string' ? body.IndexName : 'table';
        return [{ target, kind, pk: op === 'Query' ? this.queryPartition(body, target) : undefined }];
      }
      case 'PutItem':
        return body.TableName === table ? forWrite(pkOf(body.Item)) : [];
      case 'UpdateItem':
      case 'DeleteItem':
        return body.TableName === table ? forWrite(pkOf(body.Key)) : [];
      case 'BatchGetItem': {
        const keys =
          ((body.RequestItems as Json | undefined)?.[table] as { Keys?: unknown[] } | undefined)?.Keys ?? [];
        return keys.map((k) => ({ target: 'table', kind, pk: pkOf(k) }));
      }
      case 'BatchWriteItem': {
        const reqs = ((body.RequestItems as Json | undefined)?.[table] as Json[] | undefined) ?? [];
        return reqs.flatMap((r) =>
          forWrite(
            pkOf((r.PutRequest as Json | undefined)?.Item ?? (r.DeleteRequest as Json | undefined)?.Key),
          ),
        );
      }
      case 'TransactWriteItems':
      case 'TransactGetItems': {
        const items = (body.TransactItems as Json[] | undefined) ?? [];
        return items.flatMap((t) => {
          const [action, spec] = Object.entries(t)[0] ?? [];
          const s = spec as Json | undefined;
          if (!s || s.TableName !== table) return [];
          const pk = pkOf(s.Item ?? s.Key);
          if (op === 'TransactGetItems') return [{ target: 'table', kind: 'Read' as Kind, pk }];
          // A ConditionCheck reads; it is still charged as a transactional write.
          return action === 'Put' || action === 'Update' || action === 'Delete'
            ? forWrite(pk)
            : [{ target: 'table', kind, pk }];
        });
      }
      default:
        return [];
    }
  }

  private queryPartition(body: Json, target: string): string | undefined {
    const attr =
      target === 'table'
        ? this.def.partitionKey.name
        : this.def.indexes.find((i) => i.name === target)?.partitionKey.name;
    const expr = typeof body.KeyConditionExpression === 'string' ? body.KeyConditionExpression : '';
    const names = (body.ExpressionAttributeNames as Record<string, string> | undefined) ?? {};
    const values = (body.ExpressionAttributeValues as Record<string, AttributeValue> | undefined) ?? {};
    for (const m of expr.matchAll(/([#A-Za-z0-9_]+)\s*=\s*(:[A-Za-z0-9_]+)/g)) {
      const name = m[1]?.startsWith('#') ? names[m[1]] : m[1];
      if (name === attr) return keyString(values[m[2] ?? '']);
    }
    return undefined;
  }

  /** The first reason any of the accesses would be throttled now. */
  private refusal(accesses: readonly Access[]): { access: Access; reason: Reason } | undefined {
    const now = this.clock();
    for (const a of accesses) {
      const reason = this.targets.get(a.target)?.refuses(a.kind, now);
      if (reason) return { access: a, reason };
      if (a.pk !== undefined) {
        const p = this.partition(a.target, a.pk);
        if (!(a.kind === 'Read' ? p.read : p.write).admits(now))
          return { access: a, reason: 'KeyRangeThroughputExceeded' };
      }
    }
    return undefined;
  }

  private countThrottle(op: string, a: Access, reason: Reason): string {
    const t = this.targets.get(a.target);
    const label = `${a.target === 'table' ? 'Table' : 'Index'}${a.kind}${reason}`;
    if (t) {
      t.throttles[a.kind] += 1;
      t.reasons.set(label, (t.reasons.get(label) ?? 0) + 1);
    }
    if (a.pk !== undefined) this.partition(a.target, a.pk).throttles += 1;
    this.op(op).throttled += 1;
    return label;
  }

  private charge(accesses: readonly Access[], consumed: ConsumedCapacity | undefined, kind: Kind): void {
    if (!consumed) return;
    const now = this.clock();
    const units = (
      c: { CapacityUnits?: number; ReadCapacityUnits?: number; WriteCapacityUnits?: number } | undefined,
      k: Kind,
    ) =>
      c === undefined
        ? 0
        : ((k === 'Read' ? c.ReadCapacityUnits : c.WriteCapacityUnits) ??
          (k === kind ? (c.CapacityUnits ?? 0) : 0));
    const split: [string, typeof consumed.Table][] = [
      ['table', consumed.Table ?? consumed],
      ...Object.entries(consumed.GlobalSecondaryIndexes ?? {}),
    ];
    for (const [target, c] of split) {
      for (const k of ['Read', 'Write'] as const) {
        const u = units(c, k);
        if (u <= 0) continue;
        this.targets.get(target)?.charge(k, u, now);
        // Split a target's units evenly over the partition keys the request touched there.
        const keyed = accesses.filter((a) => a.target === target && a.pk !== undefined && a.kind === k);
        for (const a of keyed) {
          const p = this.partition(target, a.pk as string);
          (k === 'Read' ? p.read : p.write).take(u / keyed.length, now);
          if (k === 'Read') p.rcu += u / keyed.length;
          else p.wcu += u / keyed.length;
        }
      }
    }
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = this.clock();
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks);
    const op =
      String(req.headers['x-amz-target'] ?? '')
        .split('.')
        .pop() ?? '';
    let body: Json = {};
    try {
      body = raw.length ? (JSON.parse(raw.toString('utf8')) as Json) : {};
    } catch {}
    const gated = READ_OPS.has(op) || WRITE_OPS.has(op);
    let accesses = gated ? this.accesses(op, body) : [];

    // Batch calls: items on a throttled partition come back unprocessed; the call fails only when
    // every item is throttled.
    let unprocessed: Json[] = [];
    let unprocessedExtra: Json = {};
    if (
      (op === 'BatchGetItem' || op === 'BatchWriteItem') &&
      accesses.length > 0 &&
      !this.refusal(accesses.filter((a) => a.pk === undefined))
    ) {
      const split = this.splitBatch(op, body, accesses);
      if (split.kept > 0 && split.dropped.length > 0) {
        unprocessed = split.dropped;
        unprocessedExtra = split.extra;
        for (const a of accesses.filter((x) => !split.accesses.includes(x))) {
          this.countThrottle(op, a, 'KeyRangeThroughputExceeded');
        }
        accesses = split.accesses;
      }
    }

    if (accesses.length > 0) {
      const refused = this.refusal(accesses);
      if (refused) {
        const label = this.countThrottle(op, refused.access, refused.reason);
        // Batch calls fail only when every item is throttled; a whole-table refusal throttles all of them.
        this.send(res, 400, {
          __type: 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException',
          message: `The level of configured provisioned throughput for the ${refused.access.target === 'table' ? 'table' : 'index'} was exceeded. Consider increasing your provisioning level with the UpdateTable API.`,
          ThrottlingReasons: [{ reason: label, resource: this.arn(refused.access.target) }],
        });
        return;
      }
    }

    // Ask for the per-index split whatever the client asked for, and give it back what it asked for.
    const asked = body.ReturnConsumedCapacity as string | undefined;
    const askedOld = body.ReturnValuesOnConditionCheckFailure as string | undefined;
    let forward = raw;
    if (accesses.length > 0) {
      body.ReturnConsumedCapacity = 'INDEXES';
      if (op === 'PutItem' || op === 'UpdateItem' || op === 'DeleteItem')
        body.ReturnValuesOnConditionCheckFailure = 'ALL_OLD';
      forward = Buffer.from(JSON.stringify(body));
    }
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) {
      if (typeof v === 'string' && k !== 'host' && k !== 'content-length' && k !== 'transfer-encoding')
        headers[k] = v;
    }
    let upstream: { status: number; ok: boolean; contentType: string; text: string };
    try {
      upstream = await this.forward(headers, forward);
    } catch (err) {
      res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`capacity gate: DynamoDB is unreachable: ${(err as Error).message}`);
      return;
    }
    const text = upstream.text;
    if (accesses.length === 0) {
      res.writeHead(upstream.status, { 'content-type': upstream.contentType });
      res.end(text);
      return;
    }
    let out: Json = {};
    try {
      out = JSON.parse(text) as Json;
    } catch {}
    const kind: Kind = READ_OPS.has(op) ? 'Read' : 'Write';
    if (upstream.ok) {
      const consumed = out.ConsumedCapacity as ConsumedCapacity | ConsumedCapacity[] | undefined;
      for (const c of Array.isArray(consumed) ? consumed : consumed ? [consumed] : []) {
        if (c.TableName === this.options.tableName) this.charge(accesses, c, kind);
      }
      if (unprocessed.length > 0) this.addUnprocessed(op, out, unprocessed, unprocessedExtra);
      if (asked !== 'INDEXES' && consumed) {
        if (asked === 'TOTAL') {
          const strip = (c: ConsumedCapacity) => ({ TableName: c.TableName, CapacityUnits: c.CapacityUnits });
          out.ConsumedCapacity = Array.isArray(consumed) ? consumed.map(strip) : strip(consumed);
        } else delete out.ConsumedCapacity;
      }
      const stats = this.op(op).latency;
      const ms = this.clock() - started;
      stats.sum += ms;
      stats.count += 1;
      stats.max = Math.max(stats.max, ms);
    } else if (String(out.__type ?? '').endsWith('ConditionalCheckFailedException')) {
      // A failed condition still consumes the write: DynamoDB Local does not report it, so count it.
      const old = out.Item as Item | undefined;
      const units = writeUnits(itemSize(old), itemSize(body.Item as Item | undefined));
      this.charge(
        accesses.filter((a) => a.target === 'table'),
        { TableName: this.options.tableName, Table: { CapacityUnits: units } },
        'Write',
      );
      if (askedOld !== 'ALL_OLD') delete out.Item;
    }
    this.send(res, upstream.status, out);
  }

  /** Takes the items whose partition would throttle out of a batch request. */
  private splitBatch(
    op: string,
    body: Json,
    accesses: Access[],
  ): { kept: number; dropped: Json[]; accesses: Access[]; extra: Json } {
    let extra: Json = {};
    const table = this.options.tableName;
    const requestItems = body.RequestItems as Json | undefined;
    const pkName = this.def.partitionKey.name;
    const now = this.clock();
    const hot = (pk: string | undefined, kind: Kind) => {
      if (pk === undefined) return false;
      const p = this.partition('table', pk);
      return !(kind === 'Read' ? p.read : p.write).admits(now);
    };
    const dropped: Json[] = [];
    let kept = 0;
    if (op === 'BatchGetItem') {
      const spec = requestItems?.[table] as { Keys?: Item[] } | undefined;
      const keys = spec?.Keys ?? [];
      const keep = keys.filter((k) => !hot(keyString(k[pkName]), 'Read'));
      if (spec) {
        const { Keys: _keys, ...rest } = spec;
        extra = rest;
      }
      dropped.push(...(keys.filter((k) => hot(keyString(k[pkName]), 'Read')) as unknown as Json[]));
      kept = keep.length;
      if (spec && dropped.length > 0 && kept > 0) spec.Keys = keep;
    } else {
      const reqs = (requestItems?.[table] as Json[] | undefined) ?? [];
      const pkOf = (r: Json) => keyString(writeRequestItem(r)?.[pkName]);
      const keep = reqs.filter((r) => !hot(pkOf(r), 'Write'));
      dropped.push(...reqs.filter((r) => hot(pkOf(r), 'Write')));
      kept = keep.length;
      if (requestItems && dropped.length > 0 && kept > 0) requestItems[table] = keep;
    }
    const droppedPks = new Set(
      dropped.map((d) =>
        keyString((op === 'BatchGetItem' ? (d as unknown as Item) : writeRequestItem(d))?.[pkName]),
      ),
    );
    return {
      kept,
      dropped,
      extra,
      accesses: accesses.filter((a) => a.pk === undefined || !droppedPks.has(a.pk)),
    };
  }

  private addUnprocessed(op: string, out: Json, dropped: Json[], extra: Json): void {
    const table = this.options.tableName;
    if (op === 'BatchGetItem') {
      const u = ((out.UnprocessedKeys as Json | undefined) ?? {}) as Record<string, { Keys: Json[] }>;
      // Unprocessed keys come back with the request's projection and consistency, as DynamoDB does.
      u[table] = { ...extra, ...(u[table] ?? {}), Keys: [...(u[table]?.Keys ?? []), ...dropped] };
      out.UnprocessedKeys = u;
    } else {
      const u = ((out.UnprocessedItems as Json | undefined) ?? {}) as Record<string, Json[]>;
      u[table] = [...(u[table] ?? []), ...dropped];
      out.UnprocessedItems = u;
    }
  }

  /**
   * The hop to DynamoDB Local, on node:http with kept-alive sockets: the bench measured fetch()
   * (request cloning, web streams) at about twice the cost of this per call.
   */
  private forward(
    headers: Record<string, string>,
    body: Buffer,
  ): Promise<{ status: number; ok: boolean; contentType: string; text: string }> {
    return new Promise((resolve, reject) => {
      const req = httpRequest(
        this.upstreamUrl,
        { method: 'POST', agent: this.agent, headers: { ...headers, 'content-length': String(body.length) } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const status = res.statusCode ?? 502;
            resolve({
              status,
              ok: status >= 200 && status < 300,
              contentType: String(res.headers['content-type'] ?? 'application/x-amz-json-1.0'),
              text: Buffer.concat(chunks).toString('utf8'),
            });
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }

  private send(res: ServerResponse, status: number, body: Json): void {
    const payload = Buffer.from(JSON.stringify(body));
    res.writeHead(status, {
      'content-type': 'application/x-amz-json-1.0',
      'content-length': String(payload.length),
      'x-amz-crc32': String(crc32(payload)),
    });
    res.end(payload);
  }

  snapshot(): GateSnapshot {
    const table = this.options.tableName;
    const tables: GateTableStats[] = [];
    const metrics: GateSnapshot['metrics'] = [];
    for (const [target, t] of this.targets) {
      const index = target === 'table' ? null : target;
      const dims: Record<string, string> = index
        ? { TableName: table, GlobalSecondaryIndexName: index }
        : { TableName: table };
      tables.push({
        table,
        index,
        consumedRcu: round(t.consumed.Read),
        consumedWcu: round(t.consumed.Write),
        readThrottleEvents: t.throttles.Read,
        writeThrottleEvents: t.throttles.Write,
        throttleReasons: Object.fromEntries(t.reasons),
      });
      metrics.push(
        { name: 'ConsumedReadCapacityUnits', dimensions: dims, sum: round(t.consumed.Read), count: 1 },
        { name: 'ConsumedWriteCapacityUnits', dimensions: dims, sum: round(t.consumed.Write), count: 1 },
        { name: 'ReadThrottleEvents', dimensions: dims, sum: t.throttles.Read, count: 1 },
        { name: 'WriteThrottleEvents', dimensions: dims, sum: t.throttles.Write, count: 1 },
      );
      for (const [label, n] of t.reasons) {
        // e.g. TableWriteProvisionedThroughputExceeded -> WriteProvisionedThroughputThrottleEvents
        const m = /^(?:Table|Index)(Read|Write)(\w+?)(?:Exceeded)?$/.exec(label);
        if (m) metrics.push({ name: `${m[1]}${m[2]}ThrottleEvents`, dimensions: dims, sum: n, count: 1 });
      }
    }
    for (const [op, s] of this.opStats) {
      metrics.push({
        name: 'ThrottledRequests',
        dimensions: { TableName: table, Operation: op },
        sum: s.throttled,
        count: 1,
      });
      if (s.latency.count > 0) {
        metrics.push({
          name: 'SuccessfulRequestLatency',
          dimensions: { TableName: table, Operation: op },
          sum: round(s.latency.sum),
          count: s.latency.count,
          max: round(s.latency.max),
        });
      }
    }
    const hotKeys: HotKey[] = [...this.partitions.entries()]
      .map(([key, p]) => {
        const [target = 'table', partitionKey = ''] = key.split('\u0000');
        return {
          table,
          index: target === 'table' ? null : target,
          partitionKey,
          rcu: round(p.rcu),
          wcu: round(p.wcu),
          throttleEvents: p.throttles,
        };
      })
      .sort((a, b) => b.throttleEvents - a.throttleEvents || b.rcu + b.wcu - (a.rcu + a.wcu))
      .slice(0, 10);
    return { tables, hotKeys, metrics };
  }
}

function round(n: number): number {
  return Math.round(n * 1e6) / 1e6;
}
