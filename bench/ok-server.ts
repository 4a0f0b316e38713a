/**
 * Child-process entry of bench/load-efficiency.ts and bench/scale.ts: the most trivial HTTP target
 * there is, so a load generator's own cost is what a run measures. Listens on 127.0.0.1 (a free
 * port), answers every request 200 "ok" (including GET /health, which `loadtest run --url` checks)
 * except /__metrics*, which answers 404 so the CLI sees a target without app metrics, and /__bench*.
 * Prints `port N` once listening; exits when its stdin ends (the bench is gone) or on SIGTERM.
 *
 * The load itself (every request but /health, /__* and the CLI's reachability check) is counted per BUCKET_MS since the first
 * one, so a bench reads the rate a tool reached at the target, the same way for every tool:
 * GET /__bench/stats answers `{ count, bucketMs, buckets }` and GET /__bench/reset starts over.
 */
import { createServer } from 'node:http';

const BUCKET_MS = 100;
let first: number | undefined;
let count = 0;
let buckets: number[] = [];

const server = createServer((req, res) => {
  const url = req.url ?? '/';
  if (url.startsWith('/__bench')) {
    if (url === '/__bench/reset') {
      first = undefined;
      count = 0;
      buckets = [];
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ count, bucketMs: BUCKET_MS, buckets }));
    return;
  }
  if (url.startsWith('/__metrics')) {
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('no metrics');
    return;
  }
  // Not load: the health check, the bench's own paths, and `loadtest run --url`'s one reachability
  // check (GET / with the CLI's check user-agent, CHECK_USER_AGENT in local/process.ts). It was
  // fetch's "node" once; since the check uses node:http, it was counted as load (10,001 of 10,000).
  if (url !== '/health' && !url.startsWith('/__') && req.headers['user-agent'] !== 'dynamo-loadtest-check') {
    const now = performance.now();
    first ??= now;
    const at = Math.floor((now - first) / BUCKET_MS);
    while (buckets.length <= at) buckets.push(0);
    buckets[at] = (buckets[at] ?? 0) + 1;
    count += 1;
  }
  res.writeHead(200, { 'content-type': 'text/plain' });
  res.end('ok');
});

server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  process.stdout.write(`port ${port}\n`);
});

const bye = () => process.exit(0);
process.stdin.on('end', bye);
process.stdin.on('error', bye);
process.stdin.resume();
process.on('SIGTERM', bye);
