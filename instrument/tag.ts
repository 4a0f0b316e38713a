import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * Names the access pattern of DynamoDB calls, for the capacity gate: the header below goes on every
 * request a tagged call sends (retries included), and the gate strips it before DynamoDB sees it.
 * Optional: with no tag, the gate names a call by the project's rules, else by its shape.
 *
 *   const ddb = instrument(new DynamoDBClient({}));
 *   await withPattern('getOrder', () => ddb.send(new GetItemCommand(...)));
 *
 * Any client whose SDK lets you add a header can do the same (boto3: an event handler on
 * `before-sign.dynamodb`; the Java and Go SDKs: an interceptor or middleware).
 */
export const PATTERN_HEADER = 'x-loadtest-pattern';

const current = new AsyncLocalStorage<string>();

/** Runs `fn` with every DynamoDB call made inside it (awaited or not) named `pattern`. */
export function withPattern<T>(pattern: string, fn: () => T): T {
  return current.run(pattern, fn);
}

/** The pattern the calling code runs under, if any. */
export function currentPattern(): string | undefined {
  return current.getStore();
}

/** What `instrument` needs of an AWS SDK v3 client: its middleware stack. */
export interface MiddlewareClient {
  readonly middlewareStack: { add(...args: never[]): unknown };
}

interface BuildArgs {
  request: unknown;
}

/** The one call `instrument` makes on the stack, typed as the SDK defines it (loosely). */
interface AddBuild {
  add(
    middleware: (next: (args: BuildArgs) => Promise<unknown>) => (args: BuildArgs) => Promise<unknown>,
    options: { step: 'build'; name: string; override: boolean },
  ): void;
}

/**
 * Names one command's pattern (every attempt of it carries the header), with no AsyncLocalStorage:
 * for code that builds its commands in one place, as a data-access layer does.
 */
export function tagCommand<C extends MiddlewareClient>(command: C, pattern: string): C {
  (command.middlewareStack as unknown as AddBuild).add(
    (next) => async (args) => {
      if (hasHeaders(args.request)) args.request.headers[PATTERN_HEADER] = pattern;
      return next(args);
    },
    // lib-dynamodb runs a command's stack inside the client's; override keeps one copy.
    { step: 'build', name: 'loadtestPatternTag', override: true },
  );
  return command;
}

function hasHeaders(request: unknown): request is { headers: Record<string, string> } {
  return (
    typeof request === 'object' &&
    request !== null &&
    typeof (request as { headers?: unknown }).headers === 'object'
  );
}

/**
 * Adds the pattern header to every request the client builds inside `withPattern`. Returns the
 * same client. Document clients (lib-dynamodb) built from it share its middleware, so they are
 * covered too. Outside `withPattern` nothing is added and the client behaves as before.
 *
 * Cost: on Node 20 and 22 an AsyncLocalStorage's first `run` turns on the runtime's promise hooks
 * for the whole process, which makes every await about twice as slow (measured: 2.1 -> 4.5 µs for
 * 20 awaits). Where that matters, tag the commands themselves with `tagCommand` instead.
 */
export function instrument<C extends MiddlewareClient>(client: C): C {
  (client.middlewareStack as unknown as AddBuild).add(
    (next) => async (args) => {
      const pattern = current.getStore();
      if (pattern !== undefined && hasHeaders(args.request)) args.request.headers[PATTERN_HEADER] = pattern;
      return next(args);
    },
    // The build step comes before the retry loop and signing: every attempt carries the header.
    { step: 'build', name: 'loadtestPatternHeader', override: true },
  );
  return client;
}
