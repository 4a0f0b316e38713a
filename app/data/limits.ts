/**
 * The shop's request limits, from DynamoDB's own: BatchGetItem reads at most 100 keys, and a checkout's
 * TransactWriteItems holds at most 100 actions (two per line, plus the order). A module of its own,
 * free of the AWS SDK, because the request schemas import it and the project config imports those
 * (its import mapping validates rows as the app would): the config loads in every `loadtest` start.
 */
export const MAX_BATCH_GET = 100;
export const MAX_CHECKOUT_LINES = 49;
export const MAX_LINE_QUANTITY = 1000;
