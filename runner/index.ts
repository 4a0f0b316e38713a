/**
 * `dynamo-loadtest`: the toolkit's public entry for projects. A config imports `defineProject` from
 * here and an import mapping the data helpers; it stays light (no CLI, no Artillery), since a config
 * is loaded by every command. The CLI itself is `bin/loadtest.js`.
 */
export { EXIT, RunFailed, UsageError } from './cli/errors.js';
export {
  fromExtendedJson,
  isPlainObject,
  itemBytes,
  type KeyLimit,
  type Mapped,
  objectIdTime,
  type RowMapper,
  type TableItem,
  unwrapObjectIdText,
} from './data/index.js';
export { defineProject, type Project, type ProjectConfigInput } from './project/index.js';
