import { z } from 'zod';
import { gateCapacitySchema } from '../../local/index.js';
import { declarativeEntitySchema } from '../data/mapping.js';
import { forecastConfigSchema } from '../forecast/config.js';

/**
 * The project config (`loadtest.config.{ts,mjs,js,json,yml,yaml}`): everything the toolkit knows
 * about an app, as data. Validated here, once; an error names the file and the field.
 */
const identifier = z
  .string()
  .regex(/^[A-Za-z][A-Za-z0-9_.:-]{0,99}$/, 'letters, digits, _ . : -, starting with a letter');

const keyAttribute = z.union([
  // "customerId" (a string key) or "orderedAt:N"
  z
    .string()
    .regex(/^[^:\s]+(:[SNB])?$/, 'an attribute name, optionally with its type: "name" or "name:N"')
    .transform((s) => {
      const [name = '', type = 'S'] = s.split(':');
      return { name, type: type as 'S' | 'N' | 'B' };
    }),
  z.strictObject({ name: z.string().min(1), type: z.enum(['S', 'N', 'B']).default('S') }),
]);

const projection = z.union([
  z.enum(['ALL', 'KEYS_ONLY']),
  z.strictObject({ include: z.array(z.string().min(1)).min(1) }),
]);
const units = z.strictObject({ read: z.number().int().positive(), write: z.number().int().positive() });

export const tableSpecSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9_.-]{3,255}$/, "DynamoDB's table name rule: 3-255 of A-Z a-z 0-9 _ . -"),
  partitionKey: keyAttribute,
  sortKey: keyAttribute.optional(),
  globalSecondaryIndexes: z
    .array(
      z.strictObject({
        name: z.string().min(3),
        partitionKey: keyAttribute,
        sortKey: keyAttribute.optional(),
        projection: projection.optional(),
        capacity: units.optional(),
      }),
    )
    .optional(),
  localSecondaryIndexes: z
    .array(
      z.strictObject({ name: z.string().min(3), sortKey: keyAttribute, projection: projection.optional() }),
    )
    .optional(),
  billing: z
    .discriminatedUnion('mode', [
      z.strictObject({
        mode: z.literal('on-demand'),
        maxRead: z.number().int().positive().optional(),
        maxWrite: z.number().int().positive().optional(),
      }),
      z.strictObject({
        mode: z.literal('provisioned'),
        read: z.number().int().positive(),
        write: z.number().int().positive(),
      }),
    ])
    .optional(),
  stream: z.enum(['NEW_IMAGE', 'OLD_IMAGE', 'NEW_AND_OLD_IMAGES', 'KEYS_ONLY']).optional(),
});

const stringOrList = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]);

export const OPERATIONS = [
  'GetItem',
  'PutItem',
  'UpdateItem',
  'DeleteItem',
  'Query',
  'Scan',
  'BatchGetItem',
  'BatchWriteItem',
  'TransactGetItems',
  'TransactWriteItems',
  'ExecuteStatement',
  'BatchExecuteStatement',
  'ExecuteTransaction',
] as const;

const operation = z.enum(OPERATIONS);

const matchSchema = z.strictObject({
  table: z.string().min(1).optional(),
  index: z.string().min(1).optional(),
  operation: z.union([operation, z.array(operation).min(1)]).optional(),
  key: z.string().min(1).optional(),
});

export const patternSchema = z.strictObject({
  id: identifier,
  description: z.string().optional(),
  /**
   * How the gate recognises the pattern's calls (one rule, or a list: any of them); without it, only
   * a tag names them.
   */
  match: z.union([matchSchema, z.array(matchSchema).min(1)]).optional(),
});

/** A command: a shell line, an argv list, or either with a working folder and environment. */
const command = z.union([
  stringOrList,
  z.strictObject({
    command: stringOrList,
    cwd: z.string().optional(),
    env: z.record(z.string(), z.string()).optional(),
    timeoutSec: z.number().positive().max(3600).optional(),
  }),
]);

const appSchema = z.union([
  z.url({ protocol: /^https?$/, message: 'an http:// or https:// URL such as http://127.0.0.1:3000' }),
  z.strictObject({
    url: z
      .url({ protocol: /^https?$/, message: 'an http:// or https:// URL such as http://127.0.0.1:3000' })
      .optional(),
    start: z
      .union([
        stringOrList,
        z.strictObject({
          command: stringOrList,
          cwd: z.string().optional(),
          env: z.record(z.string(), z.string()).optional(),
          /** The port it listens on; "auto" (default) picks a free one and passes it in `portEnv`. */
          port: z.union([z.number().int().min(1).max(65535), z.literal('auto')]).optional(),
          portEnv: z
            .string()
            .regex(/^[A-Za-z_][A-Za-z0-9_]*$/)
            .optional(),
        }),
      ])
      .optional(),
    ready: z
      .strictObject({
        path: z.string().startsWith('/').optional(),
        status: z
          .union([z.number().int().min(100).max(599), z.array(z.number().int().min(100).max(599))])
          .optional(),
        timeoutSec: z.number().positive().max(600).optional(),
      })
      .optional(),
  }),
]);

const tablesSchema = z.union([
  z.array(tableSpecSchema),
  z.strictObject({
    /** CloudFormation/CDK templates: *.template.json files or cdk.out folders. */
    template: stringOrList.optional(),
    /** Read with DescribeTable from the endpoint the run uses: true for all of them, or names. */
    describe: z.union([z.literal(true), z.array(z.string().min(1)).min(1)]).optional(),
    inline: z.array(tableSpecSchema).optional(),
  }),
]);

const dataSchema = z.strictObject({
  /** Fills the tables before a run and writes the fixtures the scenarios read (LOADTEST_FIXTURES). */
  command: command.optional(),
  /** A JSON file of fixtures, given to scenarios as it is (the command may add to it). */
  fixtures: z.string().optional(),
  /** Export files loaded with the project's import mapping before anything else runs. */
  import: z
    .array(
      z.strictObject({
        file: z.string().min(1),
        entity: identifier,
        format: z.enum(['jsonl', 'csv']).optional(),
      }),
    )
    .optional(),
});

/** Functions are allowed in TS/JS configs only; JSON and YAML cannot hold them. */
const fn = z.custom<(...args: never[]) => unknown>((v) => typeof v === 'function', 'a function');

const eventsSchema = z.strictObject({
  table: z.string().optional(),
  /** EventBridge Pipes filter pattern on the stream record. */
  filter: z.record(z.string(), z.unknown()).optional(),
  /** SNS subscription filter policy on the message attributes. */
  subscriptionFilter: z.record(z.string(), z.unknown()).optional(),
  /** (record's NewImage, unmarshalled) -> { subject, message, attributes } */
  message: fn.optional(),
  subscription: z.string().optional(),
});

const importSchema = z.strictObject({
  /** The table rows go to (default the first table). */
  table: z.string().optional(),
  /** Entity names (with `map`), or per entity its declarative mapping (YAML and JSON configs). */
  entities: z.union([z.array(identifier).readonly(), z.record(identifier, declarativeEntitySchema)]),
  /** (entity, row, { now, params }) -> { ok: true, items, ignored } | { ok: false, error, field? } */
  map: fn.optional(),
  /** Per entity, the fields a CSV header must have (each an alternative list). */
  required: z.record(z.string(), z.array(z.array(z.string()).readonly()).readonly()).optional(),
  /** mongodump collection names to entities (a whole dump folder imports by them). */
  collections: z.record(z.string(), identifier).optional(),
  /** The parameters `map` reads from its options' `params` (`--param name=value`), each with what it does. */
  params: z.record(z.string(), z.string()).optional(),
});

/**
 * The app as it runs on AWS, for a deployment of the runners and the dashboard next to it
 * (`npx cdk deploy -c project=<folder>`): its public URL and, when they differ from the config's,
 * the deployed names of its tables.
 */
const awsSchema = z.strictObject({
  appUrl: z
    .url({ protocol: /^https?$/, message: 'an http(s) URL such as https://orders.example.com' })
    .optional(),
  /** The config's table name -> the table's name on AWS (e.g. orders: orders-prod). */
  tables: z.record(z.string().min(1), tableSpecSchema.shape.name).optional(),
  /** The deployment's stack prefix (default Loadtest-<name>): `<stackName>-Runners`, `<stackName>-Observability`. */
  stackName: z
    .string()
    .regex(/^[A-Za-z][A-Za-z0-9-]{0,80}$/, 'letters, digits and dashes, starting with a letter')
    .optional(),
});

export const projectSchema = z.strictObject({
  name: identifier.optional(),
  /** Region the app and the SDK calls use locally (default us-east-1). */
  region: z.string().optional(),
  app: appSchema.optional(),
  tables: tablesSchema.optional(),
  patterns: z.array(patternSchema).optional(),
  capacity: gateCapacitySchema.optional(),
  /** The traffic expected in production: every run is forecast at it (see runner/forecast). */
  forecast: forecastConfigSchema.optional(),
  data: dataSchema.optional(),
  /** Where the project's scenarios live (default ./scenarios, else the config's folder). */
  scenarios: z.string().optional(),
  events: eventsSchema.optional(),
  import: importSchema.optional(),
  aws: awsSchema.optional(),
});

export type ProjectConfigInput = z.input<typeof projectSchema>;
export type ProjectConfigParsed = z.output<typeof projectSchema>;
export type CommandSpec = z.output<typeof command>;

/** For TS configs: `export default defineProject({...})` type-checks the config as you write it. */
export function defineProject(config: ProjectConfigInput): ProjectConfigInput {
  return config;
}
