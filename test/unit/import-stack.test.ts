import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { App, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { configFromContext } from '../../infra/config.js';
import { REPO_ROOT } from '../../infra/paths.js';
import { DEFAULT_IMPORT, ImportStack } from '../../infra/stacks/import.js';

/** The distributed import stack, synthesized on its own (bundling its Lambda with esbuild, as a deploy would). */
const TABLE_ARN = 'arn:aws:dynamodb:us-east-1:123456789012:table/shop';
let app: App;
let stack: ImportStack;
let template: Template;

type Statement = { Action: string | string[]; Resource: unknown; Effect: string };

// Inside the repository (ignored), so the bundle's bare imports (@aws-sdk/*, which Lambda provides)
// resolve from node_modules when the test loads it.
const OUTDIR = join(REPO_ROOT, '.loadtest', 'test-import-stack');

beforeAll(async () => {
  await rm(OUTDIR, { recursive: true, force: true });
  app = new App({ outdir: OUTDIR });
  stack = new ImportStack(app, 'Import', {
    tableName: 'shop',
    tableArn: TABLE_ARN,
    entry: join(REPO_ROOT, 'infra/functions/import-batch.ts'),
    concurrency: 50,
    batchSize: 100,
  });
  template = Template.fromStack(stack);
}, 60_000);

/** The state machine's definition, with CloudFormation's joins flattened to placeholders. */
function definition(): { States: Record<string, Record<string, unknown>> } {
  const sm = Object.values(template.findResources('AWS::StepFunctions::StateMachine'))[0] as {
    Properties: { DefinitionString: { 'Fn::Join': [string, unknown[]] } };
  };
  const text = sm.Properties.DefinitionString['Fn::Join'][1]
    .map((p) => (typeof p === 'string' ? p : 'REF'))
    .join('');
  return JSON.parse(text);
}

describe('the distributed import stack', () => {
  it('reads the dump with a Distributed Map (JSON lines or CSV item reader), batches rows and sums up at the end', () => {
    const states = definition().States;
    for (const [name, inputType] of [
      ['ImportJsonLines', 'JSONL'],
      ['ImportCsv', 'CSV'],
    ] as const) {
      expect(states[name], name).toMatchObject({
        Type: 'Map',
        ItemProcessor: { ProcessorConfig: { Mode: 'DISTRIBUTED' } },
        ItemReader: {
          Resource: expect.stringMatching(/:states:::s3:getObject$/),
          ReaderConfig: { InputType: inputType },
          Parameters: { 'Key.$': '$.key' },
        },
        ItemSelector: { 'row.$': '$$.Map.Item.Value', 'index.$': '$$.Map.Item.Index' },
        ItemBatcher: {
          MaxItemsPerBatch: 100,
          MaxInputBytesPerBatch: expect.any(Number),
          BatchInput: expect.objectContaining({ 'entity.$': '$.entity', 'key.$': '$.key' }),
        },
        MaxConcurrency: 50,
        ResultWriter: { Parameters: { Prefix: 'results' } },
        Next: 'Summarize',
      });
      const processor = states[name]?.ItemProcessor as
        | { States: Record<string, { Retry: { ErrorEquals: string[]; JitterStrategy?: string }[] }> }
        | undefined;
      const batch = Object.values(processor?.States ?? {})[0];
      // A batch that ran out of write capacity runs again, with backoff and jitter.
      expect(batch?.Retry).toContainEqual(
        expect.objectContaining({
          ErrorEquals: expect.arrayContaining(['ImportWriteFailed']),
          JitterStrategy: 'FULL',
        }),
      );
    }
    expect(states.ImportCsv?.ItemReader).toMatchObject({ ReaderConfig: { CSVHeaderLocation: 'FIRST_ROW' } });
    expect(states.Summarize).toMatchObject({
      Type: 'Task',
      Parameters: { summarize: { 'manifestKey.$': '$.map.ResultWriterDetails.Key' } },
    });
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: Match.objectLike({ Level: 'ALL' }),
    });
  });

  it("runs the shop's batch Lambda on Node 24, bundled, told its table and bucket", async () => {
    // The bundle Lambda would run loads as an ES module and exports the handler.
    const assets = (await readdir(OUTDIR)).filter((d) => d.startsWith('asset.'));
    expect(assets).toHaveLength(1);
    const bundle = (await import(pathToFileURL(join(OUTDIR, assets[0] as string, 'index.mjs')).href)) as {
      handler?: unknown;
    };
    expect(bundle.handler).toBeTypeOf('function');
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Handler: 'index.handler',
      Environment: { Variables: { TABLE_NAME: 'shop', BUCKET: Match.anyValue() } },
    });
    template.resourceCountIs('AWS::Lambda::Function', 1);
  });

  it('gives the Lambda only BatchWriteItem on the table, its bucket prefixes and its logs', () => {
    const policies = template.findResources('AWS::IAM::Policy');
    const lambdaPolicy = Object.entries(policies).find(([id]) => id.startsWith('ImportBatchRole'))?.[1] as {
      Properties: { PolicyDocument: { Statement: Statement[] } };
    };
    const statements = lambdaPolicy.Properties.PolicyDocument.Statement.map((s) => ({
      actions: [s.Action].flat(),
      resources: JSON.stringify(s.Resource),
    }));
    expect(statements.map((s) => s.actions)).toEqual([
      ['logs:CreateLogStream', 'logs:PutLogEvents'],
      ['dynamodb:BatchWriteItem'],
      ['s3:PutObject'],
      ['s3:GetObject'],
    ]);
    expect(statements[1]?.resources).toBe(JSON.stringify(TABLE_ARN));
    expect(statements[2]?.resources).toMatch(/\/rejects\/\*.*\/summaries\/\*/);
    expect(statements[3]?.resources).toMatch(/\/results\/\*/);
    // No wildcard action in any policy of the stack.
    for (const p of Object.values(policies) as {
      Properties: { PolicyDocument: { Statement: Statement[] } };
    }[]) {
      for (const s of p.Properties.PolicyDocument.Statement)
        for (const a of [s.Action].flat()) expect(a).not.toMatch(/\*/);
    }
    template.hasResourceProperties('AWS::S3::Bucket', {
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, RestrictPublicBuckets: true },
    });
  });

  it('passes cdk-nag AwsSolutions, acknowledging only run-time-named prefixes and AWS-required wildcards', () => {
    const report = new AwsSolutionsChecks().validateScope(app);
    expect(
      report.violations.map((v) => `${v.ruleName} ${v.violatingResources.map((r) => r.constructPath)}`),
    ).toEqual([]);
    const reasons: string[] = [];
    for (const c of app.node.findAll())
      for (const m of c.node.metadata)
        if (m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
          reasons.push(...Object.values(m.data as Record<string, string>));
    expect(reasons.length).toBeGreaterThan(0);
    for (const r of reasons) expect(r.length).toBeGreaterThan(60);
  });

  it('says the write capacity it will ask for before any run', () => {
    const out = template.toJSON().Outputs.ImportWriteCapacity.Value as string;
    expect(out).toMatch(/^up to 50 batches of 100 rows at once, 5000 item writes in flight/);
  });

  it('is in the deployment only with -c import=true, taking concurrency and batch size from context', () => {
    const ctx = (values: Record<string, string>) => ({ tryGetContext: (k: string) => values[k] });
    expect(configFromContext(ctx({})).import).toBeUndefined();
    expect(configFromContext(ctx({ import: 'true' })).import).toEqual(DEFAULT_IMPORT);
    expect(
      configFromContext(ctx({ import: 'true', importConcurrency: '500', importBatchSize: '50' })).import,
    ).toEqual({ concurrency: 500, batchSize: 50 });
    expect(() => configFromContext(ctx({ import: 'true', importConcurrency: '20000' }))).toThrow(
      /importConcurrency/,
    );
  });
});
