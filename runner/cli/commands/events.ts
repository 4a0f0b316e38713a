import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import {
  BIG_ORDER_FILTER_POLICY,
  DEFAULT_TABLE_NAME,
  matchesPattern,
  ORDER_COMPLETED_PIPE_FILTER,
  orderNotification,
} from '../../../app/index.js';
import { StreamUnavailable, tailStream } from '../../../local/index.js';
import { RunFailed, UsageError } from '../errors.js';
import { readStackFile } from '../stack-file.js';

interface EventsArgs {
  dynamodbEndpoint?: string;
  table?: string;
  email: string;
  json: boolean;
  duration?: number;
  stateDir: string;
}

/**
 * `loadtest events`: the stream -> pipe filter -> SNS (filter policy) path on one machine. Each
 * record the pipe's filter lets through becomes the notification SNS would publish, marked with
 * whether the email subscription's filter policy would deliver it.
 */
export const eventsCommand: CommandModule<object, EventsArgs> = {
  command: 'events',
  describe: 'Tail the table stream and print the notifications the Pipe -> SNS flow would send',
  builder: (y: Argv) =>
    y
      .option('dynamodb-endpoint', {
        type: 'string',
        describe: 'DynamoDB Local endpoint (default: the running `loadtest up`)',
      })
      .option('table', { type: 'string' })
      .option('email', {
        type: 'string',
        default: 'orders@example.com',
        describe: 'The subscription address to show',
      })
      .option('json', { type: 'boolean', default: false, describe: 'One JSON object a line' })
      .option('duration', {
        type: 'number',
        describe: 'Stop after this many seconds (default: until Ctrl-C)',
      })
      .option('state-dir', { type: 'string', default: '.loadtest' })
      .strict() as unknown as Argv<EventsArgs>,
  handler: async (args: ArgumentsCamelCase<EventsArgs>) => {
    if (args.duration !== undefined && !(args.duration > 0))
      throw new UsageError(`--duration: expected seconds > 0, got ${args.duration}`);
    const stack = await readStackFile(args.stateDir);
    const endpoint = args.dynamodbEndpoint ?? stack?.dynamodbEndpoint;
    if (!endpoint)
      throw new RunFailed(
        'no stream to tail: start the stack with `loadtest up`, or pass --dynamodb-endpoint URL',
      );
    const tableName = args.table ?? stack?.tableName ?? DEFAULT_TABLE_NAME;
    const controller = new AbortController();
    const stop = () => controller.abort();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    if (args.duration) setTimeout(stop, args.duration * 1000).unref();
    let tail: Awaited<ReturnType<typeof tailStream>>;
    try {
      tail = await tailStream({
        endpoint,
        tableName,
        signal: controller.signal,
        onRecord: (record) => {
          if (!matchesPattern(record, ORDER_COMPLETED_PIPE_FILTER)) return;
          const n = orderNotification(
            (record.dynamodb?.NewImage ?? {}) as Parameters<typeof orderNotification>[0],
          );
          const delivered = matchesPattern(n.attributes, BIG_ORDER_FILTER_POLICY);
          if (args.json) {
            console.log(JSON.stringify({ ...n, subscription: { email: args.email, delivered } }));
          } else {
            console.log(
              `notification: ${n.subject}: ${n.message.email}, ${n.message.itemCount} line(s), total ${n.message.total} -> ${args.email}: ${delivered ? 'delivered' : 'filtered out by the subscription policy'}`,
            );
          }
        },
      });
    } catch (err) {
      if (err instanceof StreamUnavailable) throw new RunFailed(err.message);
      throw err;
    }
    console.error(`listening on ${tail.streamArn} (Ctrl-C to stop)`);
    await tail.stopped;
  },
};
