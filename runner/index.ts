export { EXIT, RunFailed, UsageError } from './cli/errors.js';
export { main } from './cli/main.js';
