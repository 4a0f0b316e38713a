import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { type Dispatcher, Pool } from 'undici';

/**
 * The floor of the capacity gate's cost: an HTTP proxy that does nothing but pass each request to
 * DynamoDB Local and its answer back, on the same transport as the gate (node:http server, undici
 * pool to the upstream). Whatever the gate adds over this is its own logic; what this adds over
 * calling DynamoDB Local directly is the price of any extra hop through a Node process.
 */
export interface BareProxy {
  readonly url: string;
  close(): Promise<void>;
}

const NOT_FORWARDED = new Set(['host', 'content-length', 'transfer-encoding', 'connection', 'keep-alive']);

export async function startBareProxy(upstream: string): Promise<BareProxy> {
  const pool = new Pool(new URL(upstream).origin, { connections: 64, pipelining: 1 });
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const headers: Record<string, string> = {};
      for (const k in req.headers) {
        const v = req.headers[k];
        if (typeof v === 'string' && !NOT_FORWARDED.has(k)) headers[k] = v;
      }
      const out: Buffer[] = [];
      let status = 502;
      let answer: IncomingHttpHeaders = {};
      const handler: Dispatcher.DispatchHandler = {
        onRequestStart() {},
        onResponseStart(_c, code, h) {
          status = code;
          answer = h;
        },
        onResponseData(_c, chunk) {
          out.push(chunk);
        },
        onResponseEnd() {
          const body = Buffer.concat(out);
          const h: Record<string, string | string[]> = {};
          for (const k in answer) {
            const v = answer[k];
            if (v !== undefined && !NOT_FORWARDED.has(k)) h[k] = v;
          }
          h['content-length'] = String(body.length);
          res.writeHead(status, h);
          res.end(body);
        },
        onResponseError(_c, err) {
          res.writeHead(502);
          res.end(String(err));
        },
      };
      pool.dispatch({ path: '/', method: 'POST', headers, body: Buffer.concat(chunks) }, handler);
    });
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
