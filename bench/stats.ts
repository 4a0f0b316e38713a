/** Small helpers every bench section uses. */

/** Median; NaN for no values (a row built on it then shows n/a rather than a made-up figure). */
export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  if (s.length === 0) return Number.NaN;
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

/** A numeric knob from the environment, refused loudly when it is not a number >= min. */
export function envNumber(name: string, fallback: number, min: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min) throw new Error(`${name}=${raw}: expected a number >= ${min}`);
  return n;
}

/**
 * Paired per-round ratios: noisy when they disagree by more than `noisySpread` (max / min), which
 * means other work was competing for the cores; the note lists them and says so.
 */
export function pairedRounds(
  ratios: readonly number[],
  noisySpread: number,
  digits: number,
): { noisy: boolean; note: string } {
  const spread = Math.max(...ratios) / Math.min(...ratios);
  const noisy = ratios.length > 1 && !(spread <= noisySpread);
  return {
    noisy,
    note: `rounds ${ratios.map((r) => r.toFixed(digits)).join(' ')}${noisy ? ' NOISY: machine busy, rerun' : ''}`,
  };
}

/**
 * Requests per second in the steady middle of a run, from counts per `bucketMs`: the first and last
 * `trim` of the span (ramp-up as virtual users arrive, the tail as they finish) are left out. NaN
 * when fewer than 3 buckets stay.
 */
export function steadyRate(buckets: readonly number[], bucketMs: number, trim = 0.2): number {
  const drop = Math.floor(buckets.length * trim);
  const middle = buckets.slice(drop, buckets.length - drop);
  if (middle.length < 3 || !(bucketMs > 0)) return Number.NaN;
  return (middle.reduce((s, n) => s + n, 0) * 1000) / (middle.length * bucketMs);
}
