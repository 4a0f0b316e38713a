import { readFile } from 'node:fs/promises';
import type { Report } from '../runner/report/types.js';

/**
 * Reading the JSON reports the measured tools write (--output), to prove a run did its work:
 * ours (runner/report/types.ts) and the bare artillery CLI's (aggregate counters).
 */

/** The parsed file, or `{ unreadable: why }`. */
export async function readJson(path: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as unknown;
  } catch (err) {
    return { unreadable: (err as Error).message };
  }
}

/** Requests in our report: the sum of patterns[].requests (failed ones included). */
export function loadtestRequests(report: unknown): number {
  const patterns = (report as Partial<Report>).patterns;
  return Array.isArray(patterns) ? patterns.reduce((s, p) => s + p.requests, 0) : 0;
}

/** Problems with our report: it must be complete and hold `expected` requests, none failed. */
export function loadtestProblems(report: unknown, expected: number): string[] {
  const r = report as Partial<Report> & { unreadable?: string };
  if (r.unreadable !== undefined) return [`no report: ${r.unreadable}`];
  if (!Array.isArray(r.patterns)) return ['report without patterns'];
  const out: string[] = [];
  if (r.partial) out.push(`partial report: ${r.error ?? 'unknown'}`);
  const errors = r.patterns.reduce((s, p) => s + p.errors, 0);
  if (errors > 0) out.push(`${errors} failed request(s)`);
  const requests = loadtestRequests(report);
  if (requests !== expected) out.push(`${requests} requests, want ${expected}`);
  return out;
}

/** Artillery's aggregate counters (http.requests, http.responses, http.codes.*, errors.*, vusers.*). */
export function artilleryCounters(report: unknown): Record<string, number> | undefined {
  const counters = (report as { aggregate?: { counters?: unknown } }).aggregate?.counters;
  return counters && typeof counters === 'object' ? (counters as Record<string, number>) : undefined;
}

/** Answered requests in Artillery's report: the http.responses counter. */
export function artilleryResponses(report: unknown): number {
  return artilleryCounters(report)?.['http.responses'] ?? 0;
}

/** Problems with Artillery's report: `expected` requests sent and answered, no failure counted. */
export function artilleryProblems(report: unknown, expected: number): string[] {
  const r = report as { unreadable?: string };
  if (r.unreadable !== undefined) return [`no report: ${r.unreadable}`];
  const c = artilleryCounters(report);
  if (!c) return ['report without aggregate counters'];
  const out: string[] = [];
  let failed = c['vusers.failed'] ?? 0;
  for (const [k, v] of Object.entries(c)) {
    if (k.startsWith('errors.')) failed += v;
    if (k.startsWith('http.codes.') && !k.startsWith('http.codes.2')) failed += v;
  }
  if (failed > 0) out.push(`${failed} failure(s) in the counters`);
  const sent = c['http.requests'] ?? 0;
  const answered = c['http.responses'] ?? 0;
  if (sent !== answered) out.push(`${sent} requests sent, ${answered} answered`);
  if (answered !== expected) out.push(`${answered} responses, want ${expected}`);
  return out;
}
