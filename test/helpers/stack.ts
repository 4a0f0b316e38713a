import { type EmbeddedStack, startEmbeddedStack } from '../../local/index.js';

/** A real embedded stack (DynamoDB Local + seeded app on 127.0.0.1) for one test file. */
export async function startTestStack(
  seed: { products?: number; users?: number } | false = { products: 12, users: 4 },
) {
  return startEmbeddedStack({ port: 0, seed });
}

export type Api = (
  method: string,
  path: string,
  options?: { body?: unknown; token?: string; raw?: string; headers?: Record<string, string> },
) => Promise<{
  status: number;
  headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: tests read JSON answers of many shapes.
  body: any;
}>;

/** A small fetch wrapper: JSON in, JSON (or text) out. */
export function api(stack: EmbeddedStack): Api {
  return async (method, path, options = {}) => {
    const headers: Record<string, string> = { ...options.headers };
    let body: string | undefined;
    if (options.raw !== undefined) body = options.raw;
    else if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers['content-type'] ??= 'application/json';
    }
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    const res = await fetch(`${stack.appUrl}${path}`, {
      method,
      headers,
      ...(body !== undefined ? { body } : {}),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {}
    return { status: res.status, headers: res.headers, body: parsed };
  };
}

/** Registers a fresh user and returns a token for it. */
export async function newUser(call: Api, email: string, name = 'Test User'): Promise<string> {
  const reg = await call('POST', '/api/users', { body: { email, name } });
  if (reg.status !== 201) throw new Error(`register ${email}: ${reg.status} ${JSON.stringify(reg.body)}`);
  const tok = await call('POST', '/api/dev/token', { body: { email } });
  return tok.body.token as string;
}
