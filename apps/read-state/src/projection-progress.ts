import { Injectable } from '@nestjs/common';

/** How often a waiter re-checks the database, for events applied by another replica. */
const RECHECK_INTERVAL_MS = 100;

/**
 * Lets a command wait until the projection has applied the event it appended (read-your-write):
 * woken at once when this process applies it, re-checking the database meanwhile in case
 * another replica holds the partition.
 */
@Injectable()
export class ProjectionProgress {
  private readonly waiters = new Map<string, Set<() => void>>();

  /** Called by the projection after each committed batch. */
  applied(eventIds: readonly string[]): void {
    for (const id of eventIds) {
      const wake = this.waiters.get(id);
      if (!wake) continue;
      this.waiters.delete(id);
      for (const resolve of wake) resolve();
    }
  }

  /** Resolves true once `eventId` is applied (or `isApplied` says so), false after `timeoutMs`. */
  async waitFor(eventId: string, isApplied: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    let woken = false;
    let wakeSleeper: (() => void) | undefined;
    const wake = () => {
      woken = true;
      wakeSleeper?.();
    };
    const set = this.waiters.get(eventId) ?? new Set();
    set.add(wake);
    this.waiters.set(eventId, set);
    try {
      while (!woken && Date.now() < deadline) {
        if (await isApplied()) return true;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, Math.min(RECHECK_INTERVAL_MS, Math.max(0, deadline - Date.now())));
          wakeSleeper = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
      return woken || (await isApplied());
    } finally {
      set.delete(wake);
      if (set.size === 0 && this.waiters.get(eventId) === set) this.waiters.delete(eventId);
    }
  }
}
