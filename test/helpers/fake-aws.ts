import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  EMF_COUNTERS,
  EMF_NAMESPACE,
  type EmfCounter,
  type MetricsSnapshot,
} from '../../instrument/index.js';
import type { GateSnapshot } from '../../local/index.js';

/**
 * Stand-ins for the AWS control-plane calls `loadtest run --target aws` makes (and the shop's data
 * command: Secrets Manager), on loopback, in the wire formats of the real services (CloudFormation's
 * Query/XML, Secrets Manager's and CloudWatch's JSON). CloudWatch answers GetMetricData from the
 * embedded stack's own numbers (the app's per-pattern counters, as its EMF lines would carry them, and
 * the capacity gate's CloudWatch-named metrics), so the AWS path can be compared with the local.
 */
export interface FakeAwsOptions {
  readonly stackName: string;
  /** The shop's five stacks' outputs, each put on the stack that publishes it. */
  readonly outputs: Record<string, string>;
  /**
   * Instead: exactly these stacks, by full name, with their outputs; DescribeStacks of any other
   * answers CloudFormation's "does not exist" error (a project's deployment has two stacks only).
   */
  readonly stacks?: Readonly<Record<string, Record<string, string>>>;
  /** The SecretString of the secret the AuthSecretArn output names (any other SecretId: not found). */
  readonly secret: string;
  /** The app's numbers, as its EMF lines would carry them (undefined: it publishes none). */
  readonly app: () => Promise<MetricsSnapshot | undefined>;
  readonly gate: () => GateSnapshot | undefined;
}

/** One metric query as CloudWatch received it. */
export interface SeenQuery {
  readonly namespace: string;
  readonly metric: string;
  readonly stat: string;
  readonly dimensions: Readonly<Record<string, string>>;
}

export interface FakeAws {
  readonly endpoint: string;
  /** Each call by action (`DescribeStacks <name>`, `GetSecretValue <id>`, `GetMetricData <n queries>`). */
  readonly calls: string[];
  /** Every GetMetricData query received. */
  readonly queries: SeenQuery[];
  close(): Promise<void>;
}

const SUFFIX_OF: Record<string, string> = {
  TableName: 'Data',
  TableArn: 'Data',
  AppUrl: 'Service',
  AuthSecretArn: 'Service',
  RunnerFunctionName: 'Runners',
  DashboardName: 'Observability',
  TopicArn: 'Events',
};

const xmlText = (v: string) => v.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function describeStacks(name: string, outputs: Record<string, string>, all = false): string {
  const members = Object.entries(outputs)
    .filter(([k]) => all || `${name.split('-').slice(0, -1).join('-')}-${SUFFIX_OF[k]}` === name)
    .map(([k, v]) => `<member><OutputKey>${k}</OutputKey><OutputValue>${xmlText(v)}</OutputValue></member>`)
    .join('');
  return `<DescribeStacksResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><DescribeStacksResult><Stacks><member><StackName>${name}</StackName><StackId>arn:aws:cloudformation:us-east-1:123456789012:stack/${name}/0</StackId><CreationTime>2026-11-20T09:14:03.512Z</CreationTime><StackStatus>CREATE_COMPLETE</StackStatus><Outputs>${members}</Outputs></member></Stacks></DescribeStacksResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></DescribeStacksResponse>`;
}

interface Query {
  Id: string;
  MetricStat: {
    Metric: { Namespace: string; MetricName: string; Dimensions: { Name: string; Value: string }[] };
    Stat: string;
  };
}

function answer(q: Query, app: MetricsSnapshot | undefined, gate: GateSnapshot | undefined): number[] {
  const m = q.MetricStat.Metric;
  const dims = Object.fromEntries(m.Dimensions.map((d) => [d.Name, d.Value]));
  if (m.Namespace === EMF_NAMESPACE) {
    const p = app?.patterns[dims.AccessPattern ?? ''];
    if (!p) return [];
    if (m.MetricName !== 'Latency') {
      const field = EMF_COUNTERS[m.MetricName as EmfCounter];
      return field ? [p[field]] : [];
    }
    const l = p.latencyMs;
    return [{ p50: l.p50, p95: l.p95, p99: l.p99, Maximum: l.max }[q.MetricStat.Stat] ?? 0];
  }
  const point = gate?.metrics.find(
    (x) =>
      x.name === m.MetricName &&
      Object.keys(x.dimensions).length === m.Dimensions.length &&
      m.Dimensions.every((d) => x.dimensions[d.Name] === d.Value),
  );
  if (!point) return [];
  const stat = q.MetricStat.Stat;
  if (stat === 'SampleCount') return [point.count];
  if (stat === 'Average') return [point.sum / Math.max(1, point.count)];
  if (stat === 'Maximum') return [point.max ?? 0];
  return [point.sum];
}

export async function startFakeAws(options: FakeAwsOptions): Promise<FakeAws> {
  const calls: string[] = [];
  const queries: SeenQuery[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const target = String(req.headers['x-amz-target'] ?? '');
      if (target === 'secretsmanager.GetSecretValue') {
        const { SecretId } = JSON.parse(body) as { SecretId: string };
        calls.push(`GetSecretValue ${SecretId}`);
        if (SecretId !== options.outputs.AuthSecretArn) {
          res.writeHead(400, { 'content-type': 'application/x-amz-json-1.1' });
          return res.end(
            JSON.stringify({
              __type: 'ResourceNotFoundException',
              message: "Secrets Manager can't find the specified secret.",
            }),
          );
        }
        res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
        return res.end(
          JSON.stringify({ ARN: SecretId, Name: 'auth', SecretString: options.secret, VersionId: 'v1' }),
        );
      }
      if (target === 'GraniteServiceVersion20100801.GetMetricData') {
        const { MetricDataQueries } = JSON.parse(body) as { MetricDataQueries: Query[] };
        calls.push(`GetMetricData ${MetricDataQueries.length}`);
        if (MetricDataQueries.length > 500) {
          res.writeHead(400, { 'content-type': 'application/x-amz-json-1.0' });
          return res.end(
            JSON.stringify({
              __type: 'InvalidParameterValueException',
              message: 'The collection MetricDataQueries must not have a size greater than 500.',
            }),
          );
        }
        for (const q of MetricDataQueries) {
          const m = q.MetricStat.Metric;
          queries.push({
            namespace: m.Namespace,
            metric: m.MetricName,
            stat: q.MetricStat.Stat,
            dimensions: Object.fromEntries(m.Dimensions.map((d) => [d.Name, d.Value])),
          });
        }
        const app = await options.app();
        const gate = options.gate();
        res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' });
        return res.end(
          JSON.stringify({
            MetricDataResults: MetricDataQueries.map((q) => {
              const values = answer(q, app, gate);
              return {
                Id: q.Id,
                Label: q.MetricStat.Metric.MetricName,
                Timestamps: values.map(() => Math.floor(Date.now() / 60_000) * 60),
                Values: values,
                StatusCode: 'Complete',
              };
            }),
            Messages: [],
          }),
        );
      }
      const form = new URLSearchParams(body);
      if (form.get('Action') === 'DescribeStacks') {
        const name = form.get('StackName') ?? '';
        calls.push(`DescribeStacks ${name}`);
        if (options.stacks) {
          const outputs = options.stacks[name];
          if (!outputs) {
            res.writeHead(400, { 'content-type': 'text/xml' });
            return res.end(
              `<ErrorResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><Error><Type>Sender</Type><Code>ValidationError</Code><Message>Stack with id ${name} does not exist</Message></Error><RequestId>1</RequestId></ErrorResponse>`,
            );
          }
          res.writeHead(200, { 'content-type': 'text/xml' });
          return res.end(describeStacks(name, outputs, true));
        }
        res.writeHead(200, { 'content-type': 'text/xml' });
        return res.end(describeStacks(name, options.outputs));
      }
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ message: `fake AWS: no answer for ${target || body.slice(0, 80)}` }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    calls,
    queries,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
