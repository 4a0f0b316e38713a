import { GateAdmin, type GateSnapshot } from '../../local/index.js';
import type { MetricsSource, RunWindow, ServerView } from './source.js';

/** A gate snapshot as a server view (the shapes line up: the gate's patterns are ServerPatterns). */
export function gateView(snapshot: GateSnapshot): ServerView {
  return {
    patterns: {
      since: new Date(snapshot.since).toISOString(),
      at: new Date(snapshot.at).toISOString(),
      patterns: snapshot.patterns,
    },
    dynamodb: {
      tables: snapshot.tables,
      hotKeys: snapshot.hotKeys,
      metrics: snapshot.metrics,
      keyLoad: snapshot.keyLoad,
      keySpread: snapshot.keySpread,
      capacity: snapshot.capacity,
    },
  };
}

/** On one machine: the capacity gate's counters, through its admin endpoint, since the run's reset. */
export class GateMetricsSource implements MetricsSource {
  readonly describe: string;
  private readonly admin: GateAdmin;

  constructor(adminUrl: string) {
    this.admin = new GateAdmin(adminUrl);
    this.describe = `the capacity gate (${adminUrl})`;
  }

  async read(_window?: RunWindow, options: { keys?: boolean } = {}): Promise<ServerView> {
    return gateView(await this.admin.snapshot(options));
  }
}

/** Nothing between the app and DynamoDB: the DynamoDB side is not measured. */
export class NoDynamoSource implements MetricsSource {
  constructor(readonly describe: string) {}

  async read(): Promise<ServerView> {
    return { patterns: undefined, dynamodb: undefined };
  }
}
