import { type ChildProcess, fork } from 'node:child_process';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { PACKAGE_ROOT } from './runtime.js';

/**
 * A Lambda Invoke-compatible endpoint on loopback for the runner function: client-lambda pointed at
 * it (AWS_ENDPOINT_URL_LAMBDA) runs each invocation in a fresh process that loads the runner image's
 * entry (runner/aws/lambda-entry.mjs, as Lambda's Node runtime would) and calls its handler with a
 * context counting down to the function's timeout; it answers the way Lambda does (the result as
 * the payload; X-Amz-Function-Error with {errorType, errorMessage} on an error, crash or time-out).
 * It lets the `--target aws` path run on a machine with no AWS.
 */
export interface LocalLambdaOptions {
  readonly functionName: string;
  readonly timeoutSec?: number;
  readonly memoryMb?: number;
  /** The function's reserved concurrency (GetFunctionConcurrency); none by default. */
  readonly reservedConcurrency?: number;
  /** The working directory of the invocations (Lambda's /var/task): the repository root by default. */
  readonly cwd?: string;
  readonly env?: Record<string, string>;
}

export interface LocalLambda {
  readonly endpoint: string;
  readonly invocations: number;
  close(): Promise<void>;
}

// The package's own files, whether this runs from the sources or compiled (the entry is always tsx's).
const RUNTIME = join(PACKAGE_ROOT, 'local', 'lambda-runtime.mjs');
const ENTRY = pathToFileURL(join(PACKAGE_ROOT, 'runner', 'aws', 'lambda-entry.mjs')).href;
const ROOT = PACKAGE_ROOT;

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function json(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(text);
}

export async function startLocalLambda(options: LocalLambdaOptions): Promise<LocalLambda> {
  const timeoutSec = options.timeoutSec ?? 900;
  const children = new Set<ChildProcess>();
  let invocations = 0;

  const invoke = (payload: unknown) =>
    new Promise<{ result?: unknown; error?: { errorType: string; errorMessage: string } }>((resolve) => {
      invocations += 1;
      const started = Date.now();
      const deadline = started + timeoutSec * 1000;
      const child = fork(RUNTIME, [], {
        cwd: options.cwd ?? ROOT,
        // Plain Node, as on Lambda: the entry registers tsx itself.
        execArgv: [],
        env: { ...process.env, ...(options.env ?? {}), LOADTEST_LAMBDA_ENTRY: ENTRY },
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      });
      children.add(child);
      let result: unknown;
      let thrown: { errorType: string; errorMessage: string } | undefined;
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        child.kill('SIGKILL');
      }, timeoutSec * 1000);
      child.on(
        'message',
        (m: { type: string; outcome?: unknown; errorType?: string; errorMessage?: string }) => {
          if (m.type === 'ready') child.send({ type: 'invoke', event: payload, deadline });
          else if (m.type === 'done') result = m.outcome;
          else if (m.type === 'error')
            thrown = { errorType: m.errorType ?? 'Error', errorMessage: m.errorMessage ?? 'error' };
        },
      );
      child.on('exit', (code, signal) => {
        clearTimeout(timer);
        children.delete(child);
        if (timedOut) {
          const s = ((Date.now() - started) / 1000).toFixed(2);
          resolve({
            error: { errorType: 'Sandbox.Timedout', errorMessage: `Task timed out after ${s} seconds` },
          });
        } else if (thrown) {
          resolve({ error: thrown });
        } else if (result !== undefined) {
          resolve({ result });
        } else {
          resolve({
            error: {
              errorType: 'Runtime.ExitError',
              errorMessage: `Runtime exited with error: ${signal ? `signal: ${signal}` : `exit status ${code}`}`,
            },
          });
        }
      });
    });

  const base = `/2015-03-31/functions/${encodeURIComponent(options.functionName)}`;
  const server: Server = createServer(async (req, res) => {
    const path = (req.url ?? '').split('?')[0] ?? '';
    if (
      req.method === 'GET' &&
      path === `/2019-09-30/functions/${encodeURIComponent(options.functionName)}/concurrency`
    ) {
      return json(
        res,
        200,
        options.reservedConcurrency === undefined
          ? {}
          : { ReservedConcurrentExecutions: options.reservedConcurrency },
      );
    }
    if (!path.startsWith(base)) {
      return json(
        res,
        404,
        { Type: 'User', message: `Function not found: ${decodeURIComponent(path)}` },
        { 'x-amzn-errortype': 'ResourceNotFoundException' },
      );
    }
    if (req.method === 'GET' && path === `${base}/configuration`) {
      return json(res, 200, {
        FunctionName: options.functionName,
        Timeout: timeoutSec,
        MemorySize: options.memoryMb ?? 2048,
        Architectures: ['arm64'],
        PackageType: 'Image',
        State: 'Active',
      });
    }
    if (req.method === 'POST' && path === `${base}/invocations`) {
      let payload: unknown;
      try {
        payload = JSON.parse(await readBody(req));
      } catch {
        return json(
          res,
          400,
          { Type: 'User', message: 'Could not parse request body into json' },
          { 'x-amzn-errortype': 'InvalidRequestContentException' },
        );
      }
      const out = await invoke(payload);
      return out.error
        ? json(res, 200, out.error, { 'x-amz-function-error': 'Unhandled' })
        : json(res, 200, out.result, { 'x-amz-executed-version': '$LATEST' });
    }
    return json(res, 405, { Type: 'User', message: `${req.method} ${path} is not supported here` });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    get invocations() {
      return invocations;
    },
    async close() {
      for (const c of children) c.kill('SIGKILL');
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
