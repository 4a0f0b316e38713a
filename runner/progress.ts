import type { ClientResult } from './engine/client-stats.js';

/**
 * Live progress: a line rewritten in place on a TTY, a plain line every few seconds otherwise
 * (CI logs). Requests per second is over the last interval, not the whole run.
 */
export class Progress {
  private last: { at: number; requests: number };
  private lastPrinted = 0;
  private requests = 0;
  private errors = 0;
  private throttles = 0;
  private readonly started: number;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly totalSec: number,
    private readonly stream: Pick<NodeJS.WriteStream, 'write'> = process.stderr,
    private readonly tty = Boolean(process.stderr.isTTY),
    private readonly now: () => number = Date.now,
  ) {
    this.started = now();
    this.last = { at: this.started, requests: 0 };
    // A log's first line comes 5 s in, as every later one: at 1 s no worker has reported yet.
    this.lastPrinted = this.started;
  }

  update(client: ClientResult): void {
    let requests = 0;
    let errors = 0;
    for (const n of Object.values(client.byName)) {
      requests += n.requests;
      errors += n.errors;
    }
    this.requests = requests;
    this.errors = errors;
  }

  setThrottles(n: number): void {
    this.throttles = n;
  }

  start(): void {
    this.timer = setInterval(() => this.print(), 1000);
    this.timer.unref();
  }

  /** Writes the line if it is due (every second on a TTY, every 5 s otherwise). */
  print(): void {
    const now = this.now();
    if (!this.tty && now - this.lastPrinted < 5000) return;
    const rate = ((this.requests - this.last.requests) * 1000) / Math.max(1, now - this.last.at);
    this.last = { at: now, requests: this.requests };
    this.lastPrinted = now;
    const elapsed = Math.round((now - this.started) / 1000);
    const total = Math.round(this.totalSec);
    // Past the phases, requests still in flight (retries, slow responses) are being waited for:
    // `[11s/4s]` read as a clock gone wrong.
    const clock =
      elapsed > total ? `${elapsed}s, phases ended at ${total}s, finishing` : `${elapsed}s/${total}s`;
    const line = `[${clock}] ${this.requests} requests, ${rate.toFixed(1)}/s, ${this.errors} errors, ${this.throttles} throttles`;
    this.stream.write(this.tty ? `\r\x1b[2K${line}` : `${line}\n`);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.tty) this.stream.write('\r\x1b[2K');
  }
}

/** Seconds a phase list lasts: durations and pauses, in s or with an ms/s/m/h unit. */
export function phasesSeconds(phases: readonly Record<string, unknown>[]): number {
  const seconds = (v: unknown): number => {
    if (typeof v === 'number') return v;
    if (typeof v !== 'string') return 0;
    const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(v.trim());
    if (!m) return 0;
    const n = Number(m[1]);
    return m[2] === 'ms' ? n / 1000 : m[2] === 'm' ? n * 60 : m[2] === 'h' ? n * 3600 : n;
  };
  return phases.reduce((s, p) => s + seconds(p.duration) + seconds(p.pause), 0);
}
