import type { EventProducer } from '@hearth/kafka';
import type { Logger } from '@hearth/runtime';
import type { AccountStore } from './account-store';

const BATCH = 100;
const RETRY_MS = 2_000;

/**
 * Moves account events from the outbox to the log, oldest first, deleting each batch only after
 * the producer has it acknowledged by all in-sync replicas. A crash in between republishes the
 * batch; events keep their ids, so consumers drop the duplicates.
 */
export class OutboxRelay {
  private running = false;
  private loop: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  /** A nudge that came while a batch was being published: look again before waiting. */
  private nudged = false;

  constructor(
    private readonly store: AccountStore,
    private readonly producer: EventProducer,
    private readonly logger: Logger,
    /** Commands nudge the relay of their own process; polling finds what a crashed one left. */
    private readonly pollMs: number,
  ) {}

  start(): void {
    this.running = true;
    this.loop = this.run();
  }

  /** Publishes right away instead of at the next poll (after a command). */
  nudge(): void {
    this.nudged = true;
    this.wake?.();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
  }

  private async run(): Promise<void> {
    while (this.running) {
      this.nudged = false;
      let wait = 0;
      try {
        // A nudge while this batch was on its way may be for an event the batch did not include.
        if ((await this.publishBatch()) < BATCH) wait = this.nudged ? 0 : this.pollMs;
      } catch (error) {
        this.logger.warn({ err: error }, 'publishing account events failed; retrying');
        wait = RETRY_MS;
      }
      if (wait > 0 && this.running) await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, wait);
        this.wake = () => (clearTimeout(timer), resolve());
      });
    }
  }

  /** The oldest events in the outbox, published and then removed; how many there were. */
  private async publishBatch(): Promise<number> {
    const batch = await this.store.outbox(BATCH);
    if (batch.length === 0) return 0;
    await this.producer.publish(batch.map((entry) => entry.envelope));
    await this.store.removeFromOutbox(batch.map((entry) => entry.seq));
    this.logger.debug({ events: batch.length }, 'account events published');
    return batch.length;
  }
}
