/**
 * Child-process entry of bench/load-efficiency.ts: the most trivial HTTP target there is, so a load
 * generator's own cost is what a run measures. Listens on 127.0.0.1 (a free port), answers every
 * request 200 "ok" (including GET /health, which `loadtest run --url` checks) except /__metrics*,
 * which answers 404 so the CLI sees a target without app metrics. Prints `port N` once listening;
 * exits when its stdin ends (the bench is gone) or on SIGTERM.
 */
import { createServer } from 'node:http';

const server = createServer((req, res) => {
  if (req.url?.startsWith('/__metrics')) {
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('no metrics');
    return;
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
