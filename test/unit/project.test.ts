import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { patternIds } from '../../app/index.js';
import { createTableInput } from '../../local/index.js';
import { applyScriptFlags, renderScriptTemplates } from '../../runner/cli/commands/run.js';
import {
  DEFAULT_PROJECT_FILE,
  loadProject,
  locateProject,
  ProjectConfigError,
  patternRules,
  tablesFromTemplate,
} from '../../runner/project/index.js';
import { loadScenario, ScenarioError } from '../../runner/scenario/load.js';
import { runCli } from '../helpers/cli.js';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'loadtest-project-'));
});

async function file(path: string, text: string): Promise<string> {
  const full = join(dir, path);
  await mkdir(join(full, '..'), { recursive: true });
  await writeFile(full, text);
  return full;
}

/** A CloudFormation template as `cdk synth` writes one: a table with no name, a GSI, an LSI. */
const template = {
  Resources: {
    OrdersTable1A2B3C: {
      Type: 'AWS::DynamoDB::Table',
      Metadata: { 'aws:cdk:path': 'Shop/Orders/Resource' },
      Properties: {
        KeySchema: [
          { AttributeName: 'customerId', KeyType: 'HASH' },
          { AttributeName: 'orderedAt', KeyType: 'RANGE' },
        ],
        AttributeDefinitions: [
          { AttributeName: 'customerId', AttributeType: 'S' },
          { AttributeName: 'orderedAt', AttributeType: 'N' },
          { AttributeName: 'status', AttributeType: 'S' },
          { AttributeName: 'productId', AttributeType: 'S' },
        ],
        BillingMode: 'PROVISIONED',
        ProvisionedThroughput: { ReadCapacityUnits: '10', WriteCapacityUnits: 5 },
        GlobalSecondaryIndexes: [
          {
            IndexName: 'byProduct',
            KeySchema: [{ AttributeName: 'productId', KeyType: 'HASH' }],
            Projection: { ProjectionType: 'KEYS_ONLY' },
            ProvisionedThroughput: { ReadCapacityUnits: 2, WriteCapacityUnits: 2 },
          },
        ],
        LocalSecondaryIndexes: [
          {
            IndexName: 'byStatus',
            KeySchema: [
              { AttributeName: 'customerId', KeyType: 'HASH' },
              { AttributeName: 'status', KeyType: 'RANGE' },
            ],
            Projection: { ProjectionType: 'ALL' },
          },
        ],
        StreamSpecification: { StreamViewType: 'NEW_IMAGE' },
      },
    },
    Customers: {
      Type: 'AWS::DynamoDB::GlobalTable',
      Properties: {
        TableName: 'customers',
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
        BillingMode: 'PAY_PER_REQUEST',
        Replicas: [{ Region: 'us-east-1' }],
      },
    },
    Bucket: { Type: 'AWS::S3::Bucket' },
  },
};

describe('tables from CloudFormation', () => {
  it('reads tables, keys, GSIs, LSIs, billing and stream from a template and from a cdk.out folder', async () => {
    const path = await file('cdk.out/Shop.template.json', JSON.stringify(template));
    await file('cdk.out/manifest.json', '{}');
    for (const source of [path, join(dir, 'cdk.out')]) {
      const tables = tablesFromTemplate(source);
      expect(tables.map((t) => t.name)).toEqual(['Orders', 'customers']);
      expect(tables[0]).toEqual({
        name: 'Orders',
        partitionKey: { name: 'customerId', type: 'S' },
        sortKey: { name: 'orderedAt', type: 'N' },
        globalSecondaryIndexes: [
          {
            name: 'byProduct',
            partitionKey: { name: 'productId', type: 'S' },
            projection: 'KEYS_ONLY',
            capacity: { read: 2, write: 2 },
          },
        ],
        localSecondaryIndexes: [
          { name: 'byStatus', sortKey: { name: 'status', type: 'S' }, projection: 'ALL' },
        ],
        billing: { mode: 'provisioned', read: 10, write: 5 },
        stream: 'NEW_IMAGE',
      });
      expect(tables[1]).toMatchObject({ name: 'customers', billing: { mode: 'on-demand' } });
    }
    // What DynamoDB Local is given is DynamoDB's own CreateTable input.
    const input = createTableInput(tablesFromTemplate(path)[0] as Parameters<typeof createTableInput>[0]);
    expect(input).toMatchObject({
      TableName: 'Orders',
      BillingMode: 'PROVISIONED',
      ProvisionedThroughput: { ReadCapacityUnits: 10, WriteCapacityUnits: 5 },
      LocalSecondaryIndexes: [{ IndexName: 'byStatus' }],
      StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_IMAGE' },
    });
    expect(input.AttributeDefinitions?.map((a) => a.AttributeName).sort()).toEqual([
      'customerId',
      'orderedAt',
      'productId',
      'status',
    ]);
  });

  it('names the template and the resource when a table cannot be read', async () => {
    const broken = structuredClone(template);
    broken.Resources.OrdersTable1A2B3C.Properties.AttributeDefinitions.splice(1, 1);
    const path = await file('broken.template.json', JSON.stringify(broken));
    expect(() => tablesFromTemplate(path)).toThrow(
      /broken\.template\.json: OrdersTable1A2B3C: key attribute orderedAt has no AttributeDefinitions entry/,
    );
    expect(() => tablesFromTemplate(join(dir, 'nothing-here'))).toThrow(/nothing-here: cannot read/);
  });

  it('names both templates when two stacks (a stage each) make tables of the same name', async () => {
    await file('staged.out/assembly-Beta/BetaShop.template.json', JSON.stringify(template));
    await file('staged.out/assembly-Prod/ProdShop.template.json', JSON.stringify(template));
    expect(() => tablesFromTemplate(join(dir, 'staged.out'))).toThrow(
      /two tables are named "Orders": .*assembly-Beta\/BetaShop\.template\.json \(OrdersTable1A2B3C\) and .*assembly-Prod\/ProdShop\.template\.json \(OrdersTable1A2B3C\); give them a TableName, or point tables\.template at one stack's \*\.template\.json/,
    );
  });
});

describe('project configs', () => {
  it('loads a YAML config: tables from a template, rules, capacity, app, data and scenarios, paths from its folder', async () => {
    await file('yaml/template.json', JSON.stringify(template));
    await file('yaml/server.mjs', '');
    await file(
      'yaml/scenarios/a.yml',
      'config: { phases: [{ duration: 1, arrivalRate: 1 }] }\nscenarios: [{ flow: [{ get: { url: / } }] }]\n',
    );
    const path = await file(
      'yaml/loadtest.config.yml',
      `name: orders
app:
  start: { command: [node, server.mjs], env: { ORDERS_TABLE: Orders } }
  ready: { path: /health, status: 200 }
tables: { template: ./template.json }
patterns:
  - id: ordersOfCustomer
    description: a customer's orders, newest first
    match: { table: Orders, operation: Query, key: "customerId = {id}" }
  - id: byStatus
    match:
      - { table: Orders, index: byStatus, operation: Query }
      - { table: Orders, operation: Scan }
capacity:
  tables: { customers: { mode: provisioned, table: { read: 3, write: 1 } } }
data: { command: node seed.mjs }
`,
    );
    const project = await loadProject(path);
    expect(project).toMatchObject({
      name: 'orders',
      dir: join(dir, 'yaml'),
      isDefault: false,
      region: 'us-east-1',
      scenariosDir: join(dir, 'yaml', 'scenarios'),
      app: {
        start: {
          command: ['node', 'server.mjs'],
          cwd: join(dir, 'yaml'),
          port: 'auto',
          portEnv: 'PORT',
          env: { ORDERS_TABLE: 'Orders' },
        },
        ready: { path: '/health', status: [200], timeoutSec: 60 },
      },
      data: { command: { command: 'node seed.mjs', cwd: join(dir, 'yaml') } },
      capacity: { tables: { customers: { mode: 'provisioned', table: { read: 3, write: 1 } } } },
    });
    expect(project.tables.map((t) => t.name)).toEqual(['Orders', 'customers']);
    expect(patternRules(project)).toEqual([
      { id: 'ordersOfCustomer', table: 'Orders', operations: ['Query'], key: 'customerId = {id}' },
      { id: 'byStatus', table: 'Orders', index: 'byStatus', operations: ['Query'] },
      { id: 'byStatus', table: 'Orders', operations: ['Scan'] },
    ]);
  });

  const bad: [string, string, RegExp][] = [
    ['unknown-field', 'name: x\ncolour: blue\n', /loadtest\.config\.yml:2:1: .*colour/],
    ['bad-app', 'app: { start: { command: node, port: 70000 } }\n', /loadtest\.config\.yml:1:\d+: app/],
    [
      'unknown-table',
      'tables: [{ name: orders, partitionKey: id }]\npatterns: [{ id: p, match: { table: order } }]\n',
      /patterns\.0\.match\.table: pattern p: no table "order"; the project's tables: orders/,
    ],
    [
      'capacity-unknown-gsi',
      'tables: [{ name: orders, partitionKey: id, globalSecondaryIndexes: [{ name: byOwner, partitionKey: owner }] }]\ncapacity:\n  tables:\n    orders:\n      mode: provisioned\n      indexes: { byOwnr: { read: 1, write: 1 } }\n',
      /loadtest\.config\.yml:6:\d+: capacity\.tables\.orders\.indexes\.byOwnr: no GSI "byOwnr"; the GSIs: byOwner/,
    ],
    [
      'capacity-unknown-gsi-any-table',
      'tables: [{ name: orders, partitionKey: id }]\ncapacity: { indexes: { byOwner: { read: 1, write: 1 } } }\n',
      /capacity\.indexes\.byOwner: no GSI "byOwner"; the GSIs: \(none\)/,
    ],
    [
      'unknown-index',
      'tables: [{ name: orders, partitionKey: id }]\npatterns: [{ id: p, match: { table: orders, index: byX } }]\n',
      /pattern p: table orders has no index "byX"; its indexes: \(none\)/,
    ],
    [
      'not-a-key',
      'tables: [{ name: orders, partitionKey: id }]\npatterns: [{ id: p, match: { table: orders, key: "status = OPEN" } }]\n',
      /pattern p: "status" is not a key attribute of orders \(keys: id\)/,
    ],
    // Rules that parse but could never match a call the gate sees: refused, not silently idle.
    [
      'get-on-index',
      'tables: [{ name: orders, partitionKey: id, globalSecondaryIndexes: [{ name: byOwner, partitionKey: owner }] }]\npatterns: [{ id: p, match: { table: orders, index: byOwner, operation: [GetItem, PutItem] } }]\n',
      /loadtest\.config\.yml:2:\d+: patterns\.0\.match\.index: pattern p: this rule can match no call: GetItem reads no index \(only Query, Scan and PartiQL statements name one\); PutItem reads no index/,
    ],
    [
      'get-by-gsi-key',
      'tables: [{ name: orders, partitionKey: id, globalSecondaryIndexes: [{ name: byOwner, partitionKey: owner }] }]\npatterns: [{ id: p, match: { table: orders, operation: GetItem, key: "owner = {o}" } }]\n',
      /patterns\.0\.match\.key: pattern p: this rule can match no call: GetItem names its item by the table's key \(id\), never by owner/,
    ],
    [
      'get-by-range',
      'tables: [{ name: orders, partitionKey: id, sortKey: at }]\npatterns: [{ id: p, match: { table: orders, operation: GetItem, key: "at > 5" } }]\n',
      /pattern p: this rule can match no call: GetItem names its item's key with =, never >/,
    ],
    [
      'scan-with-key',
      'patterns: [{ id: p, match: { operation: Scan, key: "id = {x}" } }]\n',
      /patterns\.0\.match\.key: pattern p: this rule can match no call: a Scan has no key condition to match/,
    ],
    [
      'bad-template',
      'patterns: [{ id: p, match: { key: "id ~ 3" } }]\n',
      /patterns\.0\.match\.key: pattern p: "id ~ 3" is not a key clause/,
    ],
    // A field of several shapes (a union): the wrong field inside it, or the shapes it takes.
    [
      'env-not-text',
      'app: { start: { command: [node, s.js], env: { DEBUG: 1 } } }\n',
      /loadtest\.config\.yml:1:\d+: app\.start\.env\.DEBUG: Invalid input: expected string, received number/,
    ],
    [
      'port-as-text',
      'app: { start: { command: [node, s.js], port: "8080" } }\n',
      /app\.start\.port: Invalid input: expected number or "auto", received string/,
    ],
    [
      'misspelt-key',
      'tables: [{ name: notes, partitonKey: id }]\n',
      /tables\.0: Unrecognized key: "partitonKey" \(did you mean "partitionKey"\?\)/,
    ],
    [
      // The line is the misspelt key's, not the first line of the table holding it.
      'misspelt-key-line',
      'tables:\n  - name: notes\n    partitionKey: id\n    sortKy: at\n',
      /loadtest\.config\.yml:4:\d+: tables\.0: Unrecognized key: "sortKy" \(did you mean "sortKey"\?\)/,
    ],
    [
      // Inside a list in a table: the keys that list's objects take.
      'misspelt-index-key',
      'tables: [{ name: notes, partitionKey: id, globalSecondaryIndex: [] }]\n',
      /tables\.0: Unrecognized key: "globalSecondaryIndex" \(did you mean "globalSecondaryIndexes"\?\)/,
    ],
    [
      // A script the data command names that is not there: said now, not once the stack is up.
      'missing-data-script',
      'data: { command: [node, seeds/seed.mjs, --fast] }\n',
      /loadtest\.config\.yml:1:\d+: data\.command: seeds\/seed\.mjs: no such file \(in .*\); the command would fail once the stack is up/,
    ],
    [
      // Nothing close: no guess.
      'unknown-key',
      'tables: [{ name: notes, partitionKey: id, color: blue }]\n',
      /tables\.0: Unrecognized key: "color"$/,
    ],
    [
      'missing-key',
      'tables: [{ name: notes }]\n',
      /tables\.0\.partitionKey: required: expected string or object/,
    ],
    [
      'double-equals',
      'tables: [{ name: notes, partitionKey: userId, sortKey: noteId }]\npatterns: [{ id: p, match: { table: notes, key: "userId == {u} AND noteId = {n}" } }]\n',
      /patterns\.0\.match\.key: pattern p: "userId == \{u\}" is not a key clause: "==" is not an operator \(DynamoDB's are =, <, <=, > and >=\)/,
    ],
    [
      'key-types-differ',
      'tables:\n  - name: notes\n    partitionKey: userId\n    sortKey: noteId\n    globalSecondaryIndexes: [{ name: byTag, partitionKey: tag, sortKey: "noteId:N" }]\n',
      /loadtest\.config\.yml:5:\d+: tables\.0\.globalSecondaryIndexes\.0\.sortKey: table notes: key attribute noteId is N here and S at tables\.0\.sortKey; an attribute has one type in a table and all its indexes/,
    ],
    // What the stack sets for the app would replace these without a word.
    [
      'port-in-env',
      'app: { start: { command: [node, s.js], env: { PORT: "3000" } } }\n',
      /loadtest\.config\.yml:1:\d+: app\.start\.env\.PORT: the app is given its port in \$PORT by app\.start\.port .*write port: 3000 in app\.start instead/,
    ],
    [
      'own-port-env',
      'app: { start: { command: [node, s.js], portEnv: HTTP_PORT, env: { HTTP_PORT: "80", PORT: "1" } } }\n',
      /app\.start\.env\.HTTP_PORT: the app is given its port in \$HTTP_PORT/,
    ],
    [
      'endpoint-in-data-env',
      'data: { command: { command: [node, seed.js], env: { AWS_ENDPOINT_URL_DYNAMODB: "http://x" } } }\n',
      /data\.command\.env\.AWS_ENDPOINT_URL_DYNAMODB: set by the stack, which points the AWS SDK at its capacity gate; remove it/,
    ],
    [
      'app-no-scheme',
      'app: localhost:3000\n',
      /loadtest\.config\.yml:1:6: app: an http:\/\/ or https:\/\/ URL/,
    ],
    ['twice', 'patterns: [{ id: p }, { id: p }]\n', /patterns\.1\.id: pattern id "p" is declared twice/],
    ['bad-yaml', 'name: [x\n', /loadtest\.config\.yml:\d+:\d+: YAML/],
    ['no-folder', 'scenarios: ./nope\n', /scenarios: no such folder: .*nope/],
  ];
  for (const [name, text, message] of bad) {
    it(`refuses a bad config (${name}), naming the file and the field`, async () => {
      const path = await file(`bad/${name}/loadtest.config.yml`, text);
      const error = await loadProject(path).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ProjectConfigError);
      expect((error as Error).message).toContain(path);
      expect((error as Error).message).toMatch(message);
    });
  }

  it('loads JSON and TS configs too, and a TS config may compute itself', async () => {
    const json = await file(
      'json/loadtest.config.json',
      JSON.stringify({ name: 'j', app: 'http://127.0.0.1:3000/' }),
    );
    expect(await loadProject(json)).toMatchObject({ name: 'j', app: { url: 'http://127.0.0.1:3000' } });
    const ts = await file(
      'ts/loadtest.config.ts',
      "export default async () => ({ name: 'computed', tables: [{ name: 'things', partitionKey: 'pk:N' }] });\n",
    );
    const project = await loadProject(ts);
    expect(project.tables[0]).toEqual({ name: 'things', partitionKey: { name: 'pk', type: 'N' } });
    // A config that does not parse: where, line and column, whatever Node's own message says.
    const broken: [string, string, RegExp][] = [
      [
        'tsbad/loadtest.config.ts',
        'export default {\n  name: "x",,\n};\n',
        /config\.ts:2:13: could not load: Expected identifier but found ","/,
      ],
      [
        'mjsbad/loadtest.config.mjs',
        'export default {\n  name: "x"\n  patterns: []\n};\n',
        /config\.mjs:3:3: could not load: Expected "}" but found "patterns"/,
      ],
      [
        'jsonbad/loadtest.config.json',
        '{\n  "name": "x",\n  "tables": [}\n',
        /config\.json:3:14: not valid JSON: Unexpected "}"/,
      ],
    ];
    for (const [path, text, message] of broken) {
      await expect(loadProject(await file(path, text))).rejects.toThrow(message);
    }
    // One in a file the config imports: no place in the config is claimed; the loader says the rest.
    await file('tsimport/lib.ts', "export const x = 'a'\n  + ;\n");
    const importsBroken = await file(
      'tsimport/loadtest.config.ts',
      "import { x } from './lib.ts';\nexport default { name: x };\n",
    );
    await expect(loadProject(importsBroken)).rejects.toThrow(
      /tsimport\/loadtest\.config\.ts: could not load: /,
    );
  });

  it('loads a config tsc compiled to CommonJS, in the CLI compiled and from its sources', async () => {
    // What tsc writes for a package with no "type": "module": import() sees `exports` whole as the
    // default (vitest's loader unwraps it, so only the CLI's own process shows the difference).
    await file('cjs/package.json', '{ "name": "cjs-app" }');
    const config = await file(
      'cjs/loadtest.config.js',
      '"use strict";\nObject.defineProperty(exports, "__esModule", { value: true });\nexports.default = { name: "compiled", app: "http://127.0.0.1:3000" };\n',
    );
    for (const fromSource of ['0', '1']) {
      const cli = runCli(['list', '--config', config], {
        cwd: dir,
        env: { ...process.env, LOADTEST_FROM_SOURCE: fromSource },
      });
      const { code } = await cli.exited;
      expect({ code, stderr: cli.stderr() }, `LOADTEST_FROM_SOURCE=${fromSource}`).toEqual({
        code: 0,
        stderr: '',
      });
      expect(cli.stdout()).toContain(`project compiled: ${config}`);
    }
  });

  it('lists the scenarios next to a config, and names other YAML there once instead of as invalid scenarios', async () => {
    const config = await file(
      'mixed/loadtest.config.json',
      '{ "name": "mixed", "app": "http://127.0.0.1:3000" }',
    );
    await file('mixed/docker-compose.yml', 'services:\n  app: { image: shop }\n');
    await file('mixed/k8s.yaml', 'kind: Service\n---\nkind: Deployment\n');
    await file('mixed/.gitlab-ci.yml', 'stages: [test]\n');
    await file(
      'mixed/smoke.yml',
      'config:\n  phases: [{ duration: 1, arrivalRate: 1 }]\nscenarios:\n  - flow: [{ get: { url: /health } }]\n',
    );
    await file('mixed/broken.yml', 'config: [\n');
    await file(
      'mixed/templated.yml',
      'config:\n  phases: [{ duration: "{{ secs }}", arrivalRate: 1 }]\nscenarios:\n  - flow: [{ get: { url: /health } }]\n',
    );
    const cli = runCli(['list', '--config', config], { cwd: dir });
    expect((await cli.exited).code, cli.stderr()).toBe(0);
    const out = cli.stdout();
    expect(out).toMatch(/^ {2}smoke +1 s/m);
    // A duration given with -v at run: not known here, and not 0.
    expect(out).toMatch(/^ {2}templated +\? s/m);
    // A broken file may be a broken scenario: it is still shown, saying where.
    expect(out).toMatch(/^ {2}broken\.yml +INVALID: .*broken\.yml:2:1: YAML/m);
    expect(out).toContain('(other YAML, not scenarios: docker-compose.yml, k8s.yaml)');
    expect(out).not.toMatch(/gitlab|docker-compose\.yml +INVALID/);
  });

  it('finds the config nearest to the scenario, else to the working directory, else the shop', async () => {
    const scenario = await file('near/deep/scenarios/s.yml', 'x');
    const near = await file('near/loadtest.config.json', '{}');
    expect(locateProject({ scenarioPath: scenario, cwd: tmpdir() })).toEqual({
      file: near,
      isDefault: false,
    });
    expect(locateProject({ cwd: join(dir, 'near', 'deep') })).toEqual({ file: near, isDefault: false });
    expect(locateProject({ config: near, cwd: '/' })).toEqual({ file: near, isDefault: false });
    expect(() => locateProject({ config: join(dir, 'missing.yml') })).toThrow(/--config: no such file/);
    // --config may name the project's folder; a CommonJS config is found like the others.
    expect(locateProject({ config: join(dir, 'near') })).toEqual({ file: near, isDefault: false });
    expect(() => locateProject({ config: join(dir, 'near', 'deep') })).toThrow(
      /--config: no project config in the folder .*deep \(one of loadtest\.config\.ts, /,
    );
    const cjs = await file('cjsnear/loadtest.config.cjs', "module.exports = { name: 'found' };\n");
    expect(locateProject({ cwd: join(dir, 'cjsnear') })).toEqual({ file: cjs, isDefault: false });
    expect(await loadProject(cjs)).toMatchObject({ name: 'found' });
    // Nothing around: the reference shop, loaded like any other config.
    const lone = await mkdtemp(join(tmpdir(), 'loadtest-lone-'));
    expect(locateProject({ cwd: lone })).toEqual({ file: DEFAULT_PROJECT_FILE, isDefault: true });
    const shop = await loadProject(DEFAULT_PROJECT_FILE, true);
    expect(shop.patterns.map((p) => p.id)).toEqual([...patternIds]);
    expect(shop.tables.map((t) => t.name)).toEqual(['shop']);
  });

  it("checks a scenario against its project: thresholds on the project's patterns, capacity on its tables", async () => {
    const project = await loadProject(
      await file(
        'scen/loadtest.config.yml',
        'tables: [{ name: orders, partitionKey: id, globalSecondaryIndexes: [{ name: byX, partitionKey: x }] }]\npatterns: [{ id: getOrder }]\n',
      ),
    );
    const scenario = (loadtest: string) =>
      file(
        `scen/${loadtest.length}.yml`,
        `config:\n  phases: [{ duration: 1, arrivalRate: 1 }]\n  loadtest:\n${loadtest}\nscenarios: [{ flow: [{ get: { url: /, name: home } }] }]\n`,
      );
    const ok = loadScenario(
      await scenario(
        '    thresholds: { getOrder: ["p99 < 5"], home: ["errorRate < 0.1"] }\n    capacity: { tables: { orders: { indexes: { byX: { read: 1, write: 1 } } } } }',
      ),
      project,
    );
    expect(ok.thresholds.map((t) => t.pattern)).toEqual(['getOrder', 'home']);
    expect(() => loadScenario('/nope/x.yml', project)).toThrow(ScenarioError);
    const unknown = await scenario('    thresholds: { getOrdr: ["p99 < 5"] }');
    expect(() => loadScenario(unknown, project)).toThrow(
      /unknown access pattern "getOrdr"; the patterns of project scen .*: \* getOrder; or a request name of this scenario: home/,
    );
    const table = await scenario('    capacity: { tables: { ordrs: { mode: on-demand } } }');
    expect(() => loadScenario(table, project)).toThrow(
      /capacity\.tables\.ordrs: no table "ordrs" in project scen; its tables: orders/,
    );
    const index = await scenario('    capacity: { indexes: { byY: { read: 1, write: 1 } } }');
    expect(() => loadScenario(index, project)).toThrow(/no GSI "byY"; the GSIs: byX/);
    // Phase numbers as the artillery CLI takes them: "2", or the environment's, rendered once.
    const templated = await file(
      'scen/env.yml',
      'config:\n  phases:\n    - { duration: "{{ $env.LT_DUR }}", arrivalRate: "{{ $processEnvironment.LT_RATE }}" }\n    - { duration: 1, arrivalCount: "2" }\nscenarios: [{ flow: [{ get: { url: / } }] }]\n',
    );
    process.env.LT_DUR = '3';
    process.env.LT_RATE = '2';
    try {
      expect(loadScenario(templated, project).script.config.phases).toEqual([
        { duration: 3, arrivalRate: 2 },
        { duration: 1, arrivalCount: 2 },
      ]);
      delete process.env.LT_DUR;
      expect(() => loadScenario(templated, project)).toThrow(
        /env\.yml:3:\d+: config\.phases\.0\.duration: "\{\{ \$env\.LT_DUR \}\}": the environment variable LT_DUR is not set/,
      );
    } finally {
      delete process.env.LT_DUR;
      delete process.env.LT_RATE;
    }
    // Other templates wait for the run's variables, rendered once at start as the artillery CLI does;
    // one that names nothing the run knows is refused naming the variable, not read as 0.
    const random = await file(
      'scen/random.yml',
      'config:\n  phases: [{ duration: "{{ secs }}", arrivalRate: "{{ $randomNumber(1, 3) }}" }]\n  variables: { key: "{{ $randomString(9) }}", dir: "{{ $dirname }}" }\nscenarios: [{ flow: [{ get: { url: / } }] }]\n',
    );
    const deferred = loadScenario(random, project);
    expect(deferred.script.config.phases).toEqual([
      { duration: '{{ secs }}', arrivalRate: '{{ $randomNumber(1, 3) }}' },
    ]);
    await expect(renderScriptTemplates(loadScenario(random, project), {})).rejects.toThrow(
      /random\.yml: config\.phases\.0\.duration: "\{\{ secs \}\}" rendered to nothing: give secs with -v '\{"secs": \.\.\.\}'/,
    );
    await renderScriptTemplates(deferred, { variables: '{"secs": "2"}' });
    const [phase] = deferred.script.config.phases ?? [];
    expect(phase?.duration).toBe(2);
    expect([1, 2, 3]).toContain(phase?.arrivalRate);
    expect(deferred.script.config.variables).toEqual({
      key: expect.stringMatching(/^\w{9}$/),
      dir: dirname(random),
    });
    // A phase's name is text: a template there that renders to nothing is Artillery's business.
    const named = await file(
      'scen/named.yml',
      'config:\n  phases: [{ duration: 1, arrivalRate: 1, name: "{{ $environment }}" }]\nscenarios: [{ flow: [{ get: { url: / } }] }]\n',
    );
    await renderScriptTemplates(loadScenario(named, project), {});
    // --duration and --rate together replace the phases: their templates need no value.
    await renderScriptTemplates(loadScenario(random, project), { duration: 2, rate: 1 });
    // A function template Artillery cannot parse is the script's fault, said as such.
    const broken = await file(
      'scen/broken.yml',
      'config:\n  phases: [{ duration: 1, arrivalRate: 1 }]\n  variables: { k: "{{ $randomString(a b) }}" }\nscenarios: [{ flow: [{ get: { url: / } }] }]\n',
    );
    await expect(renderScriptTemplates(loadScenario(broken, project), {})).rejects.toThrow(
      /broken\.yml: config: a template Artillery cannot render: /,
    );
    // A value no template could become is still refused at load, where its line is known.
    const text = await file(
      'scen/text.yml',
      'config:\n  phases: [{ duration: 1, arrivalRate: "fast" }]\nscenarios: [{ flow: [{ get: { url: / } }] }]\n',
    );
    expect(() => loadScenario(text, project)).toThrow(
      /text\.yml:2:\d+: config\.phases\.0\.arrivalRate: expected a number, a number as text \("2"\) or a \{\{ template \}\}/,
    );
    // An ensure expression that does not parse is quoted as written, not as rewritten for filtrex.
    const ensure = await file(
      'scen/ensure.yml',
      'config:\n  phases: [{ duration: 1, arrivalRate: 1 }]\n  ensure:\n    conditions:\n      - expression: "http.codes.200 >"\nscenarios: [{ flow: [{ get: { url: / } }] }]\n',
    );
    expect(() => loadScenario(ensure, project)).toThrow(
      /config\.ensure: cannot parse "http\.codes\.200 >": Expecting .*got 'EndOfExpression'$/,
    );
    // A function step with no processor to define it.
    const noProcessor = await file(
      'scen/fn.yml',
      'config:\n  phases: [{ duration: 1, arrivalRate: 1 }]\nscenarios:\n  - flow:\n      - get: { url: / }\n      - function: pick\n',
    );
    expect(() => loadScenario(noProcessor, project)).toThrow(
      /fn\.yml:6:\d+: scenarios\.0\.flow\.1\.function: function "pick" named, but the script has no config\.processor/,
    );
    // A misspelt key is pointed at on its own line (line 5), not at the first line of its object.
    const misspelt = await scenario('    thresholds: { getOrder: ["p99 < 5"] }\n    forcast: { rate: 10 }');
    expect(() => loadScenario(misspelt, project)).toThrow(
      /\.yml:5:\d+: config\.loadtest: Unrecognized key: "forcast" \(did you mean "forecast"\?\)/,
    );
  });

  it("judges a run by the thresholds and ensure checks an environment or --overrides brings, checked as the file's", async () => {
    const project = await loadProject(
      await file(
        'gate/loadtest.config.yml',
        'tables: [{ name: orders, partitionKey: id }]\npatterns: [{ id: getOrder }]\n',
      ),
    );
    const path = await file(
      'gate/s.yml',
      [
        'config:',
        '  phases: [{ duration: 1, arrivalRate: 1 }]',
        '  ensure: { p99: 5000 }',
        '  loadtest: { thresholds: { getOrder: ["p99 < 900"] } }',
        '  environments:',
        '    strict:',
        '      ensure: { p99: 1 }',
        '      loadtest: { thresholds: { getOrder: ["p95 < 2"] } }',
        '    typo:',
        '      loadtest: { thresholds: { getOrdr: ["p95 < 2"] } }',
        'scenarios: [{ flow: [{ get: { url: /, name: getOrder } }] }]',
        '',
      ].join('\n'),
    );
    const strict = loadScenario(path, project);
    applyScriptFlags(strict, { environment: 'strict', defaultThresholds: true }, project);
    expect(strict.ensure.map((e) => e.expression)).toEqual(['http.response_time.p99 < 1']);
    // Thresholds merge per pattern as Artillery merges an environment: the environment's list wins.
    expect(strict.thresholds.map((t) => `${t.pattern} ${t.source}`)).toEqual(['getOrder p95 < 2']);
    const over = loadScenario(path, project);
    applyScriptFlags(
      over,
      {
        overrides: '{"config": {"loadtest": {"thresholds": {"*": ["errorRate < 0.5"]}}}}',
        defaultThresholds: true,
      },
      project,
    );
    expect(over.thresholds.map((t) => `${t.pattern} ${t.source}`)).toEqual([
      'getOrder p99 < 900',
      '* errorRate < 0.5',
    ]);
    expect(over.ensure.map((e) => e.expression)).toEqual(['http.response_time.p99 < 5000']);
    expect(() =>
      applyScriptFlags(
        loadScenario(path, project),
        { environment: 'typo', defaultThresholds: true },
        project,
      ),
    ).toThrow(/^--environment typo: config\.loadtest\.thresholds: unknown access pattern "getOrdr"/);
    expect(() =>
      applyScriptFlags(
        loadScenario(path, project),
        {
          overrides: '{"config": {"loadtest": {"thresholds": {"getOrder": ["p99 < 5ms"]}}}}',
          defaultThresholds: true,
        },
        project,
      ),
    ).toThrow(/^--overrides: config\.loadtest\.thresholds\.getOrder: /);
    expect(() =>
      applyScriptFlags(
        loadScenario(path, project),
        { overrides: '{"config": {"loadtest": {"thresholdz": {}}}}', defaultThresholds: true },
        project,
      ),
    ).toThrow(
      /^--overrides: config\.loadtest: Unrecognized key: "thresholdz" \(did you mean "thresholds"\?\)/,
    );
  });
});
