import type { ConversationTracker } from './domain/conversations';
import { copiesOf, planIngest, trackerKey, type AcceptedMessage, type ArchiveCopy, type ArchiveRow, type IngestState } from './domain/ingest-plan';
import { preferencesAt, shouldArchive, type ArchiveMode, type ArchivePreferences } from './domain/archiving-policy';
import { OwnerShard } from './domain/owner-shards';

/** Raw SQL on the archive database (a Prisma client or transaction client). */
export interface RawSql {
  $queryRawUnsafe<T = unknown>(query: string, ...values: unknown[]): Promise<T>;
  $executeRawUnsafe(query: string, ...values: unknown[]): Promise<number>;
}

/** The values of one row for COPY. */
export type CopyRow = readonly (string | boolean)[];

/** Raw SQL in the projection's transaction, which can also COPY rows into a table. */
export interface TransactionSql extends RawSql {
  /**
   * COPYs the rows in, each as `valuesOf` gives its values in `columns` order. The values are
   * taken a chunk at a time as the data is written, so they are garbage before the COPY's wait
   * instead of living through it (and being copied by the garbage collector).
   */
  copyRows<Row>(table: string, columns: readonly string[], rows: readonly Row[], valuesOf: (row: Row) => CopyRow): Promise<void>;
}

/**
 * The projection's writes, for the owners of one shard (events about other owners are left to
 * their shard). Each method runs inside the projection's batch transaction and uses a constant
 * number of set-based statements per batch (arrays through `unnest`), because Prisma's per-row
 * overhead would cap ingest far below the rate the archive needs.
 */
export class ArchiveWriter {
  constructor(private readonly conversationGapMs: number, private readonly shard: OwnerShard = OwnerShard.whole) {}

  /** MessageAccepted × n: both copies of each message, positions, chats, conversations. */
  async archiveMessages(sql: TransactionSql, messages: readonly AcceptedMessage[]): Promise<number> {
    const copies = copiesOf(messages, (owner) => this.shard.owns(owner));
    if (copies.length === 0) return 0;
    const owners = [...new Set(copies.map((c) => c.owner))].sort();
    const state = await this.loadState(sql, owners, copies);
    const plan = planIngest(copies, state, this.conversationGapMs);

    const rows = await this.insertMessages(sql, plan.rows);
    await this.addToAggregates(sql, rows);
    await this.saveTrackers(sql, plan.trackers);
    const counts = countBy(rows, (r) => r.owner);
    const lastSeq = [...plan.lastSeq];
    await sql.$executeRawUnsafe(
      `UPDATE archive_owners o SET last_seq = u.last_seq, message_count = o.message_count + u.added
       FROM unnest($1::text[], $2::bigint[], $3::bigint[]) AS u(owner, last_seq, added) WHERE o.owner = u.owner`,
      lastSeq.map(([o]) => o), lastSeq.map(([, s]) => s.toString()), lastSeq.map(([o]) => counts.get(o) ?? 0),
    );
    return rows.length;
  }

  /**
   * Inserts the rows and returns those inserted. A stanza id already archived for its owner (the
   * same message accepted twice) is skipped, and only rows actually inserted count towards chats
   * and conversations. That is rare, so the rows are first copied in (COPY, which cannot skip a
   * conflict) inside a savepoint, and only if one conflicts inserted again with ON CONFLICT.
   *
   * Rows go in sorted by owner and position: consecutive rows then land on the same index pages,
   * which took about a sixth off PostgreSQL's time per row, and an owner's rows end up together
   * on the table's pages, where MAM reads them.
   */
  private async insertMessages(sql: TransactionSql, rows: readonly ArchiveRow[]): Promise<readonly ArchiveRow[]> {
    if (rows.length === 0) return rows;
    const sorted = byOwnerAndPosition(rows);
    await sql.$executeRawUnsafe('SAVEPOINT archive_insert');
    try {
      await sql.copyRows('archive_messages', MESSAGE_COLUMNS, sorted, messageValues);
      await sql.$executeRawUnsafe('RELEASE SAVEPOINT archive_insert');
      return rows;
    } catch (error) {
      if ((error as { code?: unknown }).code !== UNIQUE_VIOLATION) throw error;
      await sql.$executeRawUnsafe('ROLLBACK TO SAVEPOINT archive_insert');
    }
    const values = sorted.map(messageValues);
    const inserted = await sql.$queryRawUnsafe<{ owner: string; seq: bigint }[]>(
      `INSERT INTO archive_messages (${MESSAGE_COLUMNS.join(', ')})
       SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::boolean[], $7::timestamptz[], $8::text[], $9::text[])
       ON CONFLICT (owner, stanza_id) DO NOTHING RETURNING owner, seq`,
      ...MESSAGE_COLUMNS.map((_, column) => values.map((row) => row[column])),
    );
    const keys = new Set(inserted.map((r) => `${r.owner}\n${String(r.seq)}`));
    return rows.filter((r) => keys.has(`${r.owner}\n${r.seq}`));
  }

  /** AccountDeleted: the user's archive, chats, conversations and preferences up to `at` are removed for good. */
  async deleteAccount(sql: RawSql, owner: string, at: Date): Promise<void> {
    if (!this.shard.owns(owner)) return;
    await sql.$executeRawUnsafe(
      `INSERT INTO archive_owners (owner, deleted_before) VALUES ($1, $2::timestamptz)
       ON CONFLICT (owner) DO UPDATE SET deleted_before = GREATEST(archive_owners.deleted_before, EXCLUDED.deleted_before)`,
      owner, at.toISOString(),
    );
    await sql.$executeRawUnsafe('DELETE FROM archive_messages WHERE owner = $1 AND accepted_at <= $2::timestamptz', owner, at.toISOString());
    await sql.$executeRawUnsafe('DELETE FROM archive_preferences WHERE owner = $1 AND effective_at <= $2::timestamptz', owner, at.toISOString());
    await this.recomputeAggregates(sql, [owner]);
  }

  /** ArchiveRetentionApplied: nothing accepted before `before` stays, in any archive. */
  async applyRetention(sql: RawSql, before: Date): Promise<void> {
    await sql.$executeRawUnsafe(
      `INSERT INTO archive_retention (id, before) VALUES (1, $1::timestamptz)
       ON CONFLICT (id) DO UPDATE SET before = GREATEST(archive_retention.before, EXCLUDED.before)`,
      before.toISOString(),
    );
    const expired = await sql.$queryRawUnsafe<{ owner: string }[]>(
      'SELECT DISTINCT owner FROM archive_messages WHERE accepted_at < $1::timestamptz', before.toISOString(),
    );
    const owners = expired.map((r) => r.owner).filter((owner) => this.shard.owns(owner));
    if (owners.length === 0) return;
    await sql.$executeRawUnsafe(
      'DELETE FROM archive_messages WHERE owner = ANY($1::text[]) AND accepted_at < $2::timestamptz', owners, before.toISOString(),
    );
    await this.recomputeAggregates(sql, owners);
  }

  /** ArchivePreferencesChanged: a new entry in the user's preference history, in force from `effectiveAt`. */
  async recordPreferences(sql: RawSql, eventId: string, owner: string, effectiveAt: Date, prefs: { mode: ArchiveMode; always: string[]; never: string[] }): Promise<void> {
    if (!this.shard.owns(owner)) return;
    await sql.$executeRawUnsafe(
      `INSERT INTO archive_preferences (owner, event_id, effective_at, mode, always, never)
       SELECT $1, $2, $3::timestamptz, $4, $5::text[], $6::text[]
       WHERE NOT EXISTS (SELECT 1 FROM archive_owners WHERE owner = $1 AND deleted_before >= $3::timestamptz)
       ON CONFLICT (owner, event_id) DO NOTHING`,
      owner, eventId, effectiveAt.toISOString(), prefs.mode, prefs.always, prefs.never,
    );
    // Messages accepted after the change but consumed before it (another topic, another
    // partition) were judged without it: judge them again, so the outcome does not depend on
    // which topic was consumed first. (One that an earlier preference kept out cannot come back.)
    const later = await sql.$queryRawUnsafe<{ seq: bigint; peer: string; accepted_at: Date }[]>(
      'SELECT seq, peer, accepted_at FROM archive_messages WHERE owner = $1 AND accepted_at >= $2::timestamptz', owner, effectiveAt.toISOString(),
    );
    if (later.length === 0) return;
    const history = (await sql.$queryRawUnsafe<{ effective_at: Date; mode: ArchiveMode; always: string[]; never: string[] }[]>(
      'SELECT effective_at, mode, always, never FROM archive_preferences WHERE owner = $1 ORDER BY effective_at, event_id', owner,
    )).map((r) => ({ mode: r.mode, always: r.always, never: r.never, effectiveAt: r.effective_at.getTime() }));
    const excluded = later.filter((m) => !shouldArchive(preferencesAt(history, m.accepted_at.getTime()), m.peer)).map((m) => m.seq.toString());
    if (excluded.length === 0) return;
    await sql.$executeRawUnsafe('DELETE FROM archive_messages WHERE owner = $1 AND seq = ANY($2::bigint[])', owner, excluded);
    await this.recomputeAggregates(sql, [owner]);
  }

  private async loadState(sql: RawSql, owners: string[], copies: readonly ArchiveCopy[]): Promise<IngestState> {
    // Locked in a fixed order: concurrent batches touching the same owners serialise, so positions
    // are handed out in commit order (a reader never sees position n+1 before n).
    const lockOwners = (list: string[]) => sql.$queryRawUnsafe<{ owner: string; last_seq: bigint; deleted_before: Date | null }[]>(
      'SELECT owner, last_seq, deleted_before FROM archive_owners WHERE owner = ANY($1::text[]) ORDER BY owner FOR UPDATE', list,
    );
    const ownerRows = await lockOwners(owners);
    if (ownerRows.length < owners.length) {
      // First messages of some owners: only then the insert (ON CONFLICT costs every row it checks).
      const known = new Set(ownerRows.map((r) => r.owner));
      const added = owners.filter((o) => !known.has(o));
      await sql.$executeRawUnsafe('INSERT INTO archive_owners (owner) SELECT unnest($1::text[]) ON CONFLICT DO NOTHING', added);
      ownerRows.push(...await lockOwners(added));
    }
    const retention = await sql.$queryRawUnsafe<{ before: Date }[]>('SELECT before FROM archive_retention WHERE id = 1');
    const prefRows = await sql.$queryRawUnsafe<{ owner: string; effective_at: Date; mode: ArchiveMode; always: string[]; never: string[] }[]>(
      'SELECT owner, effective_at, mode, always, never FROM archive_preferences WHERE owner = ANY($1::text[]) ORDER BY owner, effective_at, event_id', owners,
    );
    const uniqueChats = [...new Map(copies.map((c) => [c.chat, c])).values()];
    const trackerRows = await sql.$queryRawUnsafe<{ owner: string; peer: string; conversation_id: string; last_at: Date }[]>(
      `SELECT t.owner, t.peer, t.conversation_id, t.last_at FROM conversation_trackers t
       JOIN unnest($1::text[], $2::text[]) AS k(owner, peer) ON t.owner = k.owner AND t.peer = k.peer`,
      uniqueChats.map((c) => c.owner), uniqueChats.map((c) => c.peer),
    );
    const preferences = new Map<string, ArchivePreferences[]>();
    for (const row of prefRows) {
      const list = preferences.get(row.owner) ?? [];
      list.push({ mode: row.mode, always: row.always, never: row.never, effectiveAt: row.effective_at.getTime() });
      preferences.set(row.owner, list);
    }
    return {
      owners: new Map(ownerRows.map((r) => [r.owner, {
        lastSeq: BigInt(r.last_seq), ...(r.deleted_before ? { deletedBefore: r.deleted_before.getTime() } : {}),
      }])),
      ...(retention[0] ? { retentionBefore: retention[0].before.getTime() } : {}),
      preferences,
      trackers: new Map(trackerRows.map((r) => [trackerKey(r.owner, r.peer), { conversationId: r.conversation_id, lastAt: r.last_at.getTime() }])),
    };
  }

  private async saveTrackers(sql: RawSql, trackers: Map<string, ConversationTracker>): Promise<void> {
    const entries = [...trackers].map(([key, t]) => ({ key: key.split('\n') as [string, string], t }));
    await sql.$executeRawUnsafe(
      `INSERT INTO conversation_trackers (owner, peer, conversation_id, last_at)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[])
       ON CONFLICT (owner, peer) DO UPDATE SET conversation_id = EXCLUDED.conversation_id, last_at = EXCLUDED.last_at`,
      entries.map((e) => e.key[0]), entries.map((e) => e.key[1]), entries.map((e) => e.t.conversationId),
      entries.map((e) => new Date(e.t.lastAt).toISOString()),
    );
  }

  /** Adds newly archived rows to their chats and conversations (order-independent aggregates). */
  private async addToAggregates(sql: RawSql, rows: readonly ArchiveRow[]): Promise<void> {
    if (rows.length === 0) return;
    const chats = aggregate(rows, (r) => r.chat);
    const conversations = aggregate(rows, (r) => `${r.owner}\n${r.conversationId}`);
    await sql.$executeRawUnsafe(
      `INSERT INTO archive_chats (owner, peer, last_seq, last_stanza_id, last_accepted_at, message_count)
       SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::timestamptz[], $6::bigint[])
       ON CONFLICT (owner, peer) DO UPDATE SET
         last_stanza_id = CASE WHEN EXCLUDED.last_seq > archive_chats.last_seq THEN EXCLUDED.last_stanza_id ELSE archive_chats.last_stanza_id END,
         last_accepted_at = CASE WHEN EXCLUDED.last_seq > archive_chats.last_seq THEN EXCLUDED.last_accepted_at ELSE archive_chats.last_accepted_at END,
         last_seq = GREATEST(archive_chats.last_seq, EXCLUDED.last_seq),
         message_count = archive_chats.message_count + EXCLUDED.message_count`,
      chats.map((c) => c.last.owner), chats.map((c) => c.last.peer), chats.map((c) => c.last.seq.toString()),
      chats.map((c) => c.last.stanzaId), chats.map((c) => c.last.acceptedAtIso), chats.map((c) => c.count),
    );
    await sql.$executeRawUnsafe(
      `INSERT INTO archive_conversations (owner, conversation_id, peer, first_seq, last_seq, started_at, last_at, last_stanza_id, message_count)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bigint[], $6::timestamptz[], $7::timestamptz[], $8::text[], $9::bigint[])
       ON CONFLICT (owner, conversation_id) DO UPDATE SET
         last_stanza_id = CASE WHEN EXCLUDED.last_seq > archive_conversations.last_seq THEN EXCLUDED.last_stanza_id ELSE archive_conversations.last_stanza_id END,
         first_seq = LEAST(archive_conversations.first_seq, EXCLUDED.first_seq),
         last_seq = GREATEST(archive_conversations.last_seq, EXCLUDED.last_seq),
         started_at = LEAST(archive_conversations.started_at, EXCLUDED.started_at),
         last_at = GREATEST(archive_conversations.last_at, EXCLUDED.last_at),
         message_count = archive_conversations.message_count + EXCLUDED.message_count`,
      conversations.map((c) => c.last.owner), conversations.map((c) => c.last.conversationId), conversations.map((c) => c.last.peer),
      conversations.map((c) => c.first.seq.toString()), conversations.map((c) => c.last.seq.toString()),
      conversations.map((c) => c.earliest.acceptedAtIso), conversations.map((c) => c.latest.acceptedAtIso), conversations.map((c) => c.last.stanzaId),
      conversations.map((c) => c.count),
    );
  }

  /** After a deletion: chats, conversations and counts of these owners, from what is left. */
  private async recomputeAggregates(sql: RawSql, owners: string[]): Promise<void> {
    if (owners.length === 0) return;
    await sql.$executeRawUnsafe('DELETE FROM archive_chats WHERE owner = ANY($1::text[])', owners);
    await sql.$executeRawUnsafe(
      `INSERT INTO archive_chats (owner, peer, last_seq, last_stanza_id, last_accepted_at, message_count)
       SELECT DISTINCT ON (owner, peer) owner, peer, seq, stanza_id, accepted_at, count(*) OVER (PARTITION BY owner, peer)
       FROM archive_messages WHERE owner = ANY($1::text[]) ORDER BY owner, peer, seq DESC`, owners,
    );
    await sql.$executeRawUnsafe('DELETE FROM archive_conversations WHERE owner = ANY($1::text[])', owners);
    await sql.$executeRawUnsafe(
      `INSERT INTO archive_conversations (owner, conversation_id, peer, first_seq, last_seq, started_at, last_at, last_stanza_id, message_count)
       SELECT owner, conversation_id, min(peer), min(seq), max(seq), min(accepted_at), max(accepted_at),
              (array_agg(stanza_id ORDER BY seq DESC))[1], count(*)
       FROM archive_messages WHERE owner = ANY($1::text[]) GROUP BY owner, conversation_id`, owners,
    );
    await sql.$executeRawUnsafe(
      `UPDATE archive_owners o SET message_count = (SELECT count(*) FROM archive_messages m WHERE m.owner = o.owner)
       WHERE o.owner = ANY($1::text[])`, owners,
    );
  }
}

const UNIQUE_VIOLATION = '23505';
const MESSAGE_COLUMNS = ['owner', 'seq', 'stanza_id', 'peer', 'peer_jid', 'outgoing', 'accepted_at', 'conversation_id', 'stanza'] as const;

/** A row's values in MESSAGE_COLUMNS order. */
const messageValues = (r: ArchiveRow): CopyRow => [
  r.owner, r.seq.toString(), r.stanzaId, r.peer, r.peerJid, r.outgoing, r.acceptedAtIso, r.conversationId, r.stanza,
];

function countBy<T>(items: readonly T[], key: (item: T) => string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const item of items) {
    const k = key(item);
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  return counts;
}

/**
 * The rows sorted by owner, then position. A plan gives each owner's rows rising positions in
 * the order it lists them, so grouping by owner is enough (cheaper than comparing every pair).
 */
function byOwnerAndPosition(rows: readonly ArchiveRow[]): ArchiveRow[] {
  const byOwner = new Map<string, ArchiveRow[]>();
  for (const row of rows) {
    const list = byOwner.get(row.owner);
    if (list) list.push(row);
    else byOwner.set(row.owner, [row]);
  }
  return [...byOwner.keys()].sort().flatMap((owner) => byOwner.get(owner)!);
}

/** A group's first and last rows by position, earliest and latest by acceptedAt, and size. */
interface Aggregate { first: ArchiveRow; last: ArchiveRow; earliest: ArchiveRow; latest: ArchiveRow; count: number }

function aggregate(rows: readonly ArchiveRow[], key: (row: ArchiveRow) => string): Aggregate[] {
  const groups = new Map<string, Aggregate>();
  for (const row of rows) {
    const k = key(row);
    const group = groups.get(k);
    if (!group) {
      groups.set(k, { first: row, last: row, earliest: row, latest: row, count: 1 });
      continue;
    }
    if (row.seq < group.first.seq) group.first = row;
    if (row.seq > group.last.seq) group.last = row;
    if (row.acceptedAt < group.earliest.acceptedAt) group.earliest = row;
    if (row.acceptedAt > group.latest.acceptedAt) group.latest = row;
    group.count += 1;
  }
  return [...groups.values()];
}
