import { readFileSync } from 'node:fs';
import { parse as parseCsv } from 'csv-parse/sync';

/** A `config.payload` entry: a CSV file whose rows the virtual users take their variables from. */
export interface PayloadSpec {
  path: string;
  fields?: string[];
  skipHeader?: boolean;
  skipEmptyLines?: boolean;
  cast?: boolean;
  delimiter?: string;
  /** csv-parse options over the ones below, as the artillery CLI takes them. */
  options?: Record<string, unknown>;
  /** Set by the fan-out: this worker's index and the number of workers (see workerRows). */
  workerShare?: [index: number, count: number];
  [k: string]: unknown;
}

/**
 * A payload file's rows, parsed with the artillery CLI's options (its prepare-test-execution-plan
 * readPayload): empty lines skipped, values cast, every row as long as the first, so a short row is
 * refused (csv-parse's "Invalid Record Length ... on line N") instead of filling a field with undefined.
 */
export function payloadRows(file: string, spec: PayloadSpec): unknown[][] {
  return parseCsv(readFileSync(file, 'utf8'), {
    skip_empty_lines: spec.skipEmptyLines ?? true,
    cast: spec.cast ?? true,
    from_line: spec.skipHeader === true ? 2 : 1,
    delimiter: spec.delimiter || ',',
    ...(spec.options ?? {}),
  }) as unknown[][];
}

/**
 * A worker's rows of a payload shared by `count` workers, dealt as the artillery CLI's distributed
 * runs deal them (its dist.js): row r goes to the worker r % count; with fewer rows than workers,
 * each worker past the last row takes one row again.
 */
export function workerRows<T>(rows: readonly T[], [index, count]: [number, number]): T[] {
  if (rows.length === 0) return [];
  const match = index % rows.length;
  return rows.filter((_, r) => r % count === match);
}
