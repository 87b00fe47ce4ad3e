import type { Logger } from '@hearth/runtime';
import type { MessageDedupeStore } from './dedupe-store';

const PRUNE_EVERY_MS = 10 * 60_000;
const PRUNE_BATCH = 10_000;

/**
 * Deletes dedupe keys past their retention, in bounded batches, every few minutes. Every gateway
 * runs one; they share the table, and deleting what another just deleted costs nothing.
 */
export class DedupePruner {
  private readonly timer: NodeJS.Timeout;
  private running: Promise<void> | null = null;

  constructor(
    private readonly store: MessageDedupeStore,
    private readonly retentionMs: number,
    private readonly logger: Logger,
  ) {
    this.timer = setInterval(() => void this.prune(), PRUNE_EVERY_MS).unref();
  }

  prune(now = new Date()): Promise<void> {
    this.running ??= (async () => {
      const before = new Date(now.getTime() - this.retentionMs);
      let total = 0;
      try {
        for (let deleted = PRUNE_BATCH; deleted === PRUNE_BATCH; total += deleted) deleted = await this.store.prune(before, PRUNE_BATCH);
        if (total > 0) this.logger.info({ deleted: total, before: before.toISOString() }, 'pruned message dedupe keys');
      } catch (error) {
        this.logger.warn({ err: error }, 'pruning message dedupe keys failed; retried later');
      } finally {
        this.running = null;
      }
    })();
    return this.running;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }
}
