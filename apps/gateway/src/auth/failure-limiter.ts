/** Most keys remembered at once; the oldest are forgotten first so a flood of names cannot grow memory. */
const MAX_TRACKED_KEYS = 100_000;

/**
 * Counts failed logins per key (an IP address, an account name) in a fixed window. A key over its
 * limit is refused without checking credentials until its window ends (Prosody's mod_limit_auth).
 * Keys are counted whether or not the account exists, so refusals reveal nothing about accounts.
 */
export class FailureLimiter {
  private readonly windows = new Map<string, { failures: number; startedAt: number }>();

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  blocked(key: string): boolean {
    const window = this.current(key);
    return !!window && window.failures >= this.limit;
  }

  fail(key: string): void {
    const window = this.current(key);
    if (window) {
      window.failures += 1;
      return;
    }
    if (this.windows.size >= MAX_TRACKED_KEYS) this.windows.delete(this.windows.keys().next().value!);
    this.windows.set(key, { failures: 1, startedAt: this.now() });
  }

  private current(key: string): { failures: number; startedAt: number } | undefined {
    const window = this.windows.get(key);
    if (window && this.now() - window.startedAt >= this.windowMs) {
      this.windows.delete(key);
      return undefined;
    }
    return window;
  }
}
