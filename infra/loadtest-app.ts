import { join } from 'node:path';
import type { App, StackProps } from 'aws-cdk-lib';
import { accessPatterns, SHOP_SERVICE } from '../app/index.js';
import type { LoadtestConfig } from './config.js';
import { runnerStackProps } from './context.js';
import { stackName } from './index.js';
import { REPO_ROOT } from './paths.js';
import { DataStack } from './stacks/data.js';
import { EventsStack } from './stacks/events.js';
import { ImportStack } from './stacks/import.js';
import { ObservabilityStack } from './stacks/observability.js';
import { RunnersStack } from './stacks/runners.js';
import { ServiceStack } from './stacks/service.js';

export interface LoadtestStacks {
  readonly data: DataStack;
  readonly service: ServiceStack;
  readonly runners: RunnersStack;
  readonly observability: ObservabilityStack;
  readonly events: EventsStack;
  /** Only with `-c import=true`. */
  readonly import?: ImportStack;
}

/**
 * The five stacks of the shop's deployment, wired by props (CloudFormation exports between stacks).
 * The runners and observability stacks are generic; what they know of the shop comes in here.
 */
export function buildLoadtestApp(
  app: App,
  config: LoadtestConfig,
  stackProps: StackProps = {},
): LoadtestStacks {
  const name = (suffix: Parameters<typeof stackName>[1]) => ({
    ...stackProps,
    stackName: stackName(config.prefix, suffix),
  });
  const data = new DataStack(app, stackName(config.prefix, 'Data'), {
    ...name('Data'),
    billing: config.billing,
    removalPolicy: config.removalPolicy,
    contributorInsights: config.contributorInsights,
  });
  const tableRefs = { tableName: data.table.tableName, indexNames: data.indexNames };
  const service = new ServiceStack(app, stackName(config.prefix, 'Service'), {
    ...name('Service'),
    ...tableRefs,
    tableArn: data.table.tableArn,
    host: config.host,
    cpu: config.app.cpu,
    memory: config.app.memory,
  });
  const runners = new RunnersStack(app, stackName(config.prefix, 'Runners'), {
    ...name('Runners'),
    ...runnerStackProps(config.runner),
  });
  const observability = new ObservabilityStack(app, stackName(config.prefix, 'Observability'), {
    ...name('Observability'),
    ...tableRefs,
    dashboardName: config.prefix,
    // The shop's own patterns and EMF service: the generic stack gets them as props.
    patterns: accessPatterns.map((p) => ({ id: p.id, description: p.description })),
    service: SHOP_SERVICE,
  });
  const streamArn = data.table.tableStreamArn;
  if (!streamArn) throw new Error('the table has no stream');
  const events = new EventsStack(app, stackName(config.prefix, 'Events'), {
    ...name('Events'),
    tableStreamArn: streamArn,
    ...(config.notificationEmail ? { notificationEmail: config.notificationEmail } : {}),
  });
  // The distributed import, opt-in: a migration is a one-off, not part of every deployment.
  const importStack = config.import
    ? new ImportStack(app, `${config.prefix}-Import`, {
        ...stackProps,
        stackName: `${config.prefix}-Import`,
        tableName: data.table.tableName,
        tableArn: data.table.tableArn,
        entry: join(REPO_ROOT, 'infra/functions/import-batch.ts'),
        concurrency: config.import.concurrency,
        batchSize: config.import.batchSize,
      })
    : undefined;
  return { data, service, runners, observability, events, ...(importStack ? { import: importStack } : {}) };
}
