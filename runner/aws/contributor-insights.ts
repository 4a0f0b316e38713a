import {
  type CloudWatchClient,
  GetInsightRuleReportCommand,
  type GetInsightRuleReportCommandInput,
  type GetInsightRuleReportCommandOutput,
} from '@aws-sdk/client-cloudwatch';
import { DescribeContributorInsightsCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { HotKey } from '../metrics/index.js';

/**
 * Hot partition keys on AWS: CloudWatch Contributor Insights for DynamoDB (what `-c
 * contributorInsights` turns on for the table and each GSI). DynamoDB creates the rules itself, named
 * `DynamoDBContributorInsights-<PKC|PKT|SKC|SKT>-<resource>-<creation timestamp>` (PKC: most accessed
 * partition keys, PKT: most throttled partition keys; SKC/SKT the same per partition and sort key).
 * The timestamp makes the names underivable, so DescribeContributorInsights (per table, per GSI) gives
 * them; GetInsightRuleReport then reads each rule's top contributors for the run's window. A
 * contributor's Keys are the partition key's value, its ApproximateAggregateValue the requests (PKC)
 * or throttled requests (PKT) for that key in the window. Contributor Insights counts requests, not
 * capacity: the rows carry `accesses`, and rcu/wcu null.
 */
export interface InsightTarget {
  readonly table: string;
  /** A GSI's name; null for the table itself. */
  readonly index: string | null;
}

export interface InsightRules {
  readonly target: InsightTarget;
  /** DescribeContributorInsights' ContributorInsightsStatus (ENABLED, DISABLED, ...). */
  readonly status: string;
  /** The most-accessed partition keys rule (absent in throttled-keys mode). */
  readonly accessed?: string;
  /** The most-throttled partition keys rule. */
  readonly throttled?: string;
}

/** The run's window on minute boundaries, as GetMetricData reads it, and its length in seconds. */
export interface InsightWindow {
  readonly start: Date;
  readonly end: Date;
  readonly period: number;
}

/** The most-accessed keys read per table or GSI: the gate's report keeps 10 as well. */
export const ACCESSED_CONTRIBUTORS = 10;
/** GetInsightRuleReport's maximum: a key below the throttled list's last one is rare. */
export const THROTTLED_CONTRIBUTORS = 100;
/** The report's hot keys, over all tables and GSIs, as the gate's. */
export const HOT_KEYS = 10;

const ruleOf = (names: readonly string[], kind: 'PKC' | 'PKT') =>
  names.find((n) => n.startsWith(`DynamoDBContributorInsights-${kind}-`));

const targetName = (t: InsightTarget) => (t.index ? `${t.table}/${t.index}` : t.table);

export class ContributorInsightsReader {
  constructor(
    private readonly cloudwatch: CloudWatchClient,
    private readonly dynamodb: DynamoDBClient,
    private readonly targets: readonly InsightTarget[],
  ) {}

  /** DynamoDB's rules for one table or GSI. */
  async rules(target: InsightTarget): Promise<InsightRules> {
    const res = await this.dynamodb.send(
      new DescribeContributorInsightsCommand({
        TableName: target.table,
        ...(target.index ? { IndexName: target.index } : {}),
      }),
    );
    const names = res.ContributorInsightsRuleList ?? [];
    const accessed = ruleOf(names, 'PKC');
    const throttled = ruleOf(names, 'PKT');
    return {
      target,
      status: res.ContributorInsightsStatus ?? 'DISABLED',
      ...(accessed ? { accessed } : {}),
      ...(throttled ? { throttled } : {}),
    };
  }

  /** The GetInsightRuleReport request for a rule over the window (exposed for tests). */
  static request(rule: string, window: InsightWindow, max: number): GetInsightRuleReportCommandInput {
    return {
      RuleName: rule,
      StartTime: window.start,
      EndTime: window.end,
      // One datapoint for the whole window; the contributors' values cover it whatever the period.
      Period: window.period,
      MaxContributorCount: max,
      OrderBy: 'Sum',
    };
  }

  private async top(rule: string, window: InsightWindow, max: number): Promise<Map<string, number>> {
    const res: GetInsightRuleReportCommandOutput = await this.cloudwatch.send(
      new GetInsightRuleReportCommand(ContributorInsightsReader.request(rule, window, max)),
    );
    const keys = new Map<string, number>();
    for (const c of res.Contributors ?? []) {
      const key = (c.Keys ?? []).join(' | ');
      keys.set(key, (keys.get(key) ?? 0) + (c.ApproximateAggregateValue ?? 0));
    }
    return keys;
  }

  /**
   * The hot keys of the window, busiest first (throttles, then accesses), and what was not measured:
   * a table or GSI without Contributor Insights, one in throttled-keys mode (no accesses), one whose
   * rules could not be read.
   */
  async read(window: InsightWindow): Promise<{ hotKeys: HotKey[]; notMeasured?: string }> {
    const off: string[] = [];
    const throttledOnly: string[] = [];
    const failed: string[] = [];
    const hotKeys: HotKey[] = [];
    for (const target of this.targets) {
      try {
        const rules = await this.rules(target);
        if (rules.status !== 'ENABLED' || !rules.throttled) {
          off.push(targetName(target));
          continue;
        }
        const throttled = await this.top(rules.throttled, window, THROTTLED_CONTRIBUTORS);
        const accessed = rules.accessed
          ? await this.top(rules.accessed, window, ACCESSED_CONTRIBUTORS)
          : undefined;
        if (!accessed) throttledOnly.push(targetName(target));
        for (const key of new Set([...(accessed?.keys() ?? []), ...throttled.keys()])) {
          const n = accessed?.get(key);
          hotKeys.push({
            table: target.table,
            index: target.index,
            partitionKey: key,
            rcu: null,
            wcu: null,
            ...(accessed ? { accesses: n ?? 0 } : {}),
            // Not among the throttled rule's contributors: no throttled request for this key.
            throttleEvents: throttled.get(key) ?? 0,
          });
        }
      } catch (err) {
        failed.push(`${targetName(target)} (${(err as Error).name}: ${(err as Error).message})`);
      }
    }
    const notes = [
      off.length > 0
        ? `Contributor Insights is off on ${off.join(', ')} (deploy with -c contributorInsights=accessed-and-throttled)`
        : '',
      throttledOnly.length > 0
        ? `accesses per key not counted on ${throttledOnly.join(', ')} (Contributor Insights in throttled-keys mode)`
        : '',
      failed.length > 0 ? `could not read Contributor Insights of ${failed.join(', ')}` : '',
    ].filter(Boolean);
    const measured = this.targets.length - off.length - failed.length;
    hotKeys.sort((a, b) => b.throttleEvents - a.throttleEvents || (b.accesses ?? 0) - (a.accesses ?? 0));
    return {
      hotKeys: hotKeys.slice(0, HOT_KEYS),
      ...(notes.length > 0
        ? {
            notMeasured: `hot keys ${measured === 0 ? 'not measured' : 'partly measured'}: ${notes.join('; ')}`,
          }
        : {}),
    };
  }
}
