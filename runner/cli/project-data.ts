import { join } from 'node:path';
import { ensureTables, localDynamoClient, type TableSpec } from '../../local/index.js';
import {
  DynamoSink,
  formatOf,
  ImportInputError,
  importFile,
  type KeyLimit,
  keyLimits,
  type RowMapper,
} from '../data/index.js';
import type { Project } from '../project/index.js';
import { RunFailed, UsageError } from './errors.js';

/**
 * A project's import: its mapping, the table rows go to, and what the import needs of that table
 * (its key attributes, the size limit of every key attribute). Shared by `loadtest import` and the
 * project's `data.import` files, which `run`, `up` and `seed` load before anything else.
 */
export interface ImportPlan {
  readonly mapper: RowMapper;
  readonly table: TableSpec;
  readonly key: { readonly partitionKey: string; readonly sortKey?: string };
  readonly limits: readonly KeyLimit[];
}

export function importPlan(project: Project, tableFlag?: string): ImportPlan {
  const importer = project.importer;
  if (!importer) {
    throw new UsageError(
      `project ${project.name} (${project.file}) has no import mapping: add import: { entities, map } to its config`,
    );
  }
  // --table names another table with the same key schema (created from it if missing).
  const declared = importer.table ?? project.tables[0]?.name;
  const found = project.tables.find((t) => t.name === declared);
  if (!found) {
    throw new UsageError(
      `project ${project.name}: no table to import into (${declared ?? 'none named'}); its tables: ${project.tables.map((t) => t.name).join(', ') || '(none)'}`,
    );
  }
  const table = tableFlag ? { ...found, name: tableFlag } : found;
  const key = {
    partitionKey: table.partitionKey.name,
    ...(table.sortKey ? { sortKey: table.sortKey.name } : {}),
  };
  const limits = keyLimits({
    ...key,
    indexes: [
      ...(table.globalSecondaryIndexes ?? []).map((g) => ({
        partitionKey: g.partitionKey.name,
        ...(g.sortKey ? { sortKey: g.sortKey.name } : {}),
      })),
      ...(table.localSecondaryIndexes ?? []).map((l) => ({ sortKey: l.sortKey.name })),
    ],
  });
  return { mapper: importer, table, key, limits };
}

/**
 * Loads the project's `data.import` files into the tables at `endpoint`, straight to DynamoDB (filling
 * tables is nobody's load). A rejected row is said, with where its reason is; it does not stop a run.
 */
export async function importProjectData(
  project: Project,
  endpoint: string,
  rejectsDir: string,
  log: (line: string) => void,
): Promise<void> {
  const files = project.data?.imports ?? [];
  if (files.length === 0) return;
  const plan = importPlan(project);
  const client = await localDynamoClient(endpoint, project.region);
  try {
    await ensureTables(client, [plan.table]);
    for (const [i, spec] of files.entries()) {
      const format = spec.format ?? formatOf(spec.file);
      if (!format)
        throw new UsageError(
          `${project.file}: data.import.${i}.file: cannot tell the format of ${spec.file}; set format: jsonl or csv`,
        );
      const sink = new DynamoSink({ client, tableName: plan.table.name, key: plan.key });
      const rejectsPath = join(rejectsDir, `import-${i}.rejects.jsonl`);
      const started = Date.now();
      const summary = await importFile({
        file: spec.file,
        entity: spec.entity,
        mapper: plan.mapper,
        key: plan.key,
        limits: plan.limits,
        format,
        sink,
        rejectsPath,
      }).catch((err: unknown) => {
        if (err instanceof ImportInputError) throw new UsageError(err.message);
        throw new RunFailed(`data.import ${spec.file}: ${(err as Error).message}`, { cause: err });
      });
      log(
        `data: imported ${summary.written} items from ${spec.file} (${spec.entity}) in ${Date.now() - started} ms${summary.rejected > 0 ? `; ${summary.rejected} rows rejected, see ${rejectsPath}` : ''}`,
      );
    }
  } finally {
    client.destroy();
  }
}
