import { DDSketch } from '@datadog/sketches-js';
import {
  encodeSketch,
  mergeSketches,
  type SerializedSketch,
  SKETCH_RELATIVE_ACCURACY,
} from '../../instrument/index.js';

/**
 * What the load generator saw, per request name: the client side of the report. Portable (JSON) and
 * mergeable, so N workers' results add up exactly to what one process would have seen.
 */
export interface NameStats {
  requests: number;
  /** HTTP status >= 400, or no response at all (connection refused, timeout). */
  errors: number;
  codes: Record<string, number>;
  latency: SerializedSketch;
  /** Up to SAMPLES_PER_CODE messages per failing code: the answer's start, or the error's message. */
  samples?: Record<string, string[]>;
  /** The expect plugin: failed expectations by type (statusCode, hasProperty, ...). */
  expect?: Record<string, number>;
}

export const SAMPLES_PER_CODE = 3;

/** A sketch as both DDSketch libraries (ours and Artillery's fork) build it. */
const isSketch = (h: unknown): h is DDSketch =>
  typeof h === 'object' &&
  h !== null &&
  'store' in h &&
  'mapping' in h &&
  typeof (h as DDSketch).count === 'number';

/** A code of `NameStats.codes` that is a failure: an HTTP status >= 400, or an error code (ETIMEDOUT, ...). */
export const isFailingCode = (code: string): boolean => !/^[123]\d\d$/.test(code);
const SAMPLE_CHARS = 200;

export interface ClientResult {
  readonly startedAt: string;
  readonly endedAt: string;
  readonly byName: Record<string, NameStats>;
  /** Artillery's own counters (vusers.*, http.codes.*, errors.*), summed. */
  readonly counters: Record<string, number>;
  /**
   * Artillery's own histograms but `http.response_time` (kept per name above): vusers.session_length,
   * http.response_time.2xx, a processor's `events.emit('histogram', ...)`. What its `ensure` and
   * report summarise; absent in a result from before they were kept.
   */
  readonly summaries?: Record<string, SerializedSketch>;
  /** When the first request was sent and the last answer (or failure) came in: absent when none was. */
  readonly firstRequestAt?: string;
  readonly lastResponseAt?: string;
}

/** Accumulates per-name stats in one worker. */
export class ClientStats {
  private readonly names = new Map<
    string,
    {
      requests: number;
      errors: number;
      codes: Map<string, number>;
      sketch: DDSketch;
      samples: Map<string, string[]>;
      expect: Map<string, number>;
    }
  >();
  readonly counters: Record<string, number> = {};
  private readonly summaries = new Map<string, SerializedSketch>();
  private firstSent: number | undefined;
  private lastAnswer: number | undefined;

  /** A request is about to be sent (only the first one's time is kept). */
  sent(at: number = Date.now()): void {
    this.firstSent ??= at;
  }

  private entry(name: string) {
    let e = this.names.get(name);
    if (!e) {
      e = {
        requests: 0,
        errors: 0,
        codes: new Map(),
        sketch: new DDSketch({ relativeAccuracy: SKETCH_RELATIVE_ACCURACY }),
        samples: new Map(),
        expect: new Map(),
      };
      this.names.set(name, e);
    }
    return e;
  }

  response(name: string, status: number, latencyMs: number): void {
    this.lastAnswer = Date.now();
    const e = this.entry(name);
    e.requests += 1;
    if (status >= 400) e.errors += 1;
    const code = String(status);
    e.codes.set(code, (e.codes.get(code) ?? 0) + 1);
    e.sketch.accept(Math.max(0, latencyMs));
  }

  failure(name: string, code: string, message?: string): void {
    this.lastAnswer = Date.now();
    const e = this.entry(name);
    e.requests += 1;
    e.errors += 1;
    e.codes.set(code, (e.codes.get(code) ?? 0) + 1);
    if (message !== undefined) this.sample(name, code, message);
  }

  /**
   * A request whose expectations failed (the expect plugin): an error of its name, unless its answer
   * already was one (>= 400), with each failed expectation counted and sampled under `expect.<type>`.
   */
  expectationsFailed(
    name: string,
    status: number,
    failed: readonly { type: string; message: string }[],
  ): void {
    const e = this.entry(name);
    if (status < 400) e.errors += 1;
    for (const f of failed) {
      e.expect.set(f.type, (e.expect.get(f.type) ?? 0) + 1);
      this.sample(name, `expect.${f.type}`, f.message);
    }
  }

  /** Whether another sample of this code would be kept (so a caller reads a body only then). */
  wantsSample(name: string, code: string): boolean {
    return (this.names.get(name)?.samples.get(code)?.length ?? 0) < SAMPLES_PER_CODE;
  }

  sample(name: string, code: string, message: string): void {
    const e = this.entry(name);
    const list = e.samples.get(code) ?? [];
    const text = message.replace(/\s+/g, ' ').trim().slice(0, SAMPLE_CHARS);
    if (list.length < SAMPLES_PER_CODE && !list.includes(text)) list.push(text);
    e.samples.set(code, list);
  }

  addCounters(counters: Record<string, number>): void {
    for (const [k, v] of Object.entries(counters)) this.counters[k] = (this.counters[k] ?? 0) + v;
  }

  /**
   * A period's histograms, as Artillery's `stats` event carries them (its fork of DDSketch, at the same
   * 1 % accuracy and with the same stores, so they serialize as ours do).
   */
  addHistograms(histograms: Record<string, unknown>): void {
    for (const [name, h] of Object.entries(histograms)) {
      if (name === 'http.response_time' || !isSketch(h) || h.count === 0) continue;
      const had = this.summaries.get(name);
      const add = encodeSketch(h);
      this.summaries.set(name, had ? encodeSketch(mergeSketches([had, add])) : add);
    }
  }

  totals(): { requests: number; errors: number } {
    let requests = 0;
    let errors = 0;
    for (const e of this.names.values()) {
      requests += e.requests;
      errors += e.errors;
    }
    return { requests, errors };
  }

  result(startedAt: Date, endedAt: Date): ClientResult {
    const byName: Record<string, NameStats> = {};
    for (const [name, e] of this.names) {
      byName[name] = {
        requests: e.requests,
        errors: e.errors,
        codes: Object.fromEntries(e.codes),
        latency: encodeSketch(e.sketch),
        ...(e.samples.size > 0 ? { samples: Object.fromEntries(e.samples) } : {}),
        ...(e.expect.size > 0 ? { expect: Object.fromEntries(e.expect) } : {}),
      };
    }
    return {
      startedAt: startedAt.toISOString(),
      endedAt: endedAt.toISOString(),
      byName,
      counters: { ...this.counters },
      ...(this.summaries.size > 0 ? { summaries: Object.fromEntries(this.summaries) } : {}),
      ...(this.firstSent !== undefined ? { firstRequestAt: new Date(this.firstSent).toISOString() } : {}),
      ...(this.lastAnswer !== undefined ? { lastResponseAt: new Date(this.lastAnswer).toISOString() } : {}),
    };
  }
}

/** Exact merge: counts add, sketches merge, the window spans all workers. */
export function mergeClientResults(results: readonly ClientResult[]): ClientResult {
  if (results.length === 0) {
    const now = new Date().toISOString();
    return { startedAt: now, endedAt: now, byName: {}, counters: {} };
  }
  const byName: Record<string, NameStats> = {};
  const names = new Set(results.flatMap((r) => Object.keys(r.byName)));
  for (const name of names) {
    const parts = results.flatMap((r) => (r.byName[name] ? [r.byName[name]] : []));
    const codes: Record<string, number> = {};
    for (const p of parts) for (const [c, n] of Object.entries(p.codes)) codes[c] = (codes[c] ?? 0) + n;
    const samples: Record<string, string[]> = {};
    for (const p of parts)
      for (const [c, list] of Object.entries(p.samples ?? {}))
        samples[c] = [...new Set([...(samples[c] ?? []), ...list])].slice(0, SAMPLES_PER_CODE);
    const expect: Record<string, number> = {};
    for (const p of parts)
      for (const [t, n] of Object.entries(p.expect ?? {})) expect[t] = (expect[t] ?? 0) + n;
    byName[name] = {
      ...(Object.keys(expect).length > 0 ? { expect } : {}),
      requests: parts.reduce((s, p) => s + p.requests, 0),
      errors: parts.reduce((s, p) => s + p.errors, 0),
      codes,
      latency: encodeSketch(mergeSketches(parts.map((p) => p.latency))),
      ...(Object.keys(samples).length > 0 ? { samples } : {}),
    };
  }
  const counters: Record<string, number> = {};
  for (const r of results)
    for (const [k, v] of Object.entries(r.counters)) counters[k] = (counters[k] ?? 0) + v;
  const summaries: Record<string, SerializedSketch> = {};
  for (const name of new Set(results.flatMap((r) => Object.keys(r.summaries ?? {})))) {
    const parts = results.flatMap((r) => (r.summaries?.[name] ? [r.summaries[name]] : []));
    summaries[name] = encodeSketch(mergeSketches(parts));
  }
  const starts = results.map((r) => r.startedAt).sort();
  const ends = results.map((r) => r.endedAt).sort();
  // ISO strings of one clock sort as the times do.
  const firsts = results.flatMap((r) => (r.firstRequestAt ? [r.firstRequestAt] : [])).sort();
  const lasts = results.flatMap((r) => (r.lastResponseAt ? [r.lastResponseAt] : [])).sort();
  return {
    startedAt: starts[0] ?? '',
    endedAt: ends[ends.length - 1] ?? '',
    byName,
    counters,
    ...(Object.keys(summaries).length > 0 ? { summaries } : {}),
    ...(firsts[0] ? { firstRequestAt: firsts[0] } : {}),
    ...(lasts.length > 0 ? { lastResponseAt: lasts[lasts.length - 1] } : {}),
  };
}
