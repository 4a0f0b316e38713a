import { stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import {
  createTableInput,
  ensureTables,
  type IndexShape,
  localDynamoClient,
  type Projection,
} from '../../../local/index.js';
import {
  CapacitySink,
  type DumpCollection,
  DynamoSink,
  dumpCollections,
  FORMATS,
  type Format,
  formatOf,
  ImportInputError,
  ImportMappingError,
  type ImportProgress,
  type ImportSummary,
  ImportWriteFailed,
  importFile,
  type RowMapper,
  rowPlace,
  S3ExportSink,
} from '../../data/index.js';
import { checkEndpointFlag, EXIT, given, RunFailed, UsageError } from '../errors.js';
import { ImportWorkerFailed, ImportWorkers } from '../import-workers.js';
import { projectFor } from '../project.js';
import { importPlan } from '../project-data.js';
import { readStackFile } from '../stack-file.js';

interface ImportArgs {
  config?: string;
  file: string;
  entity?: string;
  format?: Format;
  rejects?: string;
  out?: string;
  param?: string[];
  imageBaseUrl?: string;
  workers: number;
  dryRun?: boolean;
  s3Format?: string;
  s3FileMb: number;
  dynamodbEndpoint?: string;
  table?: string;
  stateDir: string;
  concurrency: number;
  maxAttempts: number;
  createdAt?: string;
}

const SHOWN_REJECTS = 20;

/** A line every interval: totals, and items/s over the last interval. */
function progressPrinter(tty: boolean) {
  let last = { elapsedMs: 0, written: 0 };
  return (p: ImportProgress) => {
    const rate = ((p.written - last.written) * 1000) / Math.max(1, p.elapsedMs - last.elapsedMs);
    last = { elapsedMs: p.elapsedMs, written: p.written };
    const line = `[${Math.round(p.elapsedMs / 1000)}s] ${p.rows} rows read, ${p.written} items written, ${p.rejected} rejected, ${Math.round(rate)} items/s`;
    process.stderr.write(tty ? `\r\x1b[2K${line}` : `${line}\n`);
  };
}

function printSummary(s: ImportSummary, target: string): void {
  const secs = s.elapsedMs / 1000;
  const types = Object.entries(s.byType)
    .map(([t, n]) => `${t} ${n}`)
    .join(', ');
  for (const r of s.firstRejects.slice(0, SHOWN_REJECTS)) console.error(`${rowPlace(r)}: ${r.error}`);
  if (s.rejected > SHOWN_REJECTS) console.error(`... and ${s.rejected - SHOWN_REJECTS} more rejected rows`);
  const ignored = Object.entries(s.ignoredFields);
  if (ignored.length > 0) {
    console.error(
      `note: not imported, the project's mapping has no place for: ${ignored.map(([f, n]) => `${f} (${n} row${n === 1 ? '' : 's'})`).join(', ')}`,
    );
  }
  console.log(`imported into ${target}`);
  console.log(`rows read      ${s.rows}`);
  console.log(`items written  ${s.written}${types ? ` (${types})` : ''}`);
  console.log(
    `rejected       ${s.rejected}${s.rejectsPath ? `, each with its line and problem in ${s.rejectsPath}` : ''}`,
  );
  if (s.skipped > 0) console.log(`skipped        ${s.skipped} (by the mapping)`);
  console.log(`elapsed        ${secs.toFixed(1)} s`);
  console.log(`items/s        ${Math.round(s.written / Math.max(secs, 0.001))}`);
}

/** `loadtest import`: rows exported from MongoDB or SQL into the project's table (or S3-import files). */
export const importCommand: CommandModule<object, ImportArgs> = {
  command: 'import <file>',
  describe:
    "Load rows exported from MongoDB or SQL (mongodump .bson or a whole dump folder, JSON lines, JSON arrays, CSV) into the project's table with its mapping (the shop's: users, products, orders)",
  builder: (y: Argv) =>
    y
      .positional('file', {
        type: 'string',
        describe:
          'mongodump .bson (or its folder: every collection the mapping names), JSON lines or a JSON array (.jsonl, .ndjson, .json; Extended JSON, relaxed or canonical), or CSV (.csv) with a header row; each optionally .gz',
      })
      .option('entity', {
        type: 'string',
        describe:
          "What each row is: one of the project's import entities (the shop's: user, product, order). Default: from the file's collection name (products.bson: product)",
      })
      .option('format', { choices: FORMATS, describe: 'Override the format the extension implies' })
      .option('out', {
        type: 'string',
        describe: 'Folder for the rejects files (default <state-dir>/import; never next to the input)',
      })
      .option('rejects', {
        type: 'string',
        describe:
          'Where rejected rows go, one {line, field, error, raw} a line (default <out>/<file name>.rejects.jsonl; one file only)',
      })
      .option('param', {
        type: 'string',
        array: true,
        describe:
          "name=value for the project's mapping (the shop's: imageBaseUrl=https://cdn.example.com/ resolves relative image paths)",
      })
      .option('image-base-url', {
        type: 'string',
        describe:
          "Shorthand for --param imageBaseUrl=URL, for mappings that take it (the shop's): relative image paths resolve against URL",
      })
      .option('dry-run', {
        type: 'boolean',
        describe:
          'Map and check every row, write nothing: the write capacity (WCU) the import will consume, table and indexes',
      })
      .option('workers', {
        type: 'number',
        default: 1,
        describe: 'Processes to spread the rows over (each runs the same import on its share)',
      })
      .option('s3-format', {
        type: 'string',
        describe:
          "Write gzipped DynamoDB JSON files for DynamoDB's import from S3 into this folder instead (no database): <entity>-00000.json.gz, ...; the three entities can share the folder",
      })
      .option('s3-file-mb', {
        type: 'number',
        default: 64,
        describe: 'Uncompressed MB per --s3-format file at most',
      })
      .option('dynamodb-endpoint', {
        type: 'string',
        describe: 'Write to this DynamoDB-compatible endpoint (default: the running `loadtest up` stack)',
      })
      .option('table', {
        type: 'string',
        describe:
          "Table name (default: the project's import table); created with the project's key schema if missing",
      })
      .option('state-dir', {
        type: 'string',
        default: '.loadtest',
        describe: 'Where `loadtest up` records the stack',
      })
      .option('concurrency', { type: 'number', default: 8, describe: 'BatchWriteItem calls in flight' })
      .option('max-attempts', {
        type: 'number',
        default: 10,
        describe: 'Calls per batch of 25 before unprocessed items fail the import',
      })
      .option('created-at', {
        type: 'string',
        describe: 'createdAt for rows with none and no ObjectId to read it from (default: now)',
      })
      .conflicts('s3-format', 'dynamodb-endpoint')
      .conflicts('dry-run', ['s3-format', 'dynamodb-endpoint'])
      .epilog(
        'Dates: ISO 8601 (no zone = UTC), {"$date": ...}, or epoch milliseconds (numbers below 1e11: seconds). ' +
          'Exit codes: 0 every row imported, 1 some rows rejected (the rest imported), 2 bad input or a bad mapping, 3 the writes failed.',
      )
      .strict() as unknown as Argv<ImportArgs>,
  handler: async (args: ArgumentsCamelCase<ImportArgs>) => {
    const project = await projectFor(args.config);
    const { mapper, table: spec, key, limits } = importPlan(project, args.table);
    if (args.entity !== undefined && !mapper.entities.includes(args.entity)) {
      throw new UsageError(
        `--entity: "${args.entity}" is not one of project ${project.name}'s import entities: ${mapper.entities.join(', ')}`,
      );
    }
    const jobs = await importJobs(args, mapper);
    for (const flag of ['concurrency', 'maxAttempts', 'workers'] as const) {
      if (!Number.isInteger(args[flag]) || args[flag] < 1 || args[flag] > 100) {
        const name = flag === 'maxAttempts' ? 'max-attempts' : flag;
        throw new UsageError(
          `--${name}: expected a whole number 1-100, got ${given(`--${name}`, args[flag])}`,
        );
      }
    }
    if (!(args.s3FileMb > 0 && args.s3FileMb <= 10_000)) {
      throw new UsageError(
        `--s3-file-mb: expected a number of MB above 0, got ${given('--s3-file-mb', args.s3FileMb)}`,
      );
    }
    if (args.workers > 1 && (args.s3Format !== undefined || args.dryRun)) {
      throw new UsageError('--workers: only for imports into DynamoDB, not with --s3-format or --dry-run');
    }
    const params = paramsOf(
      [
        ...(args.param ?? []),
        ...(args.imageBaseUrl !== undefined ? [`imageBaseUrl=${args.imageBaseUrl}`] : []),
      ],
      mapper.params ?? {},
      args.imageBaseUrl !== undefined ? '--image-base-url' : undefined,
    );
    let now: Date | undefined;
    if (args.createdAt !== undefined) {
      now = new Date(args.createdAt);
      if (Number.isNaN(now.getTime())) throw new UsageError(`--created-at: not a date: "${args.createdAt}"`);
    }
    checkEndpointFlag('--dynamodb-endpoint', args.dynamodbEndpoint);
    if (args.rejects !== undefined && jobs.length > 1) {
      throw new UsageError(
        '--rejects: names one file; a dump folder has one rejects file per collection in --out',
      );
    }
    const outDir = resolve(args.out ?? join(args.stateDir, 'import'));
    const rejectsPathOf = (file: string) => args.rejects ?? join(outDir, `${basename(file)}.rejects.jsonl`);
    for (const job of jobs) {
      if (resolve(rejectsPathOf(job.file)) === resolve(job.file)) {
        throw new UsageError('--rejects: must not be the input file');
      }
    }
    const tty = Boolean(process.stderr.isTTY);
    const common = {
      mapper,
      key,
      limits,
      ...(Object.keys(params).length > 0 ? { params } : {}),
      ...(now ? { now } : {}),
      onProgress: progressPrinter(tty),
      progressIntervalMs: tty ? 1000 : 5000,
    };
    let rejected = 0;
    const run = async (
      job: ImportJob,
      target: string,
      importer: (rejectsPath: string) => Promise<ImportSummary>,
    ) => {
      let summary: ImportSummary;
      try {
        summary = await importer(rejectsPathOf(job.file));
      } catch (err) {
        if (tty) process.stderr.write('\r\x1b[2K');
        if (err instanceof ImportInputError) throw new UsageError(err.message);
        if (err instanceof ImportMappingError) throw new UsageError(err.message);
        if (err instanceof ImportWorkerFailed) {
          throw err.kind === 'mapping' || err.kind === 'ImportInputError' || err.kind === 'UsageError'
            ? new UsageError(err.message)
            : new RunFailed(err.message);
        }
        if (err instanceof ImportWriteFailed) throw new RunFailed(err.message);
        throw err;
      }
      if (tty) process.stderr.write('\r\x1b[2K');
      if (jobs.length > 1) console.log(`${job.file} (${job.entity}):`);
      printSummary(summary, target);
      rejected += summary.rejected;
      process.exitCode = rejected > 0 ? EXIT.thresholdFailed : EXIT.ok;
      return summary;
    };

    if (args.dryRun) {
      const indexes: IndexShape[] = [
        ...(spec.globalSecondaryIndexes ?? []).map((g) =>
          indexShape(g.name, g.partitionKey.name, g.sortKey?.name, g.projection),
        ),
        ...(spec.localSecondaryIndexes ?? []).map((l) =>
          indexShape(l.name, key.partitionKey, l.sortKey.name, l.projection),
        ),
      ];
      let units = 0;
      for (const job of jobs) {
        const sink = new CapacitySink(key, indexes);
        await run(job, `nothing (dry run of table ${spec.name})`, (rejectsPath) =>
          importFile({ ...common, ...job, rejectsPath, sink }),
        );
        const byIndex = Object.entries(sink.indexUnits).map(([n, u]) => `${n} ${u}`);
        console.log(
          `write capacity ${sink.totalUnits} WCU (table ${sink.tableUnits}${byIndex.length > 0 ? `, ${byIndex.join(', ')}` : ''})`,
        );
        units += sink.totalUnits;
      }
      // On-demand: one write request unit per WCU (us-east-1 list price, as the report assumes).
      console.log(
        `the import will consume ${units} WCU: $${((units * 0.625) / 1e6).toFixed(4)} on demand; at a provisioned ${PROVISIONED_EXAMPLE} WCU/s it takes at least ${Math.ceil(units / PROVISIONED_EXAMPLE)} s`,
      );
      return;
    }

    if (args.s3Format !== undefined) {
      const dir = resolve(args.s3Format);
      for (const job of jobs) {
        const sink = await S3ExportSink.create(dir, {
          maxFileBytes: Math.floor(args.s3FileMb * 1024 * 1024),
          prefix: job.entity,
        });
        await run(job, `${dir} (DynamoDB JSON, gzip, for import from S3)`, (rejectsPath) =>
          importFile({ ...common, ...job, rejectsPath, sink }),
        );
        for (const f of sink.files) console.log(`file           ${f}`);
      }
      const { StreamSpecification: _streams, ...tableParams } = createTableInput(spec);
      console.log(
        `to create the table from them: upload the files under one S3 prefix, then\n  aws dynamodb import-table --input-format DYNAMODB_JSON --input-compression-type GZIP --s3-bucket-source S3Bucket=<bucket>,S3KeyPrefix=<prefix> --table-creation-parameters '${JSON.stringify(tableParams)}'`,
      );
      return;
    }

    const stack = args.dynamodbEndpoint === undefined ? await readStackFile(args.stateDir) : undefined;
    const endpoint = args.dynamodbEndpoint ?? stack?.dynamodbEndpoint;
    if (!endpoint) {
      throw new RunFailed(
        `no DynamoDB to import into: start the stack with \`loadtest up\` (none is recorded in ${resolve(args.stateDir, 'stack.json')}), or pass --dynamodb-endpoint URL (or --s3-format DIR for files)`,
      );
    }
    const table = spec.name;
    const raw = await localDynamoClient(endpoint, project.region);
    const workers = args.workers > 1 ? new ImportWorkers(args.workers) : undefined;
    try {
      try {
        const { created } = await ensureTables(raw, [spec]);
        if (created.length > 0) console.error(`created table ${table}`);
      } catch (err) {
        const from = stack ? ` (recorded by \`loadtest up\` in ${args.stateDir}/stack.json)` : '';
        throw new RunFailed(`cannot use DynamoDB at ${endpoint}${from}: ${(err as Error).message}`);
      }
      const target = `table ${table} at ${endpoint}${workers ? ` (${workers.count} workers)` : ''}`;
      for (const job of jobs) {
        await run(job, target, (rejectsPath) => {
          if (workers) {
            return workers.importFile(
              {
                config: project.file,
                ...(args.table ? { table: args.table } : {}),
                ...job,
                endpoint,
                concurrency: args.concurrency,
                maxAttempts: args.maxAttempts,
                ...(common.params ? { params: common.params } : {}),
                ...(now ? { now: now.toISOString() } : {}),
              },
              rejectsPath,
            );
          }
          const sink = new DynamoSink({
            client: raw,
            tableName: table,
            key,
            concurrency: args.concurrency,
            maxAttempts: args.maxAttempts,
          });
          return importFile({ ...common, ...job, rejectsPath, sink });
        });
      }
    } finally {
      workers?.close();
      raw.destroy();
    }
  },
};

/** A provisioned write capacity to express the import's duration in. */
const PROVISIONED_EXAMPLE = 1000;

function indexShape(
  name: string,
  partitionKey: string,
  sortKey: string | undefined,
  projection: Projection | undefined,
): IndexShape {
  const p =
    projection === undefined || projection === 'ALL' || projection === 'KEYS_ONLY'
      ? { projection: projection ?? 'ALL' }
      : { projection: 'INCLUDE', nonKeyAttributes: projection.include };
  return { name, partitionKey, ...(sortKey ? { sortKey } : {}), ...p };
}

interface ImportJob {
  readonly file: string;
  readonly entity: string;
  readonly format: Format;
}

/** The entity a file's rows are: --entity, else its collection's (products.bson: the mapping's `collections`). */
function entityOf(collection: string, mapper: RowMapper): string | undefined {
  const named = mapper.collections?.[collection];
  if (named !== undefined) return named;
  return mapper.entities.includes(collection) ? collection : undefined;
}

/** What to import: one file, or every collection of a mongodump folder the mapping has an entity for. */
async function importJobs(args: ImportArgs, mapper: RowMapper): Promise<ImportJob[]> {
  const file = args.file;
  const info = await stat(file).catch(() => undefined);
  if (info?.isDirectory()) {
    let collections: DumpCollection[];
    try {
      collections = await dumpCollections(file);
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    const jobs: ImportJob[] = [];
    for (const c of collections) {
      const entity = args.entity ?? entityOf(c.collection, mapper);
      if (entity === undefined) {
        console.error(`skipped ${c.file}: the mapping has no entity for collection ${c.collection}`);
        continue;
      }
      jobs.push({ file: c.file, entity, format: 'bson' });
    }
    if (jobs.length === 0) {
      throw new UsageError(
        `${file}: no collection the mapping imports (it knows: ${Object.keys(mapper.collections ?? {}).join(', ') || mapper.entities.join(', ')})`,
      );
    }
    // In the mapping's entity order (users before the orders that name them).
    return jobs.sort((a, b) => mapper.entities.indexOf(a.entity) - mapper.entities.indexOf(b.entity));
  }
  if (!info?.isFile()) throw new UsageError(`${file}: no such file or folder`);
  const format = args.format ?? formatOf(file);
  if (!format) {
    throw new UsageError(
      `${file}: cannot tell the format from the extension; pass --format jsonl, csv or bson`,
    );
  }
  const stem = basename(file)
    .replace(/\.gz$/i, '')
    .replace(/\.[^.]+$/, '');
  const entity = args.entity ?? entityOf(stem, mapper);
  if (entity === undefined) {
    throw new UsageError(
      `--entity: needed, "${stem}" is not a collection the mapping knows; one of: ${mapper.entities.join(', ')}`,
    );
  }
  return [{ file, entity, format }];
}

/** --param name=value pairs, each one the mapping declares. */
function paramsOf(
  pairs: readonly string[],
  declared: Readonly<Record<string, string>>,
  /** The flag that gave imageBaseUrl, named in its error (the pair itself came from it). */
  imageFlag?: string,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    const name = eq > 0 ? pair.slice(0, eq) : '';
    if (!name) throw new UsageError(`--param: expected name=value, got "${pair}"`);
    if (!(name in declared)) {
      const known = Object.entries(declared).map(([n, d]) => `${n} (${d})`);
      const flag = imageFlag && name === 'imageBaseUrl' ? imageFlag : '--param';
      throw new UsageError(
        `${flag}: the mapping takes no "${name}"; ${known.length > 0 ? `it takes: ${known.join('; ')}` : 'it takes none'}`,
      );
    }
    out[name] = pair.slice(eq + 1);
  }
  return out;
}
