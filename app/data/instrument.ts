import type { ConsumedCapacity } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient, ServiceInputTypes, ServiceOutputTypes } from '@aws-sdk/lib-dynamodb';
import type { Command } from '@smithy/types';
import { type CapacityUse, isThrottle, type PatternMetrics, tagCommand } from 'dynamo-loadtest/instrument';
import { DomainError, translateAwsError } from '../errors.js';
import type { PatternId } from '../patterns.js';

/**
 * The one instrumented path to DynamoDB. Every access pattern runs inside `run(patternId, ...)`,
 * which names each command it sends with the toolkit's `tagCommand` (the capacity gate reads the
 * header; `withPattern` would do too, but its AsyncLocalStorage slows every await of the app on
 * Node 20), asks for ConsumedCapacity=INDEXES, and records the logical
 * operation (which may be several calls: a BatchGet with its UnprocessedKeys retries, a Put that
 * falls back to an Update) once, with its latency, capacity per table and index, SDK retries and
 * throttles: the app's own numbers, which it publishes as EMF on AWS where no gate runs.
 */

type DocCommand<I extends ServiceInputTypes, O extends ServiceOutputTypes> = Command<
  ServiceInputTypes,
  I,
  ServiceOutputTypes,
  O,
  // biome-ignore lint/suspicious/noExplicitAny: the resolved client config type is internal to the SDK.
  any
>;

export type Send = <I extends ServiceInputTypes, O extends ServiceOutputTypes>(
  command: DocCommand<I, O>,
) => Promise<O>;

/** Split one ConsumedCapacity entry into read and write units per target (table, GSI1, ...). */
export function capacityUses(consumed: ConsumedCapacity, isRead: boolean): CapacityUse[] {
  const split = (c: { CapacityUnits?: number; ReadCapacityUnits?: number; WriteCapacityUnits?: number }) => {
    // Transactions report reads and writes apart; single operations only give CapacityUnits.
    if (c.ReadCapacityUnits !== undefined || c.WriteCapacityUnits !== undefined) {
      return { rcu: c.ReadCapacityUnits ?? 0, wcu: c.WriteCapacityUnits ?? 0 };
    }
    const units = c.CapacityUnits ?? 0;
    return isRead ? { rcu: units, wcu: 0 } : { rcu: 0, wcu: units };
  };
  const uses: CapacityUse[] = [];
  const gsis = consumed.GlobalSecondaryIndexes ?? {};
  const lsis = consumed.LocalSecondaryIndexes ?? {};
  if (consumed.Table) uses.push({ target: 'table', ...split(consumed.Table) });
  for (const [name, c] of [...Object.entries(gsis), ...Object.entries(lsis)])
    uses.push({ target: name, ...split(c) });
  if (uses.length === 0) uses.push({ target: 'table', ...split(consumed) });
  return uses;
}

function commandIsRead(command: { constructor: { name: string } }): boolean {
  return /^(Get|BatchGet|Query|Scan|TransactGet)/.test(command.constructor.name);
}

export type Clock = () => number;

export class PatternClient {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly metrics: PatternMetrics,
    private readonly now: Clock = () => performance.now(),
  ) {}

  async run<T>(pattern: PatternId, operation: (send: Send) => Promise<T>): Promise<T> {
    const capacity: CapacityUse[] = [];
    let throttleEvents = 0;
    let retries = 0;
    const send: Send = async (command) => {
      (command.input as { ReturnConsumedCapacity?: string }).ReturnConsumedCapacity = 'INDEXES';
      tagCommand(command, pattern);
      // Sits inside the SDK's retry loop, so it sees the throttles that retries hide.
      command.middlewareStack.add(
        (next) => async (args) => {
          try {
            return await next(args);
          } catch (err) {
            if (isThrottle(err)) throttleEvents += 1;
            throw err;
          }
        },
        // lib-dynamodb concatenates a command's stack with itself; override keeps one copy.
        { step: 'deserialize', priority: 'high', name: 'loadtestThrottleCounter', override: true },
      );
      const isRead = commandIsRead(command);
      try {
        const out = await this.doc.send(command);
        const meta = (out as { $metadata?: { attempts?: number } }).$metadata;
        retries += Math.max(0, (meta?.attempts ?? 1) - 1);
        const consumed = (out as { ConsumedCapacity?: ConsumedCapacity | ConsumedCapacity[] })
          .ConsumedCapacity;
        for (const c of Array.isArray(consumed) ? consumed : consumed ? [consumed] : []) {
          capacity.push(...capacityUses(c, isRead));
        }
        return out;
      } catch (err) {
        const meta = (err as { $metadata?: { attempts?: number } }).$metadata;
        retries += Math.max(0, (meta?.attempts ?? 1) - 1);
        throw err;
      }
    };
    const started = this.now();
    try {
      const result = await operation(send);
      this.metrics.record({
        pattern,
        latencyMs: this.now() - started,
        ok: true,
        throttleEvents,
        throttled: false,
        retries,
        capacity,
      });
      return result;
    } catch (err) {
      this.metrics.record({
        pattern,
        latencyMs: this.now() - started,
        // "Not found" or "already exists" is a correct answer of the pattern, not a database error.
        ok: err instanceof DomainError && err.expected,
        throttleEvents,
        throttled: isThrottle(err) || (err instanceof DomainError && err.name === 'Throttled'),
        retries,
        capacity,
      });
      throw translateAwsError(err, isThrottle);
    }
  }
}
