/**
 * The public face of infra/: what the `loadtest` CLI needs to find a deployment, with no CDK import
 * (loading aws-cdk-lib costs about a second). The CDK app itself is `infra/app.ts`; its stacks are
 * built by `buildLoadtestApp` in `infra/loadtest-app.ts`.
 */

/** Stacks are named `${prefix}-${suffix}`; the prefix is the `stackName` context (`-c stackName=...`). */
export const DEFAULT_STACK_PREFIX = 'DynamoLoadtest';

export const STACK_SUFFIXES = ['Data', 'Service', 'Runners', 'Observability', 'Events'] as const;
export type StackSuffix = (typeof STACK_SUFFIXES)[number];

/** The CloudFormation outputs each stack publishes, by exact key. */
export const OUTPUT_KEYS = {
  Data: ['TableName', 'TableArn'],
  Service: ['AppUrl', 'AuthSecretArn'],
  Runners: ['RunnerFunctionName'],
  Observability: ['DashboardName'],
  Events: ['TopicArn'],
} as const satisfies Record<StackSuffix, readonly string[]>;
export type OutputKey = (typeof OUTPUT_KEYS)[StackSuffix][number];

/**
 * A deployment for a project's own app (`-c project=<folder>`): the runners and the dashboard only,
 * next to an app and tables that already run. Its Observability stack also names the app
 * (`AppUrl`), the tables with their GSIs (`Tables`, JSON `[{"name":..., "indexes": [...]}]`) and
 * the project it was built for (`Project`, its name: the CLI refuses to run another project there).
 */
export const PROJECT_STACK_SUFFIXES = ['Runners', 'Observability'] as const;
export const PROJECT_OUTPUT_KEYS = {
  Runners: ['RunnerFunctionName'],
  Observability: ['DashboardName', 'AppUrl', 'Tables', 'Project'],
} as const satisfies Record<(typeof PROJECT_STACK_SUFFIXES)[number], readonly string[]>;

/** The default stack prefix of a project's deployment: `Loadtest-<project name>`, made a valid stack name. */
export function projectStackPrefix(projectName: string): string {
  return `Loadtest-${projectName.replace(/[^A-Za-z0-9-]+/g, '-')}`.slice(0, 81);
}

export function stackName(prefix: string, suffix: StackSuffix): string {
  return `${prefix}-${suffix}`;
}
