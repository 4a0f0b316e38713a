import type { Options } from 'yargs';
import type { GateCapacity } from '../../local/index.js';
import { given, UsageError } from './errors.js';

/**
 * The capacity flags of `run` and `up`: what the capacity gate enforces on every table, over the
 * project's `capacity` and the scenario's.
 */
export interface CapacityArgs {
  capacityMode?: string;
  readCapacity?: number;
  writeCapacity?: number;
  maxRead?: number;
  maxWrite?: number;
}

export const CAPACITY_OPTIONS = {
  'capacity-mode': { type: 'string', describe: 'provisioned or on-demand, for every table' },
  'read-capacity': {
    type: 'number',
    describe: 'Provisioned RCU of every table (and of its GSIs not set by name)',
  },
  'write-capacity': {
    type: 'number',
    describe: 'Provisioned WCU of every table (and of its GSIs not set by name)',
  },
  'max-read': { type: 'number', describe: 'On-demand maximum read throughput' },
  'max-write': { type: 'number', describe: 'On-demand maximum write throughput' },
} as const satisfies Record<string, Options>;

/** Capacity flags given on the command line (they need a capacity gate to mean anything). */
export function capacityFlags(args: CapacityArgs): string[] {
  return (
    [
      ['--capacity-mode', args.capacityMode],
      ['--read-capacity', args.readCapacity],
      ['--write-capacity', args.writeCapacity],
      ['--max-read', args.maxRead],
      ['--max-write', args.maxWrite],
    ] as const
  ).flatMap(([flag, v]) => (v !== undefined ? [flag] : []));
}

/** What the capacity flags set, for every table. */
export function capacityFromFlags(args: CapacityArgs): GateCapacity {
  const mode = args.capacityMode;
  if (mode !== undefined && mode !== 'provisioned' && mode !== 'on-demand') {
    throw new UsageError(`--capacity-mode: expected provisioned or on-demand, got "${mode}"`);
  }
  for (const [flag, v] of [
    ['--read-capacity', args.readCapacity],
    ['--write-capacity', args.writeCapacity],
    ['--max-read', args.maxRead],
    ['--max-write', args.maxWrite],
  ] as const) {
    if (v !== undefined && !(v >= 1))
      throw new UsageError(`${flag}: expected capacity units >= 1, got ${given(flag, v)}`);
  }
  return {
    ...(mode ? { mode } : {}),
    ...(args.maxRead !== undefined ? { maxRead: args.maxRead } : {}),
    ...(args.maxWrite !== undefined ? { maxWrite: args.maxWrite } : {}),
  };
}

/** Read and write capacity flags over a table capacity (either one alone keeps the other). */
export function withUnits(c: GateCapacity, args: CapacityArgs): GateCapacity {
  if (args.readCapacity === undefined && args.writeCapacity === undefined) return c;
  const read = args.readCapacity ?? c.table?.read ?? args.writeCapacity ?? 5;
  const write = args.writeCapacity ?? c.table?.write ?? args.readCapacity ?? 5;
  return { ...c, table: { read, write } };
}
