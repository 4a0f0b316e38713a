import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A small HTTP target for scripts written for Artillery: POST /login hands out a token, GET /me
 * wants it (401 without), GET /fail answers 500, GET /soft answers 200 {"success": false}, POST
 * /once/<key> answers 201 the first time it sees a key and 409 after (so a run shows how many keys it
 * sent). It counts what it served, so a test can tell which requests reached it. Loopback only.
 */
export interface AuthTarget {
  readonly url: string;
  readonly served: Map<string, number>;
  close(): Promise<void>;
}

export async function startAuthTarget(): Promise<AuthTarget> {
  const served = new Map<string, number>();
  const tokens = new Set<string>();
  const keys = new Set<string>();
  let next = 0;
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const route = `${req.method} ${path}`;
    served.set(route, (served.get(route) ?? 0) + 1);
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    req.resume();
    req.on('end', () => {
      if (route === 'POST /login') {
        next += 1;
        const token = `t${next}`;
        tokens.add(token);
        return send(200, { token });
      }
      if (route === 'GET /me') {
        const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
        return token && tokens.has(token)
          ? send(200, { user: 'u1', token })
          : send(401, { error: 'no token' });
      }
      if (req.method === 'POST' && path.startsWith('/once/')) {
        const known = keys.has(path);
        keys.add(path);
        return send(known ? 409 : 201, {});
      }
      if (route === 'GET /fail') return send(500, { error: 'boom' });
      if (route === 'GET /soft') return send(200, { success: false });
      if (route === 'GET /ok') return send(200, { success: true, items: [1, 2, 3] });
      if (route === 'GET /page') {
        res.writeHead(200, { 'content-type': 'text/html' });
        return res.end('<html><body><a class="next" href="/followed">next</a></body></html>');
      }
      if (route === 'GET /followed') return send(200, { followed: true });
      return send(404, { error: `no route ${route}` });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    served,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
