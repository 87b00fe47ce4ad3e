import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import {
  chatKeyOf, createEvent, decodeEvent, isCountable, isEvent, MessageAccepted, ReadPointerMoved, topics, UnreadChanged,
  type Envelope, type PayloadOf,
} from '@hearth/contracts';
import { prismaProjectionDatabase, runProjection, type ConsumedEvent, type RunningProjection } from '@hearth/kafka';
import { Readiness, SERVICE_LOGGER } from '@hearth/nest-service';
import type { Logger } from '@hearth/runtime';
import { unreadChangedId } from './domain/read-pointer';
import type { Prisma } from './generated/prisma/client';
import { ProjectionProgress } from './projection-progress';
import { ReadStateDatabase } from './read-state-database';
import { ReadStateLog } from './read-state-log';

/** Consumer group and checkpoint owner. */
export const PROJECTION_NAME = 'read-state';
const INPUT_TOPICS = [topics.messages, topics.readState];
/** UnreadChanged events published per outbox round trip. */
const OUTBOX_BATCH = 500;
/** Delay before publishing the outbox again after the log refused it. */
const OUTBOX_RETRY_MS = 1_000;

type Tx = Prisma.TransactionClient;
type ChangeReason = PayloadOf<typeof UnreadChanged>['reason'];
type MessageEvent = Envelope<'MessageAccepted', PayloadOf<typeof MessageAccepted>>;
type PointerEvent = Envelope<'ReadPointerMoved', PayloadOf<typeof ReadPointerMoved>>;

/**
 * The read-state projection: each chat's messages in archive order, each (user, chat)'s pointer
 * and unread count, each user's total. Fed by MessageAccepted (hearth.messages) and
 * ReadPointerMoved (hearth.read-state; its own UnreadChanged there are ignored).
 *
 * Deterministic whatever the interleaving of the two topics (a rebuild consumes them in another
 * order than the live run did): a pointer carries its position, the furthest position wins, and
 * a message counts only if it is after the pointer, so the final rows are the same.
 *
 * UnreadChanged is a side effect, produced exactly where the change is computed: `apply` writes
 * it to the outbox table in the same transaction, `afterCommit` publishes the outbox. Replaying
 * history does not announce it again: when the projection starts from nothing (a new database,
 * or one dropped for a rebuild) it records the input topics' end offsets as the replay boundary,
 * and events below the boundary — announced when they were first applied — write no outbox row.
 */
@Injectable()
export class ReadStateProjection implements OnApplicationBootstrap, OnModuleDestroy {
  private running?: RunningProjection;
  /** `topic:partition` → first offset that is new since the projection last started from nothing. */
  private boundaries = new Map<string, bigint>();
  private flushing: Promise<void> = Promise.resolve();
  private stopped = false;
  private flushQueued = false;

  constructor(
    private readonly database: ReadStateDatabase,
    private readonly log: ReadStateLog,
    private readonly progress: ProjectionProgress,
    private readonly readiness: Readiness,
    @Inject(SERVICE_LOGGER) private readonly logger: Logger,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.readiness.register('database', () => this.database.isReachable());
    this.readiness.register('consumer', () => this.running?.isJoined() ?? false);
    this.boundaries = await this.replayBoundaries();
    await this.flushOutbox(); // what a crash left between commit and publish
    this.running = await runProjection<Tx>({
      kafka: this.log.kafka,
      name: PROJECTION_NAME,
      topics: INPUT_TOPICS,
      database: prismaProjectionDatabase(this.database),
      logger: this.logger,
      apply: (events, tx) => this.apply(events, tx),
      // Not awaited: publishing the outbox (an fsync'd append) stays off the consumer's path.
      afterCommit: (events) => {
        this.progress.applied(events.map(({ event }) => event.id));
        void this.flushOutbox();
      },
    });
  }

  async onModuleDestroy(): Promise<void> {
    await this.running?.stop();
    this.stopped = true;
    await this.flushing;
  }

  /**
   * Applies one batch (one partition of one topic) with a few set-based statements rather than
   * several per event. Projection transactions are serialised by an advisory lock, so replicas
   * consuming different partitions never interleave a count with a pointer move.
   */
  private async apply(events: ConsumedEvent[], tx: Tx): Promise<void> {
    const started = performance.now();
    const messages: { event: MessageEvent; offset: bigint; announce: boolean }[] = [];
    const moves: { event: PointerEvent; announce: boolean }[] = [];
    for (const consumed of events) {
      const { event } = consumed;
      const announce = !this.isReplayed(consumed);
      if (isEvent(event, MessageAccepted)) messages.push({ event, offset: consumed.offset, announce });
      else if (isEvent(event, ReadPointerMoved)) moves.push({ event, announce });
    }
    // Batches of read-state's own UnreadChanged change nothing: only their checkpoint is saved.
    if (messages.length === 0 && moves.length === 0) return;
    await tx.$executeRawUnsafe('SELECT pg_advisory_xact_lock(hashtext($1))', PROJECTION_NAME);
    const outbox: Envelope[] = [];
    if (messages.length > 0) await this.applyMessages(messages, tx, outbox);
    if (moves.length > 0) await this.applyPointerMoves(moves, tx, outbox);
    if (outbox.length > 0) {
      // One statement for the batch's announcements, in order (seq follows the array order).
      await tx.$executeRawUnsafe(
        'INSERT INTO outbox (event) SELECT event FROM unnest($1::jsonb[]) WITH ORDINALITY AS o(event, n) ORDER BY n',
        outbox.map((event) => JSON.stringify(event)));
    }
    const { topic, partition, offset } = events[0]!;
    this.logger.debug({ topic, partition, fromOffset: offset.toString(), events: events.length, ms: Math.round(performance.now() - started) }, 'applied a batch');
  }

  /**
   * Messages join their chat's order (a duplicate stanza id keeps its first position); each
   * incoming countable one after the recipient's pointer adds one unread (a rebuild may have
   * applied a later pointer already). One UnreadChanged per (user, chat) per batch, caused by
   * the chat's last message in it.
   */
  private async applyMessages(messages: { event: MessageEvent; offset: bigint; announce: boolean }[], tx: Tx, outbox: Envelope[]): Promise<void> {
    const m = messages.map(({ event }) => event.payload);
    const changed = await tx.$queryRawUnsafe<{ user_jid: string; peer_jid: string; unread: number; pointer: string | null; total: number; last_position: bigint }[]>(
      `WITH incoming (chat_key, stanza_id, position, sender, recipient, client_message_id, countable) AS (
         SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::boolean[])),
       inserted AS (
         INSERT INTO chat_messages (chat_key, stanza_id, position, sender, recipient, client_message_id, countable)
         SELECT * FROM incoming ON CONFLICT DO NOTHING RETURNING position, sender, recipient, countable),
       counted AS (
         SELECT i.recipient AS user_jid, i.sender AS peer_jid, count(*)::int AS added, max(i.position) AS last_position
         FROM inserted i LEFT JOIN chat_read_states s ON s.user_jid = i.recipient AND s.peer_jid = i.sender
         WHERE i.countable AND i.position > COALESCE(s.pointer_position, -1)
         GROUP BY i.recipient, i.sender),
       chats AS (
         INSERT INTO chat_read_states (user_jid, peer_jid, unread) SELECT user_jid, peer_jid, added FROM counted
         ON CONFLICT (user_jid, peer_jid) DO UPDATE SET unread = chat_read_states.unread + EXCLUDED.unread
         RETURNING user_jid, peer_jid, unread, pointer_stanza_id AS pointer),
       totals AS (
         INSERT INTO unread_totals (user_jid, total) SELECT user_jid, sum(added)::int FROM counted GROUP BY user_jid
         ON CONFLICT (user_jid) DO UPDATE SET total = unread_totals.total + EXCLUDED.total
         RETURNING user_jid, total)
       SELECT c.user_jid, c.peer_jid, c.unread, c.pointer, t.total, n.last_position
       FROM chats c JOIN totals t USING (user_jid) JOIN counted n USING (user_jid, peer_jid)`,
      m.map((x) => x.chatKey), m.map((x) => x.stanzaId), messages.map((x) => x.offset.toString()), m.map((x) => x.sender),
      m.map((x) => x.recipient), m.map((x) => x.clientMessageId ?? null), m.map((x) => isCountable(x)));
    const byPosition = new Map(messages.map((x) => [`${x.event.payload.chatKey} ${x.offset}`, x]));
    for (const row of changed) {
      const cause = byPosition.get(`${chatKeyOf(row.user_jid, row.peer_jid)} ${row.last_position}`)!;
      if (cause.announce) outbox.push(unreadChanged(cause.event, row.user_jid, row.peer_jid, row.unread, row.total, row.pointer, 'message-arrived'));
    }
  }

  /**
   * The furthest position wins (per chat, in the batch and against the row); unread becomes the
   * incoming countable messages after it, and the total moves by the difference.
   */
  private async applyPointerMoves(moves: { event: PointerEvent; announce: boolean }[], tx: Tx, outbox: Envelope[]): Promise<void> {
    const furthest = new Map<string, { event: PointerEvent; announce: boolean }>();
    for (const move of moves) {
      const key = `${move.event.payload.user} ${move.event.payload.peer}`;
      if ((furthest.get(key)?.event.payload.position ?? -1) < move.event.payload.position) furthest.set(key, move);
    }
    const list = [...furthest.values()];
    const p = list.map(({ event }) => event.payload);
    const changed = await tx.$queryRawUnsafe<{ user_jid: string; peer_jid: string; unread: number; pointer: string; total: number }[]>(
      `WITH moves (user_jid, peer_jid, stanza_id, position, moved_by, moved_at, chat_key) AS (
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::text[], $6::timestamptz[], $7::text[])),
       ahead AS (
         SELECT m.*, COALESCE(s.unread, 0) AS old_unread,
           (SELECT count(*)::int FROM chat_messages c
            WHERE c.chat_key = m.chat_key AND c.recipient = m.user_jid AND c.countable AND c.position > m.position) AS new_unread
         FROM moves m LEFT JOIN chat_read_states s ON s.user_jid = m.user_jid AND s.peer_jid = m.peer_jid
         WHERE s.pointer_position IS NULL OR s.pointer_position < m.position),
       chats AS (
         INSERT INTO chat_read_states (user_jid, peer_jid, pointer_stanza_id, pointer_position, pointer_moved_by, pointer_moved_at, unread)
         SELECT user_jid, peer_jid, stanza_id, position, moved_by, moved_at, new_unread FROM ahead
         ON CONFLICT (user_jid, peer_jid) DO UPDATE SET pointer_stanza_id = EXCLUDED.pointer_stanza_id,
           pointer_position = EXCLUDED.pointer_position, pointer_moved_by = EXCLUDED.pointer_moved_by,
           pointer_moved_at = EXCLUDED.pointer_moved_at, unread = EXCLUDED.unread
         RETURNING user_jid, peer_jid, unread, pointer_stanza_id AS pointer),
       totals AS (
         INSERT INTO unread_totals (user_jid, total) SELECT user_jid, sum(new_unread - old_unread)::int FROM ahead GROUP BY user_jid
         ON CONFLICT (user_jid) DO UPDATE SET total = unread_totals.total + EXCLUDED.total
         RETURNING user_jid, total)
       SELECT c.user_jid, c.peer_jid, c.unread, c.pointer, t.total FROM chats c JOIN totals t USING (user_jid)`,
      p.map((x) => x.user), p.map((x) => x.peer), p.map((x) => x.stanzaId), p.map((x) => x.position), p.map((x) => x.movedBy),
      list.map(({ event }) => event.occurredAt), p.map((x) => chatKeyOf(x.user, x.peer)));
    for (const row of changed) {
      const cause = furthest.get(`${row.user_jid} ${row.peer_jid}`)!;
      if (cause.announce) outbox.push(unreadChanged(cause.event, row.user_jid, row.peer_jid, row.unread, row.total, row.pointer, 'pointer-moved'));
    }
  }

  private isReplayed(consumed: ConsumedEvent): boolean {
    const boundary = this.boundaries.get(`${consumed.topic}:${consumed.partition}`);
    return boundary !== undefined && consumed.offset < boundary;
  }

  /**
   * Publishes the outbox in order, one flush at a time (a request made while one is queued joins
   * it), deleting what the log acknowledged. Never throws: a failed publish leaves the rows for
   * the next flush (after the next batch, or the retry timer).
   */
  private flushOutbox(): Promise<void> {
    if (this.flushQueued) return this.flushing;
    this.flushQueued = true;
    this.flushing = this.flushing.then(async () => {
      this.flushQueued = false;
      try {
        for (;;) {
          const rows = await this.database.$queryRawUnsafe<{ seq: bigint; event: unknown }[]>(
            'SELECT seq, event FROM outbox ORDER BY seq LIMIT $1', OUTBOX_BATCH);
          if (rows.length === 0) return;
          await this.log.publish(rows.map((row) => decodeEvent(JSON.stringify(row.event))));
          await this.database.$executeRawUnsafe('DELETE FROM outbox WHERE seq <= $1', rows[rows.length - 1]!.seq);
        }
      } catch (error) {
        this.logger.warn({ err: error, retryInMs: OUTBOX_RETRY_MS }, 'could not publish UnreadChanged from the outbox; they stay there and are retried');
        if (!this.stopped) setTimeout(() => void this.flushOutbox(), OUTBOX_RETRY_MS).unref();
      }
    });
    return this.flushing;
  }

  /**
   * Starting from nothing (no checkpoint at all), records the input topics' end offsets: what is
   * below them is history, announced when it first happened. A restart mid-rebuild keeps them.
   */
  private async replayBoundaries(): Promise<Map<string, bigint>> {
    const started = await this.database.$queryRawUnsafe<unknown[]>(
      'SELECT 1 FROM consumer_checkpoints WHERE consumer = $1 LIMIT 1', PROJECTION_NAME);
    if (started.length === 0) {
      const ends = await Promise.all(INPUT_TOPICS.map(async (topic) => [topic, await this.log.endOffsets(topic)] as const));
      await this.database.$transaction(async (tx) => {
        await tx.$executeRawUnsafe('DELETE FROM replay_boundaries');
        for (const [topic, offsets] of ends) {
          for (const [partition, end] of offsets) {
            if (end > 0n) await tx.$executeRawUnsafe('INSERT INTO replay_boundaries (topic, partition, end_offset) VALUES ($1, $2, $3)', topic, partition, end);
          }
        }
      });
    }
    const rows = await this.database.$queryRawUnsafe<{ topic: string; partition: number; end_offset: bigint }[]>(
      'SELECT topic, partition, end_offset FROM replay_boundaries');
    if (rows.length > 0) {
      this.logger.info({ boundaries: rows.map((r) => `${r.topic}:${r.partition}@${r.end_offset}`) },
        'replaying history below these offsets without announcing UnreadChanged again (it was announced when first applied)');
    }
    return new Map(rows.map((r) => [`${r.topic}:${r.partition}`, BigInt(r.end_offset)]));
  }
}

/** The announcement of a changed count, written to the outbox in the transaction that changed it. */
function unreadChanged(cause: Envelope, user: string, peer: string, unread: number, total: number, pointer: string | null, reason: ChangeReason): Envelope {
  return createEvent(UnreadChanged, { user, peer, unread, total, ...(pointer === null ? {} : { pointer }), reason }, {
    key: user,
    producer: 'read-state',
    id: unreadChangedId(cause.id, user),
    causationId: cause.id,
    correlationId: cause.correlationId ?? cause.id,
    occurredAt: new Date(cause.occurredAt),
  });
}
