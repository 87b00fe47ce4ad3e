/**
 * Read-your-writes for a service's own commands: a command that appended events waits until its
 * projection has applied them, woken by the projection in this process (`runProjection`'s
 * `afterCommit`). Events applied by another replica are not seen here: the wait then ends at its
 * timeout, and the caller answers from the events themselves.
 */
export class AppliedEvents {
  private readonly waiters = new Map<string, Set<() => void>>();

  /** The projection calls this after each committed batch. */
  applied(eventIds: readonly string[]): void {
    for (const id of eventIds) {
      const wake = this.waiters.get(id);
      if (!wake) continue;
      this.waiters.delete(id);
      for (const resolve of wake) resolve();
    }
  }

  /**
   * Resolves true once every one of `eventIds` is applied, false after `timeoutMs`. Call it
   * before appending: the projection may apply an event before the append's acknowledgement.
   */
  async waitFor(eventIds: readonly string[], timeoutMs: number): Promise<boolean> {
    const registered: Array<[string, () => void]> = [];
    const pending = eventIds.map((id) => new Promise<void>((resolve) => {
      registered.push([id, resolve]);
      const set = this.waiters.get(id) ?? new Set();
      set.add(resolve);
      this.waiters.set(id, set);
    }));
    let timer: NodeJS.Timeout | undefined;
    const gaveUp = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    try {
      return await Promise.race([Promise.all(pending).then(() => true as const), gaveUp]);
    } finally {
      clearTimeout(timer);
      for (const [id, resolve] of registered) {
        const set = this.waiters.get(id);
        set?.delete(resolve);
        if (set?.size === 0) this.waiters.delete(id);
      }
    }
  }
}
