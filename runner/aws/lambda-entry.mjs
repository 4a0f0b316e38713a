// The runner Lambda's entry (CMD runner/aws/lambda-entry.handler): the runtime loads plain
// JavaScript, so register tsx (as bin/loadtest.js does) and load the TypeScript adapter.
import { register } from 'tsx/esm/api';

register();
const adapter = await import('./lambda.ts');

export const handler = adapter.handler;
