/**
 * Child-process entry of bench/load.ts (LoadDriver): says `ready`, then runs the jobs it receives
 * over IPC one at a time and answers each with its LoadResult. SDK clients are kept per endpoint
 * across jobs (like the app keeps its own), and closed when the process ends.
 */
import './env.js';
import { performance } from 'node:perf_hooks';
import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import autocannon from 'autocannon';
import { Client } from 'undici';
import { createDynamoClients } from '../app/index.js';
import { marshallItem, type TableItem } from '../runner/data/index.js';
import type {
  DriverMessage,
  DriverRequest,
  HttpJob,
  LoadResult,
  LoadWindow,
  SdkJob,
  SdkSequenceJob,
} from './load.js';

class Window {
  readonly startsAt: number;
  readonly endsAt: number;
  private readonly latencies: number[] = [];
  private readonly cpu = process.cpuUsage();
  ops = 0;
  totalOps = 0;

  constructor(job: LoadWindow, now = performance.now()) {
    this.startsAt = now + job.warmupMs;
    this.endsAt = this.startsAt + job.durationMs;
  }

  /** Records one completion (at `at`, took `ms`) if it falls inside the measured window. */
  complete(at: number, ms: number): void {
    this.totalOps += 1;
    if (at < this.startsAt || at > this.endsAt) return;
    this.ops += 1;
    this.latencies.push(ms);
  }

  summary(): Pick<LoadResult, 'ops' | 'seconds' | 'opsPerSec' | 'latencyMs' | 'totalOps' | 'driverCpuMs'> {
    const cpu = process.cpuUsage(this.cpu);
    const seconds = (this.endsAt - this.startsAt) / 1000;
    return {
      ops: this.ops,
      seconds,
      opsPerSec: this.ops / seconds,
      totalOps: this.totalOps,
      driverCpuMs: (cpu.user + cpu.system) / 1000,
      latencyMs: latencySummary(this.latencies),
    };
  }
}

function latencySummary(latencies: readonly number[]): LoadResult['latencyMs'] {
  const sorted = [...latencies].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
  const mean = sorted.length ? sorted.reduce((s, v) => s + v, 0) / sorted.length : Number.NaN;
  return { p50: at(0.5), p99: at(0.99), mean };
}

function describe(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

const clients = new Map<string, ReturnType<typeof createDynamoClients>>();

function clientFor(endpoint: string) {
  let c = clients.get(endpoint);
  if (!c) {
    c = createDynamoClients({ endpoint });
    clients.set(endpoint, c);
  }
  return c;
}

async function runSdk(job: SdkJob): Promise<LoadResult> {
  const { doc } = clientFor(job.endpoint);
  const inputs = job.inputs;
  if (inputs.length === 0) throw new Error('sdk job without inputs');
  const build =
    job.command === 'Get'
      ? (i: number) => new GetCommand(inputs[i] as never)
      : (i: number) => new QueryCommand(inputs[i] as never);
  const correct =
    job.expect === 'item'
      ? (out: { Item?: unknown }) => out.Item !== undefined
      : (out: { Items?: unknown[] }) => (out.Items?.length ?? 0) > 0;
  const window = new Window(job);
  let next = 0;
  let errors = 0;
  let firstError: string | undefined;
  const loop = async () => {
    while (performance.now() < window.endsAt) {
      const i = next++ % inputs.length;
      const started = performance.now();
      try {
        const out = (await doc.send(build(i) as GetCommand)) as { Item?: unknown; Items?: unknown[] };
        if (!correct(out)) {
          errors += 1;
          firstError ??= `input ${i}: answer has no ${job.expect}`;
        }
      } catch (err) {
        errors += 1;
        firstError ??= describe(err);
      }
      const done = performance.now();
      window.complete(done, done - started);
    }
  };
  await Promise.all(Array.from({ length: job.concurrency }, loop));
  return { ...window.summary(), errors, non2xx: 0, statusCodes: {}, ...(firstError ? { firstError } : {}) };
}

/** One call of a sequence: resolves true when the answer holds what the job expects. */
type Send = (i: number) => Promise<boolean>;

function sdkSender(job: SdkSequenceJob): Send {
  const { doc } = clientFor(job.endpoint);
  const inputs = job.inputs;
  const build =
    job.command === 'Get'
      ? (i: number) => new GetCommand(inputs[i] as never)
      : (i: number) => new QueryCommand(inputs[i] as never);
  const correct =
    job.expect === 'item'
      ? (out: { Item?: unknown }) => out.Item !== undefined
      : (out: { Items?: unknown[] }) => (out.Items?.length ?? 0) > 0;
  return async (i) => correct((await doc.send(build(i) as GetCommand)) as { Item?: unknown });
}

const rawClients = new Map<string, Client>();

function rawSender(job: SdkSequenceJob): Send {
  let client = rawClients.get(job.endpoint);
  if (!client) {
    client = new Client(job.endpoint);
    rawClients.set(job.endpoint, client);
  }
  const http = client;
  const headers = {
    'content-type': 'application/x-amz-json-1.0',
    'x-amz-target': `DynamoDB_20120810.${job.command === 'Get' ? 'GetItem' : 'Query'}`,
    'x-amz-date': '20260101T000000Z',
    authorization:
      'AWS4-HMAC-SHA256 Credential=bench/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host;x-amz-date, Signature=0',
  };
  const bodies = job.inputs.map((input) => {
    const { Key, ExpressionAttributeValues, ...rest } = input;
    return JSON.stringify({
      ...rest,
      // With the options the app's DocumentClient marshals with.
      ...(Key ? { Key: marshallItem(Key as TableItem) } : {}),
      ...(ExpressionAttributeValues
        ? { ExpressionAttributeValues: marshallItem(ExpressionAttributeValues as TableItem) }
        : {}),
    });
  });
  const holds = job.expect === 'item' ? '"Item":' : '"Items":[{';
  return async (i) => {
    const res = await http.request({ method: 'POST', path: '/', headers, body: bodies[i] });
    const text = await res.body.text();
    if (res.statusCode !== 200) throw new Error(`HTTP ${res.statusCode}: ${text.slice(0, 200)}`);
    return text.includes(holds);
  };
}

async function runSdkSequence(job: SdkSequenceJob): Promise<LoadResult> {
  const inputs = job.inputs;
  if (inputs.length === 0) throw new Error('sdk-sequence job without inputs');
  if (!(job.calls > 0)) throw new Error('sdk-sequence job without calls');
  const send = job.client === 'raw' ? rawSender(job) : sdkSender(job);
  const cpu = process.cpuUsage();
  const latencies: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  const total = job.warmupCalls + job.calls;
  let measuredFrom = performance.now();
  for (let n = 0; n < total; n += 1) {
    if (n === job.warmupCalls) measuredFrom = performance.now();
    const i = n % inputs.length;
    const started = performance.now();
    try {
      if (!(await send(i))) {
        errors += 1;
        firstError ??= `input ${i}: answer has no ${job.expect}`;
      }
    } catch (err) {
      errors += 1;
      firstError ??= describe(err);
    }
    if (n >= job.warmupCalls) latencies.push(performance.now() - started);
  }
  const seconds = (performance.now() - measuredFrom) / 1000;
  const used = process.cpuUsage(cpu);
  return {
    ops: latencies.length,
    seconds,
    opsPerSec: latencies.length / seconds,
    totalOps: total,
    driverCpuMs: (used.user + used.system) / 1000,
    latencyMs: latencySummary(latencies),
    errors,
    non2xx: 0,
    statusCodes: {},
    ...(firstError ? { firstError } : {}),
  };
}

function runHttp(job: HttpJob): Promise<LoadResult> {
  const requests = job.requests;
  if (requests.length === 0) return Promise.reject(new Error('http job without requests'));
  let next = 0;
  let errors = 0;
  let firstError: string | undefined;
  const statusCodes: Record<string, number> = {};
  return new Promise((resolve, reject) => {
    // autocannon opens its connections and sends the first requests synchronously in this call.
    const window = new Window(job);
    const instance = autocannon(
      {
        url: job.baseUrl,
        connections: job.concurrency,
        pipelining: 1,
        // A little past the window, so the last completions inside it are seen.
        duration: (job.warmupMs + job.durationMs + 250) / 1000,
        // One shared cursor over the list, like the SDK loop (not each connection in lock-step).
        requests: [
          {
            setupRequest: (req) => {
              const r = requests[next++ % requests.length] ?? requests[0];
              return { ...req, method: r?.method ?? 'GET', path: r?.path ?? '/' };
            },
          },
        ],
      },
      (err, result) => {
        if (err) return reject(err instanceof Error ? err : new Error(describe(err)));
        // autocannon's own counters (the whole run) must agree with ours on errors.
        errors = Math.max(errors, result.errors);
        const non2xx = Object.entries(statusCodes).reduce(
          (s, [code, n]) => (code.startsWith('2') ? s : s + n),
          0,
        );
        resolve({ ...window.summary(), errors, non2xx, statusCodes, ...(firstError ? { firstError } : {}) });
      },
    );
    instance.on('response', (_client, statusCode, _bytes, responseTime) => {
      const code = String(statusCode);
      statusCodes[code] = (statusCodes[code] ?? 0) + 1;
      if (!code.startsWith('2')) firstError ??= `HTTP ${code}`;
      window.complete(performance.now(), responseTime);
    });
    instance.on('reqError', (err) => {
      errors += 1;
      firstError ??= describe(err);
    });
  });
}

function reply(msg: DriverMessage): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send) return resolve();
    process.send(msg, () => resolve());
  });
}

let queue = Promise.resolve();
process.on('message', ({ id, job }: DriverRequest) => {
  queue = queue
    .then(() =>
      job.kind === 'sdk' ? runSdk(job) : job.kind === 'sdk-sequence' ? runSdkSequence(job) : runHttp(job),
    )
    .then(
      (result) => reply({ type: 'result', id, result }),
      (err) => reply({ type: 'error', id, message: describe(err) }),
    );
});
const bye = () => {
  for (const c of clients.values()) c.raw.destroy();
  for (const c of rawClients.values()) void c.destroy();
  process.exit(0);
};
process.on('SIGTERM', bye);
// The parent is gone: nothing left to answer to.
process.on('disconnect', bye);
void reply({ type: 'ready' });
