import { Injectable } from '@nestjs/common';
import { AppliedEvents } from '@hearth/kafka';

/** How often a waiter re-checks the database, for events applied by another replica. */
const RECHECK_INTERVAL_MS = 100;

/**
 * Read-your-writes without waiting in the command: a move is acknowledged once its event is in
 * the log, and remembered here (per user) until the projection has applied it; the user's next
 * command or query on this instance first waits for those (bounded). Waiters are woken at once
 * when this process applies the event, and re-check the database meanwhile in case another
 * replica holds the partition.
 */
@Injectable()
export class ProjectionProgress extends AppliedEvents {
  /** user → event id → resolves once applied (true) or given up on (false). */
  private readonly pending = new Map<string, Map<string, Promise<boolean>>>();

  /**
   * Remembers an appended, not yet applied event of `user` until it is applied (or `timeoutMs`
   * passed). The database is not asked before the first recheck interval: the projection usually
   * applies it sooner and wakes the waiter, so tracking costs no query.
   */
  track(user: string, eventId: string, isApplied: () => Promise<boolean>, timeoutMs: number): void {
    const ofUser = this.pending.get(user) ?? new Map<string, Promise<boolean>>();
    this.pending.set(user, ofUser);
    const done = this.waitUntilApplied(eventId, isApplied, timeoutMs, { checkFirst: false }).finally(() => {
      ofUser.delete(eventId);
      if (ofUser.size === 0 && this.pending.get(user) === ofUser) this.pending.delete(user);
    });
    ofUser.set(eventId, done);
  }

  /** Resolves once every tracked event of `user` is applied: true, or false if one was given up on. */
  async settled(user: string): Promise<boolean> {
    const ofUser = this.pending.get(user);
    if (!ofUser) return true;
    return (await Promise.all(ofUser.values())).every(Boolean);
  }

  /**
   * Resolves true once `eventId` is applied here (or `isApplied` says so: another replica may
   * hold the partition), false after `timeoutMs`.
   */
  async waitUntilApplied(eventId: string, isApplied: () => Promise<boolean>, timeoutMs: number, { checkFirst = true } = {}): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    for (let first = true; Date.now() < deadline; first = false) {
      if ((checkFirst || !first) && (await isApplied())) return true;
      if (await this.waitFor([eventId], Math.min(RECHECK_INTERVAL_MS, Math.max(0, deadline - Date.now())))) return true;
    }
    return isApplied();
  }
}
