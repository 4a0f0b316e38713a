import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import * as cw from 'aws-cdk-lib/aws-cloudwatch';
import type { Construct } from 'constructs';
import { type DashboardPattern, LoadtestDashboard } from '../../dashboards/index.js';

export const THROTTLE_METRICS = ['ReadThrottleEvents', 'WriteThrottleEvents'] as const;

export interface ObservabilityStackProps extends StackProps {
  readonly tableName: string;
  readonly indexNames: readonly string[];
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
 * one alarm per throttle metric of the table and of each GSI: any throttle event in a minute. Generic:
 * it knows the app only through its props (a project's patterns, its EMF service), never app/.
 */
export class ObservabilityStack extends Stack {
  readonly dashboard: cw.Dashboard;
  readonly alarms: readonly cw.Alarm[];

  constructor(scope: Construct, id: string, props: ObservabilityStackProps) {
    super(scope, id, props);

    this.dashboard = new LoadtestDashboard(this, 'Loadtest', {
      tableName: props.tableName,
      dashboardName: props.dashboardName,
      indexes: props.indexNames,
      patterns: props.patterns,
      ...(props.service ? { service: props.service } : {}),
      ...(props.namespace ? { namespace: props.namespace } : {}),
    }).dashboard;

    const alarms: cw.Alarm[] = [];
    for (const index of [undefined, ...props.indexNames]) {
      for (const metricName of THROTTLE_METRICS) {
        const where = index ? `GSI ${index}` : 'the table';
        alarms.push(
          new cw.Alarm(this, `${index ?? 'Table'}${metricName}`, {
            alarmDescription: `DynamoDB throttled ${metricName.startsWith('Read') ? 'reads' : 'writes'} on ${where}`,
            metric: new cw.Metric({
              namespace: 'AWS/DynamoDB',
              metricName,
              dimensionsMap: index
                ? { TableName: props.tableName, GlobalSecondaryIndexName: index }
                : { TableName: props.tableName },
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
    this.alarms = alarms;
    this.dashboard.addWidgets(
      new cw.AlarmStatusWidget({ title: 'Throttle alarms', alarms, width: 24, height: 3 }),
    );

    new CfnOutput(this, 'DashboardName', { value: this.dashboard.dashboardName });
  }
}
