export {
  ImportInputError,
  type ImportOptions,
  type ImportProgress,
  type ImportSummary,
  importFile,
  marshallItem,
  type Reject,
} from './import.js';
export {
  appId,
  cartIdFor,
  deterministicId,
  ENTITIES,
  type Entity,
  fromExtendedJson,
  itemBytes,
  itemProblem,
  MAX_ITEM_BYTES,
  type MapOptions,
  type Mapped,
  mapRow,
  objectIdTime,
  REQUIRED_FIELDS,
  type TableItem,
} from './map.js';
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
