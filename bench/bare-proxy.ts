import { createServer, type Server } from 'node:http';
import { Pool } from 'undici';
import { forwardHeaders, post, readBody } from '../local/gate/upstream.js';

/**
 * The floor of the capacity gate's cost: an HTTP proxy that does nothing but pass each request to
 * DynamoDB Local and its answer back, on the gate's own transport (a node:http server, and the
 * gate's body reading, headers and undici POST from local/gate/upstream.ts). Whatever the gate adds
 * over this is its own logic; what this adds over calling DynamoDB Local directly is the price of
 * any extra hop through a Node process.
 */
export interface BareProxy {
  readonly url: string;
  close(): Promise<void>;
}

/** Answer headers not relayed: the hop's own (the length is set again). */
const NOT_RELAYED = new Set(['content-length', 'transfer-encoding', 'connection', 'keep-alive']);

export async function startBareProxy(upstream: string): Promise<BareProxy> {
  const pool = new Pool(new URL(upstream).origin, { connections: 64, pipelining: 1 });
  const server: Server = createServer((req, res) => {
    void readBody(req)
      .then((body) => post(pool, '/', forwardHeaders(req.headers), body))
      .then(
        (answer) => {
          const h: Record<string, string | string[]> = {};
          for (const k in answer.headers) {
            const v = answer.headers[k];
            if (v !== undefined && !NOT_RELAYED.has(k)) h[k] = v;
          }
          h['content-length'] = String(answer.body.length);
          res.writeHead(answer.status, h);
          res.end(answer.body);
        },
        (err: unknown) => {
          res.writeHead(502);
          res.end(String(err));
        },
      );
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address();
  const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  return {
    url,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      await pool.destroy().catch(() => {});
    },
  };
}
