import type { Invoker } from '../engine/fanout.js';
import type { MetricsSource, RunWindow } from '../metrics/index.js';

/**
 * Where `loadtest run` sends load and reads the server side from: the embedded stack with local
 * worker processes, or a deployed stack with Lambda workers. The run itself (fan-out, merge,
 * report) is the same code for both.
 */
export interface RunTarget {
  readonly appUrl: string;
  readonly invoker: Invoker;
  readonly metrics: MetricsSource;
  /** "worker" or "Lambda worker", for messages. */
  readonly workerKind: string;
  /** Poll the server side during the run for the progress line (cheap locally, not on CloudWatch). */
  readonly live: boolean;
  /** Fixtures carried in each worker's event (AWS); local workers read the fixtures file. */
  readonly fixtures?: unknown;
  /** The scenario path as the workers see it (relative to the runner image's root on AWS). */
  readonly scriptPath?: string;
  /** Why the DynamoDB side is not measured, when `metrics` cannot measure it. */
  readonly notMeasured?: string;
  /**
   * The endpoint of a gate this run did not start (`loadtest up`'s): the app may not be using it, and a
   * run in which it saw no DynamoDB call at all has not measured the DynamoDB side.
   */
  readonly sharedGate?: string;
  /** How long before the host's time limit a worker stops (Lambda: so its result gets back). */
  readonly stopBeforeLimitMs?: number;
  /** Said when a run is stopped early (e.g. that Lambda invocations go on by themselves). */
  readonly abortNote?: string;
  /** Printed after the report (e.g. the CloudWatch dashboard's URL). */
  readonly links?: readonly string[];
  onFailure?(listener: (reason: string) => void): void;
  /** Wait until the server side of the window can be read (CloudWatch publishes with a delay). */
  settle?(window: RunWindow): Promise<void>;
  /** The load begins after the script's before flow: the DynamoDB side counts from here. */
  beginLoad?(): Promise<void>;
  stop(): Promise<void>;
}
