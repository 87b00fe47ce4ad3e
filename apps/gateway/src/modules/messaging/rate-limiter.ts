/**
 * Per-session message rate (issue #5: "sent too fast" → policy-violation), a token bucket of
 * HEARTH_GATEWAY_MESSAGE_BURST tokens refilled at HEARTH_GATEWAY_MESSAGE_RATE_PER_SEC. Unlike
 * the byte-rate throttle of the connection (which pauses the socket), an over-limit message is
 * refused, so the client learns it.
 */
export class MessageRateLimiter<S extends object> {
  private readonly buckets = new WeakMap<S, { tokens: number; at: number }>();

  constructor(
    private readonly ratePerSec: number,
    private readonly burst: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Takes one token; false when the session is over its rate. */
  take(session: S): boolean {
    const now = this.now();
    const bucket = this.buckets.get(session) ?? { tokens: this.burst, at: now };
    bucket.tokens = Math.min(this.burst, bucket.tokens + ((now - bucket.at) * this.ratePerSec) / 1000);
    bucket.at = now;
    this.buckets.set(session, bucket);
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }
}
