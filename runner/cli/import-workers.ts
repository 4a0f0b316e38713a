import { type ChildProcess, fork } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { FROM_SOURCE } from '../../local/index.js';
import type { Format, ImportSummary, Reject, Shard } from '../data/index.js';

/** One file for one worker: everything a fresh process needs to import its share of it. */
export interface WorkerJob {
  /** The project config, absolute: the worker loads the same mapping. */
  readonly config: string;
  readonly table?: string;
  readonly file: string;
  readonly entity: string;
  readonly format: Format;
  readonly rejectsPath: string;
  readonly shard: Shard;
  readonly endpoint: string;
  readonly concurrency: number;
  readonly maxAttempts: number;
  readonly params?: Readonly<Record<string, string>>;
  readonly now?: string;
}

export type WorkerReply =
  | { readonly ok: true; readonly summary: ImportSummary }
  | { readonly ok: false; readonly error: string; readonly kind: string };

/** A worker failed its share: the message is the worker's own. */
export class ImportWorkerFailed extends Error {
  override name = 'ImportWorkerFailed';
  constructor(
    message: string,
    readonly kind: string,
  ) {
    super(message);
  }
}

// Its neighbour, from the sources or compiled (dist/); tsx either way: it loads the project's mapping,
// which is often TypeScript (the compiled CLI registers tsx only when it meets such a file).
const WORKER = fileURLToPath(
  new URL(FROM_SOURCE ? './import-worker.ts' : './import-worker.js', import.meta.url),
);

/**
 * N processes running the same import code, each on its share of every file's rows (spread by the
 * main item's key, so duplicates still meet in one worker). Rows are read by every worker; only the
 * mapping's output is split, which is where the time goes (BatchWriteItem round trips).
 */
export class ImportWorkers {
  private readonly children: ChildProcess[];

  constructor(readonly count: number) {
    const tsx = import.meta.resolve('tsx');
    this.children = Array.from({ length: count }, () =>
      fork(WORKER, [], { execArgv: ['--import', tsx], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }),
    );
  }

  private ask(child: ChildProcess, job: WorkerJob): Promise<ImportSummary> {
    return new Promise((resolve, reject) => {
      const onExit = (code: number | null) =>
        reject(
          new ImportWorkerFailed(`import worker ${child.pid} exited (code ${code}) before answering`, 'exit'),
        );
      child.once('exit', onExit);
      child.once('message', (reply: WorkerReply) => {
        child.off('exit', onExit);
        if (reply.ok) resolve(reply.summary);
        else reject(new ImportWorkerFailed(reply.error, reply.kind));
      });
      child.send(job);
    });
  }

  /** One file over all workers; their summaries and rejects merged as one process would have made them. */
  async importFile(
    job: Omit<WorkerJob, 'shard' | 'rejectsPath'>,
    rejectsPath: string,
  ): Promise<ImportSummary> {
    const started = Date.now();
    const parts = this.children.map((_, i) => `${rejectsPath}.worker-${i}`);
    const summaries = await Promise.all(
      this.children.map((child, index) =>
        this.ask(child, { ...job, shard: { index, count: this.count }, rejectsPath: parts[index] as string }),
      ),
    );
    const rejects = await mergeRejects(parts, rejectsPath);
    return mergeSummaries(
      summaries,
      rejects,
      rejects.length > 0 ? rejectsPath : undefined,
      Date.now() - started,
    );
  }

  close(): void {
    for (const c of this.children) c.disconnect();
  }
}

async function readRejects(path: string): Promise<Reject[]> {
  const out: Reject[] = [];
  try {
    const rl = createInterface({ input: createReadStream(path), crlfDelay: Number.POSITIVE_INFINITY });
    for await (const line of rl) if (line.trim() !== '') out.push(JSON.parse(line) as Reject);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  return out;
}

/** The workers' rejects files as one, in line order (rejects are few: they fit in memory). */
async function mergeRejects(parts: readonly string[], path: string): Promise<Reject[]> {
  const all = (await Promise.all(parts.map(readRejects))).flat().sort((a, b) => a.line - b.line);
  await rm(path, { force: true });
  if (all.length > 0) await writeFile(path, all.map((r) => `${JSON.stringify(r)}\n`).join(''));
  await Promise.all(parts.map((p) => rm(p, { force: true })));
  return all;
}

function add(into: Record<string, number>, from: Record<string, number>): void {
  for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + v;
}

function mergeSummaries(
  parts: readonly ImportSummary[],
  rejects: readonly Reject[],
  rejectsPath: string | undefined,
  elapsedMs: number,
): ImportSummary {
  const byType: Record<string, number> = {};
  const ignoredFields: Record<string, number> = {};
  for (const p of parts) {
    add(byType, p.byType);
    add(ignoredFields, p.ignoredFields);
  }
  const keep = Math.max(0, ...parts.map((p) => p.firstRejects.length));
  return {
    // Every worker reads every row.
    rows: parts[0]?.rows ?? 0,
    rejected: rejects.length,
    skipped: parts.reduce((s, p) => s + p.skipped, 0),
    items: parts.reduce((s, p) => s + p.items, 0),
    written: parts.reduce((s, p) => s + p.written, 0),
    byType,
    ignoredFields,
    elapsedMs,
    firstRejects: rejects.slice(0, keep),
    rejectsPath,
  };
}
