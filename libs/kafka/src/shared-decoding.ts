import { setTimeout as delay } from 'node:timers/promises';
import { decodeEvent, type Envelope } from '@hearth/contracts';

/** Where a record was read from. */
export interface RecordPosition { topic: string; partition: number; offset: string }

/** Decodes a record's value into an event. */
export type RecordDecoder = (value: Buffer | null, at: RecordPosition) => Envelope;

/** How a projection decodes its records (ProjectionOptions.decoding; default: decodeEvent). */
export interface RecordDecoding {
  decode: RecordDecoder;
  /** Awaited before the records of `topic`/`partition` from offset `from` up to `to` are decoded (at once, after it). */
  pace?(topic: string, partition: number, from: bigint, to: bigint): Promise<void>;
}

/** Longest a reader waits for the others before one batch: one that stopped or is stuck must not stop the rest. */
const MAX_PACE_WAIT_MS = 250;
const PACE_POLL_MS = 2;
/**
 * A reader that has not read a partition for this long holds no one back there: another instance
 * has it since a rebalance. (Longer than a large transaction, during which a reader reads nothing.)
 */
const STALE_POSITION_MS = 5_000;

/**
 * One decoding of each record for several projections of one process that consume the same
 * topics (the archive's shards), one RecordDecoding per reader: the first to read a record
 * decodes it, the others get the same (read-only) event, and a record is kept until every reader
 * has had it. A reader more than a quarter of `limit` records ahead of another on a partition
 * waits for it before its next batch (at most MAX_PACE_WAIT_MS), so the readers stay close
 * enough to share while catching up on a backlog too (unpaced, each fetching megabytes at a
 * time, they drifted apart and shared nothing); one that has not read the partition lately
 * (STALE_POSITION_MS) is not waited for. Readers further apart than `limit` kept records
 * drop what is kept, and the reader behind decodes for itself: memory stays bounded (about
 * 1.5 KiB per kept chat message). A record that fails to decode is not kept: each reader
 * rejects it.
 */
export function sharedDecoding(readers: number, limit = 20_000, staleMs = STALE_POSITION_MS): RecordDecoding[] {
  if (readers < 2) return [{ decode: (value) => decodeEvent(value) }];
  const pending = new Map<string, { event: Envelope; awaited: number }>();
  const window = BigInt(Math.floor(limit / 4));
  // Each reader's next offset to decode, and when it got there, by topic:partition (set per batch, by pace).
  const positions = Array.from({ length: readers }, () => new Map<string, { next: bigint; at: number }>());
  const shared = (key: string, value: Buffer | null): Envelope => {
    const kept = pending.get(key);
    if (kept) {
      if (--kept.awaited === 0) pending.delete(key);
      return kept.event;
    }
    const event = decodeEvent(value);
    pending.set(key, { event, awaited: readers - 1 });
    // Not one by one from the oldest: V8 finds a Map's first entry by skipping deleted ones.
    if (pending.size > limit) pending.clear();
    return event;
  };
  return positions.map((own) => ({
    decode: (value, at) => shared(`${at.topic}:${at.partition}:${at.offset}`, value),
    async pace(topic, partition, from, to) {
      const key = `${topic}:${partition}`;
      // A reader that has not read this partition yet, or not lately, holds no one back.
      const behind = (other: Map<string, { next: bigint; at: number }>) => {
        const position = other.get(key);
        return position !== undefined && from - position.next > window && Date.now() - position.at < staleMs;
      };
      const aheadOfAnother = () => positions.some((other) => other !== own && behind(other));
      const deadline = Date.now() + MAX_PACE_WAIT_MS;
      while (aheadOfAnother() && Date.now() < deadline) await delay(PACE_POLL_MS);
      own.set(key, { next: to, at: Date.now() });
    },
  }));
}
