import { decodeEvent, type Envelope } from '@hearth/contracts';

/** Where a record was read from. */
export interface RecordPosition { topic: string; partition: number; offset: string }

/** Decodes a record's value into an event (see ProjectionOptions.decode). */
export type RecordDecoder = (value: Buffer | null, at: RecordPosition) => Envelope;

/**
 * One decoding of each record for several projections of one process that consume the same
 * topics (the archive's shards): the first to read a record decodes it, the others get the same
 * (read-only) event. A record is kept until every reader has had it. Readers far apart (more
 * than `limit` records kept) drop what is kept, and the reader behind decodes for itself: the
 * memory stays bounded (about 1.5 KiB per kept chat message). Under live traffic the readers
 * fetch each record within moments of each other and it is decoded once; catching up on a
 * backlog they drift apart and mostly decode for themselves. A record that fails to decode is
 * not kept: each reader rejects it.
 */
export function sharedDecoding(readers: number, limit = 20_000): RecordDecoder {
  if (readers < 2) return (value) => decodeEvent(value);
  const pending = new Map<string, { event: Envelope; awaited: number }>();
  return (value, at) => {
    const key = `${at.topic}:${at.partition}:${at.offset}`;
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
}
