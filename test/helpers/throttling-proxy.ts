import { createServer, type Server } from 'node:http';

/**
 * A stand-in for DynamoDB's throttling until the capacity gate exists: forwards to DynamoDB Local, but
 * answers the next `budget` calls of one operation with DynamoDB's real throttling error (HTTP 400,
 * ProvisionedThroughputExceededException), so the SDK's real retry logic runs against it.
 */
export interface ThrottlingProxy {
  readonly endpoint: string;
  /** Throttle the next `count` calls whose X-Amz-Target ends with `operation` (e.g. "GetItem"). */
  throttle(operation: string, count: number): void;
  readonly throttled: number;
  close(): Promise<void>;
}

export async function startThrottlingProxy(upstream: string): Promise<ThrottlingProxy> {
  const budgets = new Map<string, number>();
  let throttled = 0;
  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const target = String(req.headers['x-amz-target'] ?? '');
    const operation = target.split('.').pop() ?? '';
    const left = budgets.get(operation) ?? 0;
    if (left > 0) {
      budgets.set(operation, left - 1);
      throttled += 1;
      res.writeHead(400, { 'content-type': 'application/x-amz-json-1.0' });
      res.end(
        JSON.stringify({
          __type: 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException',
          message: 'The level of configured provisioned throughput for the table was exceeded.',
        }),
      );
      return;
    }
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers))
      if (typeof v === 'string' && k !== 'host') headers[k] = v;
    const up = await fetch(upstream, { method: req.method ?? 'POST', headers, body: Buffer.concat(chunks) });
    const body = Buffer.from(await up.arrayBuffer());
    res.writeHead(up.status, {
      'content-type': up.headers.get('content-type') ?? 'application/x-amz-json-1.0',
    });
    res.end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    throttle: (operation, count) => budgets.set(operation, count),
    get throttled() {
      return throttled;
    },
    close: () => new Promise((r) => server.close(() => r())),
  };
}
