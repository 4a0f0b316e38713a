import { request } from 'node:http';

/**
 * DynamoDB's JSON protocol by hand: a call with exactly this body and the answer's bytes as they
 * came (status, headers, text), for tests that compare what the gate sends with what DynamoDB Local
 * sends. DynamoDB Local checks that a signature is there, not what it says.
 */
export interface WireAnswer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
  readonly json: Record<string, unknown>;
}

export function wireCall(
  endpoint: string,
  op: string,
  body: unknown,
  extraHeaders: Record<string, string> = {},
): Promise<WireAnswer> {
  const payload = Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const req = request(
      endpoint,
      {
        method: 'POST',
        headers: {
          'content-type': 'application/x-amz-json-1.0',
          'content-length': String(payload.length),
          'x-amz-target': `DynamoDB_20120810.${op}`,
          authorization:
            'AWS4-HMAC-SHA256 Credential=wire/20261130/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0',
          ...extraHeaders,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: Record<string, unknown> = {};
          try {
            json = JSON.parse(text || '{}') as Record<string, unknown>;
          } catch {}
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}
