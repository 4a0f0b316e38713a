export {
  ImportInputError,
  type ImportOptions,
  type ImportProgress,
  type ImportSummary,
  importFile,
  type Mapped,
  marshallItem,
  type Reject,
  type RowMapper,
  type TableItem,
} from './import.js';
export { FORMATS, type Format, formatOf, parseCsvRecord, readRows, type SourceRow } from './read.js';
export {
  BATCH_WRITE_SIZE,
  DynamoSink,
  type DynamoSinkOptions,
  ImportWriteFailed,
  type MarshalledItem,
  S3ExportSink,
  type Sink,
  type SinkItem,
} from './sinks.js';
export {
  fromExtendedJson,
  isPlainObject,
  itemBytes,
  itemProblem,
  type KeyLimit,
  keyLimits,
  MAX_ITEM_BYTES,
  MAX_PARTITION_KEY_BYTES,
  MAX_SORT_KEY_BYTES,
  objectIdTime,
  unwrapObjectIdText,
} from './values.js';
