import type { MetricsSnapshot } from '../../app/index.js';
import type { GateSnapshot } from '../../local/index.js';
import type { MetricsSource, ServerView } from './source.js';

/** The app's own counters (GET /__metrics), reset at the start of a run; undefined if unreachable. */
export async function fetchAppMetrics(appUrl: string): Promise<MetricsSnapshot | undefined> {
  try {
    const res = await fetch(`${appUrl}/__metrics`, { signal: AbortSignal.timeout(5000) });
    return res.ok ? ((await res.json()) as MetricsSnapshot) : undefined;
  } catch {
    return undefined;
  }
}

/** On one machine: the app's counters and the capacity gate's, both counting since the run began. */
export class LocalMetricsSource implements MetricsSource {
  readonly describe: string;

  constructor(
    private readonly appUrl: string,
    private readonly gate?: { snapshot(): GateSnapshot },
  ) {
    this.describe = gate ? `${appUrl}/__metrics and the capacity gate` : `${appUrl}/__metrics`;
  }

  async read(): Promise<ServerView> {
    return { app: await fetchAppMetrics(this.appUrl), dynamodb: this.gate?.snapshot() };
  }
}
