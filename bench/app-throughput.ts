/**
 * Section "app vs direct SDK throughput": how much of DynamoDB Local's throughput the shop app keeps
 * once HTTP, Fastify, validation, per-pattern instrumentation and JSON are in the way.
 *
 * Method
 * - One embedded stack (DynamoDB Local + seeded shop app on 127.0.0.1, in this process) for the whole
 *   section. This process only hosts the app: it generates no load itself.
 * - Every measurement is a closed loop with the same number of operations in flight (CONCURRENCY),
 *   run in a *separate* Node process (bench/load-driver.ts), so the load generator never shares the
 *   app's event loop. It runs WARMUP (same connections, not counted) and then counts the operations
 *   that complete inside the next DURATION: ops/s = completions / DURATION.
 *     - app:    autocannon (the cheapest HTTP client at hand) with CONCURRENCY connections, each
 *               request taking the next path from one shared list (all seeded ids / categories).
 *     - direct: the app's own client factory (createDynamoClients) with CONCURRENCY async loops,
 *               sending the very request the app sends for the pattern, ReturnConsumedCapacity
 *               included, cycling over the same ids / categories. So both sides ask DynamoDB Local
 *               for the same work, and the ratio prices only the app's own layer.
 * - ratio = app ops/s / direct ops/s; goal >= GOAL.
 * - Fairness on a small machine (2 cores here): DynamoDB Local (Java) shares the cores with everyone.
 *   In the direct run, two processes compete (SDK loop, Java); in the app run three do (autocannon,
 *   app, Java). That extra hop *is* what the app costs, so it stays in; autocannon keeps the client
 *   side of it as small as it can be. Absolute ops/s mean nothing across machines: read the ratio.
 * - Order effects (JIT warming in Java and Node, GC) are reduced by the warm-up and, with
 *   BENCH_ROUNDS > 1, by alternating which side goes first; the figure is the median over rounds.
 * - Validity: before any load, one answer of each pattern from the app is compared with the direct
 *   answer (same item, same 20 ids in the same order). During load, every non-2xx answer, HTTP
 *   error or timeout, SDK error or empty answer is counted (warm-up included); any of them marks the
 *   row invalid (shown, never hidden).
 *
 * Knobs (environment): BENCH_DURATION_S (5), BENCH_WARMUP_S (1), BENCH_CONCURRENCY (16),
 * BENCH_ROUNDS (1).
 */
import { type DynamoDBDocumentClient, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { createDynamoClients, keys } from '../app/index.js';
import { startEmbeddedStack } from '../local/index.js';
import { type HttpJob, type LoadResult, type LoadWindow, runLoad, type SdkJob } from './load.js';
import type { BenchContext, BenchSection, Goal, SectionRow } from './types.js';

const GOAL: Goal = { op: '>=', ratio: 0.8 };
const LIST_LIMIT = 20;

function envNumber(name: string, fallback: number, min: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min) throw new Error(`${name}=${raw}: expected a number >= ${min}`);
  return n;
}

/** One access pattern measured both ways. */
interface PatternCase {
  readonly pattern: string;
  readonly http: Omit<HttpJob, keyof LoadWindow | 'kind' | 'baseUrl'>;
  readonly sdk: Omit<SdkJob, keyof LoadWindow | 'kind' | 'endpoint'>;
  /** Compares one app answer with the direct answer for the same input; throws on a difference. */
  check(appUrl: string, doc: DynamoDBDocumentClient): Promise<void>;
}

function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

const fmt = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : 'n/a');

async function getJson(url: string): Promise<{ status: number; body: any }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

function cases(tableName: string, products: readonly { id: string; category: string }[]): PatternCase[] {
  const ids = products.map((p) => p.id);
  const categories = [...new Set(products.map((p) => p.category))].sort();
  if (ids.length === 0 || categories.length === 0) throw new Error('the stack seeded no products');
  // Exactly what ShopStore sends for these patterns (PatternClient adds ReturnConsumedCapacity).
  const getInput = (id: string) => ({ TableName: tableName, Key: keys.product(id), ReturnConsumedCapacity: 'INDEXES' as const });
  const queryInput = (category: string) => ({
    TableName: tableName,
    IndexName: 'GSI1',
    KeyConditionExpression: 'GSI1PK = :pk',
    ExpressionAttributeValues: { ':pk': `PRODUCT#${category}` },
    Limit: LIST_LIMIT,
    ReturnConsumedCapacity: 'INDEXES' as const,
  });
  return [
    {
      pattern: 'getProduct',
      http: { requests: ids.map((id) => ({ method: 'GET', path: `/api/products/${encodeURIComponent(id)}` })) },
      sdk: { command: 'Get', inputs: ids.map(getInput), expect: 'item' },
      async check(appUrl, doc) {
        const id = ids[0] as string;
        const app = await getJson(`${appUrl}/api/products/${encodeURIComponent(id)}`);
        const direct = await doc.send(new GetCommand(getInput(id)));
        if (app.status !== 200) throw new Error(`getProduct pre-check: app answered ${app.status}`);
        if (app.body?.id !== id || direct.Item?.id !== id) {
          throw new Error(`getProduct pre-check: app id ${app.body?.id}, direct id ${String(direct.Item?.id)}, want ${id}`);
        }
      },
    },
    {
      pattern: 'listProductsByCategory',
      http: {
        requests: categories.map((c) => ({
          method: 'GET',
          path: `/api/products?category=${encodeURIComponent(c)}&limit=${LIST_LIMIT}`,
        })),
      },
      sdk: { command: 'Query', inputs: categories.map(queryInput), expect: 'items' },
      async check(appUrl, doc) {
        const c = categories[0] as string;
        const app = await getJson(`${appUrl}/api/products?category=${encodeURIComponent(c)}&limit=${LIST_LIMIT}`);
        const direct = await doc.send(new QueryCommand(queryInput(c)));
        if (app.status !== 200) throw new Error(`listProductsByCategory pre-check: app answered ${app.status}`);
        const appIds = ((app.body?.items ?? []) as { id: string }[]).map((p) => p.id).join(',');
        const directIds = (direct.Items ?? []).map((p) => String(p.id)).join(',');
        if (!appIds || appIds !== directIds) {
          throw new Error(`listProductsByCategory pre-check: app ids [${appIds}] differ from direct ids [${directIds}]`);
        }
      },
    },
  ];
}

function failures(r: LoadResult): string[] {
  const out: string[] = [];
  if (r.errors > 0) out.push(`${r.errors} errors`);
  if (r.non2xx > 0) {
    const codes = Object.entries(r.statusCodes)
      .filter(([c]) => !c.startsWith('2'))
      .map(([c, n]) => `${n}x${c}`)
      .join(' ');
    out.push(`${r.non2xx} non-2xx (${codes})`);
  }
  if (r.ops === 0) out.push('no operation completed in the window');
  if (out.length && r.firstError) out.push(`first: ${r.firstError}`);
  return out;
}

export const appThroughput: BenchSection = {
  id: 'app-throughput',
  title: 'app vs direct SDK throughput',
  async run(ctx: BenchContext): Promise<SectionRow[]> {
    const window: LoadWindow = {
      concurrency: Math.round(envNumber('BENCH_CONCURRENCY', 16, 1)),
      warmupMs: envNumber('BENCH_WARMUP_S', 1, 0) * 1000,
      durationMs: envNumber('BENCH_DURATION_S', 5, 0.5) * 1000,
    };
    const rounds = Math.round(envNumber('BENCH_ROUNDS', 1, 1));
    ctx.log(
      `concurrency ${window.concurrency}, warm-up ${window.warmupMs / 1000} s, window ${window.durationMs / 1000} s, ${rounds} round(s)`,
    );
    const stack = await startEmbeddedStack({ port: 0, seed: { products: 200, users: 10 }, log: ctx.log });
    let stackFailure: string | undefined;
    stack.onFailure((reason) => {
      stackFailure = reason;
    });
    const direct = createDynamoClients({ endpoint: stack.dynamodbEndpoint });
    try {
      for (const url of [stack.appUrl, stack.dynamodbEndpoint]) {
        const host = new URL(url).hostname;
        if (host !== '127.0.0.1') throw new Error(`refusing to load ${url}: not 127.0.0.1`);
      }
      const products = stack.seeded?.products ?? [];
      const rows: SectionRow[] = [];
      for (const c of cases(stack.tableName, products)) {
        await c.check(stack.appUrl, direct.doc);
        const appRuns: LoadResult[] = [];
        const directRuns: LoadResult[] = [];
        for (let round = 0; round < rounds; round += 1) {
          const sides = round % 2 === 0 ? (['direct', 'app'] as const) : (['app', 'direct'] as const);
          for (const side of sides) {
            if (ctx.signal.aborted) throw new Error('aborted');
            const result =
              side === 'app'
                ? await runLoad({ kind: 'http', baseUrl: stack.appUrl, ...c.http, ...window }, ctx.signal)
                : await runLoad({ kind: 'sdk', endpoint: stack.dynamodbEndpoint, ...c.sdk, ...window }, ctx.signal);
            if (stackFailure) throw new Error(stackFailure);
            (side === 'app' ? appRuns : directRuns).push(result);
            ctx.log(
              `${c.pattern} ${side.padEnd(6)} round ${round + 1}: ${fmt(result.opsPerSec)} ops/s, ` +
                `p50 ${fmt(result.latencyMs.p50)} ms, p99 ${fmt(result.latencyMs.p99)} ms, ` +
                `errors ${result.errors}, non-2xx ${result.non2xx}`,
            );
          }
        }
        const problems = [
          ...appRuns.flatMap((r, i) => failures(r).map((f) => `app round ${i + 1}: ${f}`)),
          ...directRuns.flatMap((r, i) => failures(r).map((f) => `direct round ${i + 1}: ${f}`)),
        ];
        const appP50 = median(appRuns.map((r) => r.latencyMs.p50));
        const directP50 = median(directRuns.map((r) => r.latencyMs.p50));
        rows.push({
          name: `${c.pattern}: app (HTTP) / direct SDK`,
          unit: 'ops/s',
          value: median(appRuns.map((r) => r.opsPerSec)),
          baseline: median(directRuns.map((r) => r.opsPerSec)),
          goal: GOAL,
          valid: problems.length === 0,
          notes: [...problems, `p50 ${fmt(appP50)} ms vs ${fmt(directP50)} ms`],
          details: {
            pattern: c.pattern,
            concurrency: window.concurrency,
            warmupMs: window.warmupMs,
            durationMs: window.durationMs,
            rounds,
            app: appRuns,
            direct: directRuns,
          },
        });
      }
      return rows;
    } finally {
      direct.raw.destroy();
      await stack.stop();
    }
  },
};
