import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { matchesPattern, StreamUnavailable, tailStream } from '../../../local/index.js';
import { given, RunFailed, UsageError } from '../errors.js';
import { projectFor } from '../project.js';
import { readStackFile } from '../stack-file.js';

interface EventsArgs {
  config?: string;
  dynamodbEndpoint?: string;
  table?: string;
  email?: string;
  json: boolean;
  duration?: number;
  stateDir: string;
}

/**
 * `loadtest events`: the stream -> pipe filter -> SNS (filter policy) path on one machine, as the
 * project's `events` declares it. Each record the pipe's filter lets through becomes the message SNS
 * would publish, marked with whether the subscription's filter policy would deliver it.
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
        describe: "The subscription address to show (default: the project's events.subscription)",
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
      throw new UsageError(`--duration: expected seconds > 0, got ${given('--duration', args.duration)}`);
    const project = await projectFor(args.config);
    const events = project.events ?? {};
    const stack = await readStackFile(args.stateDir);
    const endpoint = args.dynamodbEndpoint ?? stack?.dynamodbEndpoint;
    if (!endpoint)
      throw new RunFailed(
        'no stream to tail: start the stack with `loadtest up`, or pass --dynamodb-endpoint URL',
      );
    const tableName = args.table ?? events.table ?? stack?.tables[0] ?? project.tables[0]?.name;
    if (!tableName)
      throw new UsageError(`no table to tail: pass --table, or set events.table in ${project.file}`);
    const email = args.email ?? events.subscription ?? 'the subscription';
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
          if (events.filter && !matchesPattern(record, events.filter)) return;
          const image = (record.dynamodb?.NewImage ?? {}) as Record<string, unknown>;
          // Without a message function, the record's new image is the message and its attributes.
          const n = events.message
            ? events.message(image)
            : {
                subject: `${record.eventName ?? 'event'} on ${tableName}`,
                message: image,
                attributes: image,
              };
          const delivered = events.subscriptionFilter
            ? matchesPattern(n.attributes, events.subscriptionFilter)
            : true;
          if (args.json) {
            console.log(JSON.stringify({ ...n, subscription: { email, delivered } }));
          } else {
            console.log(
              `notification: ${n.subject}: ${JSON.stringify(n.message)} -> ${email}: ${delivered ? 'delivered' : 'filtered out by the subscription policy'}`,
            );
          }
        },
      });
    } catch (err) {
      // The table's spec is the project's: a missing stream is fixed there, so it is bad input.
      if (err instanceof StreamUnavailable)
        throw new UsageError(
          `${err.message}: give it one in ${project.file} (stream: NEW_AND_OLD_IMAGES in the table's spec, or StreamSpecification in its template), then restart loadtest up`,
        );
      throw err;
    }
    console.error(`listening on ${tail.streamArn} (Ctrl-C to stop)`);
    await tail.stopped;
  },
};
