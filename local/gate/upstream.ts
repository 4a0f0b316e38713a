import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { Dispatcher, Pool } from 'undici';

/**
 * The gate's transport, without its logic: reading a call's body, the headers passed on, and the
 * POST to DynamoDB on undici's dispatcher (no response stream, no fetch: the bench measured
 * node:http's ClientRequest at ~20% more CPU per call). The bench's do-nothing proxy runs on these
 * same pieces, so what the gate costs over it is its own logic.
 */
export interface Upstream {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/**
 * Request headers not passed on: the hop's own (undici sets host, length and connection, and
 * refuses the others).
 */
const HOP_HEADERS = new Set([
  'host',
  'content-length',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'upgrade',
  'expect',
  'proxy-connection',
]);

/** The request headers to pass on: every single-valued one but the hop's own and `drop` (a tag of ours). */
export function forwardHeaders(given: IncomingHttpHeaders, drop?: string): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const k in given) {
    const v = given[k];
    if (typeof v !== 'string' || HOP_HEADERS.has(k) || k === drop) continue;
    headers[k] = v;
  }
  return headers;
}

const EMPTY = Buffer.alloc(0);

/** A body's chunks: one chunk (the usual case for a DynamoDB call) is kept as it came, more joined once. */
class Chunks {
  private first: Buffer | undefined;
  private more: Buffer[] | undefined;

  add(c: Buffer): void {
    if (this.first === undefined) this.first = c;
    else if (this.more) this.more.push(c);
    else this.more = [this.first, c];
  }

  bytes(): Buffer {
    return this.more ? Buffer.concat(this.more) : (this.first ?? EMPTY);
  }
}

export function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks = new Chunks();
    req.on('data', (c: Buffer) => chunks.add(c));
    req.on('end', () => resolve(chunks.bytes()));
    req.on('error', reject);
  });
}

/** POSTs `body` to `path` on the pool: the answer's status, headers and bytes. Sets content-length. */
export function post(
  pool: Pool,
  path: string,
  headers: Record<string, string>,
  body: Buffer,
): Promise<Upstream> {
  headers['content-length'] = String(body.length);
  return new Promise((resolve, reject) => {
    let status = 502;
    let answerHeaders: IncomingHttpHeaders = {};
    const chunks = new Chunks();
    const handler: Dispatcher.DispatchHandler = {
      // Marks the handler as undici 7's kind (without it, dispatch asks for the older callbacks).
      onRequestStart() {},
      onResponseStart(_controller, statusCode, h) {
        status = statusCode;
        answerHeaders = h;
      },
      onResponseData(_controller, chunk) {
        chunks.add(chunk);
      },
      onResponseEnd() {
        resolve({ status, headers: answerHeaders, body: chunks.bytes() });
      },
      onResponseError(_controller, err) {
        reject(err);
      },
    };
    pool.dispatch({ path, method: 'POST', headers, body }, handler);
  });
}
