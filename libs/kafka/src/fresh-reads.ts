import type { Admin } from 'kafkajs';
import type { Envelope } from '@hearth/contracts';
import type { ConsumedEvent, LaneProgress } from './projection';
import type { SqlExecutor } from './projection-database';
import { topicEndOffsets } from './topic-offsets';

export interface FreshReadsOptions {
  admin: Admin;
  /** The projection's database, outside any transaction: where its checkpoints are. */
  checkpoints: SqlExecutor;
  /** How long a read waits for the projection before it gives up. */
  timeoutMs: number;
  /** How often the checkpoints are read again while waiting (progress made by another replica). */
  pollMs?: number;
}

const DEFAULT_POLL_MS = 50;

/** The reader's lane of the projection running in this process, if it runs here. */
export interface LocalLane<E = Envelope> {
  progress: LaneProgress<E>;
  /** Whether a fetched event changes what the read would see (the archive: one about the owner). */
  matters(event: ConsumedEvent<E>): boolean;
  /** Shortens the lane's linger (runProjection's `hurry`). */
  hurry(): void;
}

/**
 * Reads that reflect the log as of the moment they are asked. A projection applies events some
 * time after they were appended; a read that does not wait for it can miss an event that the
 * asker has already been told about by other means. For the archive that would be a hole in a
 * sync: a client that came online just after a message was accepted misses it in its first MAM
 * page, gets the next one live, and its next sync "after the last id it has" skips the first one
 * for good. So a read first takes the end offsets of the topics it depends on, then waits until
 * the projection's checkpoints have passed them, or, where the projection runs in this process,
 * until it has fetched that far and nothing it has not committed yet matters to the read. Only a
 * read that waits for a pending event hurries the projection, so readers do not turn its linger
 * (and the CPU that buys) into nothing.
 *
 * End offsets are fetched once for all reads that arrive while a request is on its way: they
 * share the next request, never one sent before they arrived.
 */
export class FreshReads {
  private readonly endOffsets = new Map<string, OffsetsRequests>();
  /** Reads waiting for the projection: woken by `progressed`, or by their poll. */
  private readonly waiting = new Set<() => void>();

  constructor(private readonly options: FreshReadsOptions) {}

  /**
   * Resolves true once every event appended to `topics` before this call is either applied by
   * `consumer` (a projection's checkpoint name) or held by `local` without mattering to the read;
   * false when that has not happened within the timeout.
   */
  async caughtUp<E>(consumer: string, topics: readonly string[], local?: LocalLane<E>): Promise<boolean> {
    const deadline = Date.now() + this.options.timeoutMs;
    // Checkpoints only move forward, so they may be read while the end offsets are on their way:
    // what they say then is at most what they will say once the end offsets are known.
    let [ends, reached] = await Promise.all([this.ends(topics), this.reached(consumer, topics)]);
    for (;;) {
      const behind = ends.filter(({ topic, partition, end }) => (reached.get(`${topic}:${partition}`) ?? 0n) < end);
      if (behind.length === 0) return true;
      // The rest is fetched here and waits for a transaction: that matters only if it changes the read.
      const holding = local && behind.every(({ topic, partition, end }) => (local.progress.fetched(topic, partition) ?? -1n) >= end) ? local : undefined;
      if (holding && !anyMatters(holding)) return true;
      const left = deadline - Date.now();
      if (left <= 0) return false;
      holding?.hurry();
      await this.nextProgressOr(Math.min(left, this.options.pollMs ?? DEFAULT_POLL_MS));
      reached = await this.reached(consumer, topics);
    }
  }

  /** Where each partition of `topics` that holds events ends, as of a request sent after this call. */
  private async ends(topics: readonly string[]): Promise<{ topic: string; partition: number; end: bigint }[]> {
    const offsets = await Promise.all(topics.map((topic) => this.requestsFor(topic).next()));
    return offsets.flatMap((byPartition, i) =>
      [...byPartition].filter(([, end]) => end > 0n).map(([partition, end]) => ({ topic: topics[i]!, partition, end })));
  }

  /** The consumer's checkpoints (next offset to apply) by `topic:partition`. */
  private async reached(consumer: string, topics: readonly string[]): Promise<Map<string, bigint>> {
    const rows = await this.options.checkpoints.query<{ topic: string; partition: number; next_offset: string | bigint }>(
      'SELECT topic, partition, next_offset FROM consumer_checkpoints WHERE consumer = $1 AND topic = ANY($2::text[])', [consumer, topics],
    );
    return new Map(rows.map((r) => [`${r.topic}:${r.partition}`, BigInt(r.next_offset)]));
  }

  /** The projection in this process queued fetched events or committed a transaction: waiting reads look again. */
  progressed(): void {
    for (const wake of this.waiting) wake();
    this.waiting.clear();
  }

  private nextProgressOr(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.waiting.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.waiting.add(wake);
    });
  }

  private requestsFor(topic: string): OffsetsRequests {
    let requests = this.endOffsets.get(topic);
    if (!requests) this.endOffsets.set(topic, (requests = new OffsetsRequests(this.options.admin, topic)));
    return requests;
  }
}

function anyMatters<E>(local: LocalLane<E>): boolean {
  for (const event of local.progress.pending()) if (local.matters(event)) return true;
  return false;
}

/** End offsets of one topic, fetched by one request at a time for every read that waits. */
class OffsetsRequests {
  private inFlight: Promise<Map<number, bigint>> | null = null;
  private following: Promise<Map<number, bigint>> | null = null;
  private exists = false;

  constructor(private readonly admin: Admin, private readonly topic: string) {}

  /** The end offsets as of a request sent after this call. */
  next(): Promise<Map<number, bigint>> {
    if (!this.inFlight) {
      this.inFlight = this.fetch().finally(() => (this.inFlight = null));
      return this.inFlight;
    }
    // The request on its way may have left before this read was asked: take the one after it.
    this.following ??= this.inFlight.catch(() => undefined).then(() => {
      this.following = null;
      return this.next();
    });
    return this.following;
  }

  private async fetch(): Promise<Map<number, bigint>> {
    // topicEndOffsets first looks whether the topic exists (a metadata request); once it does,
    // that is not asked again (topics are not deleted under a running service).
    if (!this.exists) {
      const offsets = await topicEndOffsets(this.admin, this.topic);
      this.exists = offsets.size > 0;
      return offsets;
    }
    const offsets = await this.admin.fetchTopicOffsets(this.topic);
    return new Map(offsets.map(({ partition, high }) => [partition, BigInt(high)]));
  }
}
