/**
 * Group commit: appends that arrive while a flush is running are written and fsynced together
 * by the next one, so the cost of an fsync is shared by every produce waiting on it.
 */
export interface Flushable {
  flush(): Promise<void>;
}

export class GroupCommit {
  private readonly dirty = new Set<Flushable>();
  private running: Promise<void> | null = null;

  mark(log: Flushable): void {
    this.dirty.add(log);
    // setImmediate lets every request already read from the sockets in this turn join the flush.
    this.running ??= new Promise((resolve) => setImmediate(() => void this.loop().then(resolve)));
  }

  private async loop(): Promise<void> {
    while (this.dirty.size > 0) {
      const logs = [...this.dirty];
      this.dirty.clear();
      await Promise.all(logs.map((log) => log.flush()));
    }
    this.running = null;
  }

  /** Resolves when everything marked so far is written. */
  async drain(): Promise<void> {
    while (this.running) await this.running;
  }
}
