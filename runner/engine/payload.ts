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
