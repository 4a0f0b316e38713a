export { main } from './cli/main.js';
export { EXIT, RunFailed, UsageError } from './cli/errors.js';
