import { Injectable } from '@nestjs/common';

/**
 * Lets a command wait until the projection has applied the event it appended (read-your-write),
 * woken when this process applies it. Another replica holding the partition is not seen: the
 * wait then ends at its timeout and the caller answers from the event itself.
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

  /** Resolves true once every one of `eventIds` is applied, false after `timeoutMs`. */
  async waitFor(eventIds: readonly string[], timeoutMs: number): Promise<boolean> {
    const pending = eventIds.map((id) => new Promise<void>((resolve) => {
      const set = this.waiters.get(id) ?? new Set();
      set.add(resolve);
      this.waiters.set(id, set);
    }));
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    try {
      return await Promise.race([Promise.all(pending).then(() => true as const), timedOut]);
    } finally {
      clearTimeout(timer);
      for (const id of eventIds) {
        const set = this.waiters.get(id);
        if (set?.size === 0) this.waiters.delete(id);
      }
    }
  }
}
