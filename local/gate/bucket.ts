/**
 * A token bucket in capacity units. DynamoDB admits a request while the bucket is above zero and
 * charges what the request consumed afterwards, so a bucket can go below zero and then throttles
 * until refills bring it back.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    /** Units per second. */
    public rate: number,
    /** Most units kept: DynamoDB keeps up to 300 s of unused provisioned capacity as burst. */
    public burst: number,
    now: number,
  ) {
    this.tokens = burst;
    this.last = now;
  }

  private refill(now: number): void {
    if (now > this.last) {
      this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.rate);
      this.last = now;
    }
  }

  available(now: number): number {
    this.refill(now);
    return this.tokens;
  }

  admits(now: number): boolean {
    return this.available(now) > 0;
  }

  take(units: number, now: number): void {
    this.refill(now);
    this.tokens -= units;
  }

  reset(rate: number, burst: number, now: number): void {
    this.rate = rate;
    this.burst = burst;
    this.tokens = burst;
    this.last = now;
  }
}
