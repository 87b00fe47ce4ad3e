import { decodeEvent, type Envelope } from '@hearth/contracts';

/** Where a record was read from. */
export interface RecordPosition { topic: string; partition: number; offset: string }

/** Decodes a record's value into an event (see ProjectionOptions.decode). */
export type RecordDecoder = (value: Buffer | null, at: RecordPosition) => Envelope;

/**
 * One decoding of each record for several projections of one process that consume the same
 * topics (the archive's shards): the first to read a record decodes it, the others get the same
 * (read-only) event. A record is kept until every reader has had it, or until `limit` newer ones
 * pushed it out (a reader far behind then decodes it itself). A record that fails to decode is
 * not kept: each reader rejects it on its own.
 */
export function sharedDecoding(readers: number, limit = 50_000): RecordDecoder {
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
    if (pending.size > limit) pending.delete(pending.keys().next().value!);
    return event;
  };
}
