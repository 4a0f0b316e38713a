import { z } from 'zod';
import type { GateCapacity } from './policy.js';

/**
 * The capacity a gate enforces, as a project config, a scenario (`config.loadtest.capacity`) or the
 * admin endpoint's reset writes it. The top level applies to every table; `tables.<name>` to one.
 */
const units = z.strictObject({ read: z.number().positive(), write: z.number().positive() });

const tableCapacity = {
  mode: z.enum(['provisioned', 'on-demand']).optional(),
  table: units.optional(),
  indexes: z.record(z.string(), units).optional(),
  maxRead: z.number().positive().optional(),
  maxWrite: z.number().positive().optional(),
  /** On-demand: the warm throughput (what a table takes at once before any peak). */
  warm: units.optional(),
  /** On-demand: how old a peak must be before twice it is allowed (DynamoDB: 30 minutes). */
  peakWindowSeconds: z.number().nonnegative().optional(),
  /** On-demand: the account's per-table quota (DynamoDB's default: 40,000 a second). */
  quota: units.optional(),
};

export const tableCapacitySchema = z.strictObject(tableCapacity);

export const gateCapacitySchema: z.ZodType<GateCapacity> = z.strictObject({
  ...tableCapacity,
  tables: z.record(z.string(), tableCapacitySchema).optional(),
});

/** A scenario's capacity over a project's: table by table, field by field. */
export function mergeCapacity(base: GateCapacity, over: GateCapacity | undefined): GateCapacity {
  if (!over) return base;
  const tables: Record<string, GateCapacity> = { ...(base.tables ?? {}) };
  for (const [name, c] of Object.entries(over.tables ?? {})) tables[name] = { ...(tables[name] ?? {}), ...c };
  const { tables: _a, ...baseTop } = base;
  const { tables: _b, ...overTop } = over;
  const merged: GateCapacity = { ...baseTop, ...overTop };
  return Object.keys(tables).length > 0 ? { ...merged, tables } : merged;
}
