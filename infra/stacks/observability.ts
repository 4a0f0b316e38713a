import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import * as cw from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import { type DashboardPattern, type DashboardTable, LoadtestDashboard } from '../../dashboards/index.js';

export const THROTTLE_METRICS = ['ReadThrottleEvents', 'WriteThrottleEvents'] as const;

export interface ObservabilityStackProps extends StackProps {
  /** One table (the shop's, a token from its Data stack) and its GSIs; or `tables` for several. */
  readonly tableName?: string;
  readonly indexNames?: readonly string[];
  /** A project's tables, each with its GSIs (LSIs have no metrics of their own). */
  readonly tables?: readonly DashboardTable[];
  /**
   * The app's URL when the deployment has no Service stack of its own (a user's app, deployed
   * elsewhere): published as the `AppUrl` output, with the tables as the `Tables` output (JSON), so
   * `loadtest run --target aws` finds everything in this stack and the Runners stack; and the
   * project it is for (`service`) as the `Project` output.
   */
  readonly appUrl?: string;
  readonly dashboardName: string;
  /** The project's access patterns (ids, or with descriptions): one dashboard row each. */
  readonly patterns: readonly (string | DashboardPattern)[];
  /** The app's EMF `Service` dimension: the project's name (default the instrument's, "app"). */
  readonly service?: string;
  /** The app's EMF namespace (default the instrument's, `DynamoLoadtest/App`). */
  readonly namespace?: string;
}

/**
 * The per-access-pattern dashboard (dashboards/, the same definition as the local HTML report) and
 * one alarm per throttle metric of each table and of each of its GSIs: any throttle event in a minute. Generic:
 * it knows the app only through its props (a project's patterns, its EMF service), never app/.
 */
export class ObservabilityStack extends Stack {
  readonly dashboard: cw.Dashboard;
  readonly alarms: readonly cw.Alarm[];

  constructor(scope: Construct, id: string, props: ObservabilityStackProps) {
    super(scope, id, props);

    const tables: DashboardTable[] = [
      ...(props.tableName ? [{ name: props.tableName, indexes: props.indexNames ?? [] }] : []),
      ...(props.tables ?? []),
    ];
    if (tables.length === 0) throw new Error('ObservabilityStack: no table (tableName or tables)');
    this.dashboard = new LoadtestDashboard(this, 'Loadtest', {
      tables,
      dashboardName: props.dashboardName,
      patterns: props.patterns,
      ...(props.service ? { service: props.service } : {}),
      ...(props.namespace ? { namespace: props.namespace } : {}),
    }).dashboard;

    const alarms: cw.Alarm[] = [];
    for (const table of tables) {
      // The single table keeps its alarms' construct ids (and so their logical ids) as they were;
      // several tables get a scope each, named by the table.
      const scope = props.tables ? new Construct(this, `Table-${table.name}`) : this;
      const several = tables.length > 1;
      for (const index of [undefined, ...(table.indexes ?? [])]) {
        for (const metricName of THROTTLE_METRICS) {
          const where = index
            ? `GSI ${index}${several ? ` of table ${table.name}` : ''}`
            : several
              ? `table ${table.name}`
              : 'the table';
          alarms.push(
            new cw.Alarm(scope, `${index ?? 'Table'}${metricName}`, {
              alarmDescription: `DynamoDB throttled ${metricName.startsWith('Read') ? 'reads' : 'writes'} on ${where}`,
              metric: new cw.Metric({
                namespace: 'AWS/DynamoDB',
                metricName,
                dimensionsMap: index
                  ? { TableName: table.name, GlobalSecondaryIndexName: index }
                  : { TableName: table.name },
                statistic: cw.Stats.SUM,
                period: Duration.minutes(1),
              }),
              comparisonOperator: cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
              threshold: 0,
              evaluationPeriods: 1,
              // No data means no throttling: DynamoDB publishes throttle metrics only when they happen.
              treatMissingData: cw.TreatMissingData.NOT_BREACHING,
            }),
          );
        }
      }
    }
    this.alarms = alarms;
    this.dashboard.addWidgets(
      new cw.AlarmStatusWidget({ title: 'Throttle alarms', alarms, width: 24, height: 3 }),
    );

    new CfnOutput(this, 'DashboardName', { value: this.dashboard.dashboardName });
    if (props.appUrl !== undefined) {
      new CfnOutput(this, 'AppUrl', { value: props.appUrl });
      new CfnOutput(this, 'Tables', {
        value: this.toJsonString(tables.map((t) => ({ name: t.name, indexes: [...(t.indexes ?? [])] }))),
      });
      // Which project's patterns and EMF service the dashboard draws: a run of another one would
      // read metrics nobody publishes.
      new CfnOutput(this, 'Project', { value: props.service ?? 'app' });
    }
  }
}
