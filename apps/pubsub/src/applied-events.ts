import { Injectable } from '@nestjs/common';

/**
 * Read-your-writes for commands: a command appends its events, then waits until the projection
 * has committed them, so the next command (and query) on the node sees them.
 */
@Injectable()
export class AppliedEvents {
  private readonly waiting = new Map<string, () => void>();

  /** Registers before the events are appended (the projection may be faster than the append's ack). */
  waitFor(eventIds: readonly string[], timeoutMs: number): Promise<'applied' | 'timed-out'> {
    return new Promise((resolve) => {
      let pending = eventIds.length;
      if (pending === 0) return resolve('applied');
      const timer = setTimeout(() => {
        for (const id of eventIds) this.waiting.delete(id);
        resolve('timed-out');
      }, timeoutMs);
      for (const id of eventIds) {
        this.waiting.set(id, () => {
          if (--pending === 0) {
            clearTimeout(timer);
            resolve('applied');
          }
        });
      }
    });
  }

  /** Forgets waiters of events that will never be appended (the append failed). */
  cancel(eventIds: readonly string[]): void {
    for (const id of eventIds) this.waiting.delete(id);
  }

  committed(eventIds: readonly string[]): void {
    for (const id of eventIds) {
      const done = this.waiting.get(id);
      if (done) {
        this.waiting.delete(id);
        done();
      }
    }
  }
}
