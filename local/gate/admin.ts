import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { gateCapacitySchema, mergeCapacity } from './capacity-config.js';
import type { CapacityGate, GateSnapshot } from './gate.js';
import type { GateCapacity } from './policy.js';
import type { TableSchema } from './schema.js';

/**
 * The gate's admin endpoint, on its own loopback port so apps never see it: `loadtest run`,
 * `dashboard` and `report` read the counters from any process.
 *
 *   GET  /snapshot   every counter (GateSnapshot, JSON); ?keys=0 without the partition-key load
 *   GET  /tables     the schemas it learned and the capacity it enforces
 *   POST /reset      new run: counters to zero, buckets full; body {"capacity": {...}} to set the
 *                    capacity, with "merge": true to set only what it names over the current one
 *   GET  /health     200
 */
const MAX_BODY = 64 * 1024;

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(text);
}

async function readBody(req: IncomingMessage): Promise<string> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > MAX_BODY) throw new Error(`body over ${MAX_BODY} bytes`);
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export async function serveAdmin(gate: CapacityGate, port: number): Promise<{ server: Server; url: string }> {
  let allowedHosts = new Set<string>();
  const server = createServer((req, res) => {
    // Loopback only; the Host check also keeps a web page (DNS rebinding) from driving it.
    if (!allowedHosts.has(req.headers.host ?? '')) return json(res, 421, { error: 'misdirected request' });
    const path = (req.url ?? '/').split('?')[0];
    const route = `${req.method} ${path}`;
    if (route === 'GET /health') return json(res, 200, { ok: true });
    // Counters as of every call answered so far: a PartiQL SELECT is counted just after its answer.
    if (route === 'GET /snapshot') {
      void gate
        .settled()
        .then(() => json(res, 200, gate.snapshot({ keys: !/[?&]keys=0(&|$)/.test(req.url ?? '') })));
      return;
    }
    if (route === 'GET /tables')
      return json(res, 200, { tables: gate.tables(), capacity: gate.snapshot().capacity });
    if (route === 'POST /reset') {
      readBody(req).then(
        (text) => {
          let capacity: GateCapacity | undefined;
          if (text.trim() !== '') {
            let parsed: unknown;
            try {
              parsed = JSON.parse(text);
            } catch {
              return json(res, 400, { error: 'body: not JSON' });
            }
            const c = gateCapacitySchema.safeParse((parsed as { capacity?: unknown } | null)?.capacity ?? {});
            if (!c.success) {
              const issue = c.error.issues[0];
              return json(res, 400, {
                error: `capacity.${issue?.path.join('.') || ''}: ${issue?.message ?? 'invalid'}`,
              });
            }
            if ((parsed as { capacity?: unknown }).capacity !== undefined) capacity = c.data;
            if (capacity && (parsed as { merge?: unknown }).merge === true)
              capacity = mergeCapacity(gate.capacity, capacity);
          }
          // Calls answered before the reset are the old window's, even those still being counted.
          return gate.settled().then(() => {
            gate.reset(capacity);
            json(res, 200, { ok: true, capacity: gate.capacity });
          });
        },
        (err: Error) => json(res, 413, { error: err.message }),
      );
      return;
    }
    if (['/health', '/snapshot', '/tables', '/reset'].includes(path ?? ''))
      return json(res, 405, { error: `${req.method} not allowed on ${path}` });
    return json(res, 404, { error: `no route ${path}` });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const addr = server.address();
  const actual = typeof addr === 'object' && addr ? addr.port : port;
  allowedHosts = new Set([`127.0.0.1:${actual}`, `localhost:${actual}`]);
  return { server, url: `http://127.0.0.1:${actual}` };
}

export class GateUnreachable extends Error {
  override name = 'GateUnreachable';
}

/** Reads and resets a gate through its admin endpoint, from any process. */
export class GateAdmin {
  constructor(readonly url: string) {}

  private async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    let res: Response;
    try {
      res = await fetch(`${this.url}${path}`, {
        method,
        signal: AbortSignal.timeout(5000),
        ...(body !== undefined
          ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }
          : {}),
      });
    } catch (err) {
      throw new GateUnreachable(
        `the capacity gate's admin endpoint ${this.url} does not answer: ${(err as Error).message}`,
        {
          cause: err,
        },
      );
    }
    const text = await res.text();
    if (!res.ok)
      throw new GateUnreachable(`${method} ${this.url}${path}: HTTP ${res.status}: ${text.slice(0, 200)}`);
    return JSON.parse(text) as T;
  }

  /** `keys: false`: without the partition-key load (cheaper, for polls). */
  snapshot(options: { keys?: boolean } = {}): Promise<GateSnapshot> {
    return this.request('GET', options.keys === false ? '/snapshot?keys=0' : '/snapshot');
  }

  tables(): Promise<{ tables: TableSchema[] }> {
    return this.request('GET', '/tables');
  }

  /** A new run's counters; `capacity` replaces what the gate enforces, or with `merge` goes over it. */
  async reset(capacity?: GateCapacity, options: { merge?: boolean } = {}): Promise<GateCapacity> {
    const out = await this.request<{ capacity: GateCapacity }>(
      'POST',
      '/reset',
      capacity ? { capacity, ...(options.merge ? { merge: true } : {}) } : {},
    );
    return out.capacity;
  }
}
