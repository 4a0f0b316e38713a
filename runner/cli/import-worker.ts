/**
 * One process of `loadtest import --workers N`: takes jobs from its parent over IPC, imports its
 * share of each file's rows (runner/data's importFile with a shard, the code a single process runs)
 * and answers with the summary. Started by import-workers.ts; exits when its channel closes.
 */
import { localDynamoClient } from '../../local/index.js';
import { DynamoSink, ImportMappingError, importFile } from '../data/index.js';
import type { WorkerJob, WorkerReply } from './import-workers.js';
import { projectFor } from './project.js';
import { importPlan } from './project-data.js';

process.on('message', (job: WorkerJob) => {
  void run(job).then(
    (reply) => process.send?.(reply),
    (err: unknown) =>
      process.send?.({
        ok: false,
        error: (err as Error).message ?? String(err),
        kind: err instanceof ImportMappingError ? 'mapping' : (err as Error).name,
      } satisfies WorkerReply),
  );
});

async function run(job: WorkerJob): Promise<WorkerReply> {
  const project = await projectFor(job.config);
  const plan = importPlan(project, job.table);
  const client = await localDynamoClient(job.endpoint, project.region);
  try {
    const sink = new DynamoSink({
      client,
      tableName: plan.table.name,
      key: plan.key,
      concurrency: job.concurrency,
      maxAttempts: job.maxAttempts,
    });
    const summary = await importFile({
      file: job.file,
      entity: job.entity,
      format: job.format,
      mapper: plan.mapper,
      key: plan.key,
      limits: plan.limits,
      sink,
      rejectsPath: job.rejectsPath,
      shard: job.shard,
      ...(job.params ? { params: job.params } : {}),
      ...(job.now ? { now: new Date(job.now) } : {}),
    });
    return { ok: true, summary };
  } finally {
    client.destroy();
  }
}
