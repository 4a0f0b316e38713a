import { Readable } from 'node:stream';
import type { HttpRequest, HttpResponse, RequestHandler } from '@smithy/types';

/**
 * Replays recorded AWS HTTP responses to a real SDK client and keeps the requests it serialized:
 * the SDK's own serializers and parsers run, only the network is replaced (no AWS account here).
 */
export interface Recorded {
  readonly status: number;
  readonly headers?: Record<string, string>;
  readonly body: string;
}

export interface SeenRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body: string;
}

export class RecordedHttpHandler implements RequestHandler<HttpRequest, HttpResponse> {
  readonly seen: SeenRequest[] = [];

  constructor(private readonly respond: (req: SeenRequest) => Recorded) {}

  async handle(request: HttpRequest): Promise<{ response: HttpResponse }> {
    const body =
      request.body === undefined
        ? ''
        : typeof request.body === 'string'
          ? request.body
          : Buffer.from(request.body as Uint8Array).toString('utf8');
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(request.headers)) headers[k.toLowerCase()] = v;
    const seen = { method: request.method, path: request.path, headers, body };
    this.seen.push(seen);
    const r = this.respond(seen);
    return {
      response: {
        statusCode: r.status,
        headers: { 'content-length': String(Buffer.byteLength(r.body)), ...(r.headers ?? {}) },
        body: Readable.from([Buffer.from(r.body)]),
      },
    };
  }
}

export const TEST_CREDENTIALS = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'test-secret' };
