/**
 * Domain errors. AWS errors are translated into these at the data-access edge, and the HTTP edge
 * maps each to one status code. Anything else is a server fault.
 */
export class DomainError extends Error {
  constructor(
    message: string,
    readonly context: Record<string, unknown> = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }

  /** A correct answer of the pattern (not found, already exists), as opposed to a failure. */
  get expected(): boolean {
    return true;
  }
}

/** The request itself is wrong: names the field and the problem. */
export class InvalidInput extends DomainError {}
export class NotFound extends DomainError {}
export class AlreadyExists extends DomainError {}
/** The state the request relied on changed or does not allow it (empty or changed cart). */
export class Conflict extends DomainError {}
export class Unauthorized extends DomainError {}
/** DynamoDB kept throttling after the SDK's retries: the client should come back later. */
export class Throttled extends DomainError {
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
    context: Record<string, unknown> = {},
    options?: { cause?: unknown },
  ) {
    super(message, context, options);
  }

  override get expected(): boolean {
    return false;
  }
}
/** The database could not be reached or failed: not the client's fault, and worth a retry. */
export class Unavailable extends DomainError {
  override get expected(): boolean {
    return false;
  }
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'UND_ERR_SOCKET',
]);

/** Translates what the SDK threw into a domain error where one fits; other errors pass unchanged. */
export function translateAwsError(err: unknown, isThrottle: (e: unknown) => boolean): unknown {
  if (err instanceof DomainError) return err;
  if (isThrottle(err)) {
    return new Throttled('DynamoDB is throttling this access pattern; retry later', 1, {}, { cause: err });
  }
  if (err instanceof Error) {
    const e = err as Error & { code?: string; $metadata?: { httpStatusCode?: number }; $fault?: string };
    const status = e.$metadata?.httpStatusCode ?? 0;
    if (
      (e.code !== undefined && NETWORK_CODES.has(e.code)) ||
      e.name === 'TimeoutError' ||
      status >= 500 ||
      (e.$fault === 'server' && status === 0)
    ) {
      return new Unavailable(`the database is unavailable: ${e.message}`, {}, { cause: err });
    }
  }
  return err;
}
