import { Inject, Injectable } from '@nestjs/common';
import { topics } from '@hearth/contracts';
import { ArchiveDatabase } from './archive-database';
import { ArchiveProjection } from './archive.projection';
import { ARCHIVE_CONFIG, type ArchiveConfig } from './config';
import { ArchiveError } from './domain/archive-error';
import { authorizeOwner, parseFilter, parseTime, type ArchiveFilter, type ArchiveQueryInput } from './domain/query-filter';
import { cutPage, firstIndexOf, planPage, type RsmRequest } from './domain/rsm';

/** Archive positions per `last_seq_block` of chats and conversations (the hot_aggregates migration). */
const SEQ_BLOCK = 1024;

export interface ArchivedMessage {
  archiveId: string;
  stanza: string;
  acceptedAt: string;
}

export interface ArchivePage {
  messages: ArchivedMessage[];
  first?: string;
  last?: string;
  count: number;
  firstIndex?: number;
  complete: boolean;
}

export interface ChatSummary { peer: string; lastMessage: ArchivedMessage; messageCount: number }
export interface ConversationSummary {
  conversationId: string; peer: string; startedAt: string; lastAt: string; messageCount: number; firstId: string; lastId: string;
}

interface MessageRow { seq: bigint; stanza_id: string; stanza: string; accepted_at: Date }

/** Reads of the archive projection: XEP-0313 queries, chats and conversations. */
@Injectable()
export class ArchiveReader {
  constructor(
    private readonly database: ArchiveDatabase,
    private readonly projection: ArchiveProjection,
    @Inject(ARCHIVE_CONFIG) private readonly config: ArchiveConfig,
  ) {}

  /**
   * XEP-0313 §4 query with XEP-0059 paging over the owner's archive order (positions, never
   * timestamps). Every id the request names (after-id, before-id, RSM after/before) must be in
   * the owner's archive: an unknown one is item-not-found, never a silently empty page.
   */
  async query(input: ArchiveQueryInput, rsm: RsmRequest | undefined, flipPage = false): Promise<ArchivePage> {
    const filter = parseFilter(input);
    const plan = planPage(rsm, this.config.HEARTH_ARCHIVE_MAX_PAGE);
    await this.projection.caughtUpFor(filter.owner, [topics.messages]);
    // XEP-0313 §4.1.3: an unknown id in `ids` is item-not-found too.
    const seqs = await this.positionsOf(filter.owner, [filter.afterId, filter.beforeId, plan.cursor, ...(filter.ids ?? [])]);
    const conversation = filter.conversationId ? await this.conversation(filter.owner, filter.conversationId) : undefined;

    const where = ['owner = $1'];
    const params: unknown[] = [filter.owner];
    const add = (clause: (p: string) => string, value: unknown) => {
      params.push(value);
      where.push(clause(`$${params.length}`));
    };
    if (filter.withBare) add((p) => `peer = ${p}`, filter.withBare);
    if (filter.withFull) add((p) => `peer_jid = ${p}`, filter.withFull);
    if (filter.start) add((p) => `accepted_at >= ${p}::timestamptz`, filter.start.toISOString());
    if (filter.end) add((p) => `accepted_at <= ${p}::timestamptz`, filter.end.toISOString());
    if (filter.afterId) add((p) => `seq > ${p}::bigint`, seqs.get(filter.afterId)!.toString());
    if (filter.beforeId) add((p) => `seq < ${p}::bigint`, seqs.get(filter.beforeId)!.toString());
    if (filter.ids) add((p) => `stanza_id = ANY(${p}::text[])`, filter.ids);
    if (conversation) {
      // The position range narrows the scan to the conversation's stretch of the (owner, peer, seq) index.
      add((p) => `peer = ${p}`, conversation.peer);
      add((p) => `seq >= ${p}::bigint`, conversation.first_seq.toString());
      add((p) => `seq <= ${p}::bigint`, conversation.last_seq.toString());
      add((p) => `conversation_id = ${p}`, filter.conversationId);
    }
    const filterWhere = where.join(' AND ');
    const filterParams = [...params];

    if (plan.cursor !== undefined) {
      add((p) => `seq ${plan.direction === 'forward' ? '>' : '<'} ${p}::bigint`, seqs.get(plan.cursor!)!.toString());
    }
    params.push(plan.limit + 1, plan.offset);
    const fetched = await this.database.sql.$queryRawUnsafe<MessageRow[]>(
      `SELECT seq, stanza_id, stanza, accepted_at FROM archive_messages WHERE ${where.join(' AND ')}
       ORDER BY seq ${plan.direction === 'forward' ? 'ASC' : 'DESC'} LIMIT $${params.length - 1} OFFSET $${params.length}`,
      ...params,
    );
    const { items, complete } = cutPage(fetched, plan);
    const count = await this.count(filter, conversation?.message_count, filterWhere, filterParams);
    const firstIndex = firstIndexOf(plan, count, items.length);
    const messages = items.map(toMessage);
    if (flipPage) messages.reverse(); // XEP-0313 §5 flip-page: the page's items in reverse order
    return {
      messages, count, complete,
      ...(messages.length > 0 ? { first: messages[0]!.archiveId, last: messages[messages.length - 1]!.archiveId } : {}),
      ...(firstIndex === undefined ? {} : { firstIndex }),
    };
  }

  /** The owner's chats, the most recently active first, each with its last message. */
  async chats(requester: string, owner: string, max: number | undefined, before: string | undefined): Promise<{ chats: ChatSummary[]; complete: boolean }> {
    authorizeOwner(requester, owner);
    const limit = this.limit(max);
    await this.projection.caughtUpFor(owner, [topics.messages]);
    const beforeSeq = before ? (await this.positionsOf(owner, [before])).get(before) : undefined;
    const rows = await this.database.sql.$queryRawUnsafe<{ peer: string; last_stanza_id: string; stanza: string; last_accepted_at: Date; message_count: bigint }[]>(
      // Chats are indexed by block of positions (see the hot_aggregates migration): the index
      // orders the blocks, an incremental sort the chats within one.
      `SELECT c.peer, c.last_stanza_id, m.stanza, c.last_accepted_at, c.message_count
       FROM (SELECT * FROM archive_chats
             WHERE owner = $1 AND ($2::bigint IS NULL OR (last_seq_block <= $2::bigint / ${SEQ_BLOCK} AND last_seq < $2::bigint))
             ORDER BY last_seq_block DESC, last_seq DESC LIMIT $3) c
       JOIN archive_messages m ON m.owner = c.owner AND m.seq = c.last_seq
       ORDER BY c.last_seq DESC`,
      owner, beforeSeq?.toString() ?? null, limit + 1,
    );
    return {
      chats: rows.slice(0, limit).map((r) => ({
        peer: r.peer, messageCount: Number(r.message_count),
        lastMessage: { archiveId: r.last_stanza_id, stanza: r.stanza, acceptedAt: r.last_accepted_at.toISOString() },
      })),
      complete: rows.length <= limit,
    };
  }

  /**
   * Conversations, oldest first: all, or those with `peer`, those active since a time, or those
   * with messages after an archive id; paged by conversation id (`after`).
   */
  async conversations(request: {
    requester: string; owner: string; with?: string; since?: string; sinceId?: string; after?: string; max?: number;
  }): Promise<{ conversations: ConversationSummary[]; complete: boolean }> {
    authorizeOwner(request.requester, request.owner);
    const limit = this.limit(request.max);
    const since = request.since ? parseTime('since', request.since) : undefined;
    await this.projection.caughtUpFor(request.owner, [topics.messages]);
    const sinceSeq = request.sinceId ? (await this.positionsOf(request.owner, [request.sinceId])).get(request.sinceId) : undefined;
    const afterSeq = request.after ? (await this.conversation(request.owner, request.after)).first_seq : undefined;
    const rows = await this.database.sql.$queryRawUnsafe<{
      conversation_id: string; peer: string; started_at: Date; last_at: Date; message_count: bigint; first_id: string; last_stanza_id: string;
    }[]>(
      `SELECT c.conversation_id, c.peer, c.started_at, c.last_at, c.message_count, c.last_stanza_id,
              (SELECT stanza_id FROM archive_messages m WHERE m.owner = c.owner AND m.seq = c.first_seq) AS first_id
       FROM archive_conversations c
       WHERE c.owner = $1 AND ($2::text IS NULL OR c.peer = $2) AND ($3::timestamptz IS NULL OR c.last_at >= $3::timestamptz)
         AND ($4::bigint IS NULL OR (c.last_seq_block >= $4::bigint / ${SEQ_BLOCK} AND c.last_seq > $4::bigint))
         AND ($5::bigint IS NULL OR c.first_seq > $5::bigint)
       ORDER BY c.first_seq LIMIT $6`,
      request.owner, request.with?.toLowerCase() || null, since?.toISOString() ?? null, sinceSeq?.toString() ?? null,
      afterSeq?.toString() ?? null, limit + 1,
    );
    return {
      conversations: rows.slice(0, limit).map((r) => ({
        conversationId: r.conversation_id, peer: r.peer, startedAt: r.started_at.toISOString(), lastAt: r.last_at.toISOString(),
        messageCount: Number(r.message_count), firstId: r.first_id, lastId: r.last_stanza_id,
      })),
      complete: rows.length <= limit,
    };
  }

  private limit(max: number | undefined): number {
    if (max !== undefined && (!Number.isInteger(max) || max < 0)) throw new ArchiveError('bad-request', 'max must be a non-negative integer');
    return Math.min(max || this.config.HEARTH_ARCHIVE_MAX_PAGE, this.config.HEARTH_ARCHIVE_MAX_PAGE);
  }

  /** Positions of archive ids in the owner's archive; any unknown id is item-not-found. */
  private async positionsOf(owner: string, ids: (string | undefined)[]): Promise<Map<string, bigint>> {
    const wanted = [...new Set(ids.filter((id): id is string => id !== undefined && id !== ''))];
    if (wanted.length === 0) return new Map();
    const rows = await this.database.sql.$queryRawUnsafe<{ stanza_id: string; seq: bigint }[]>(
      'SELECT stanza_id, seq FROM archive_messages WHERE owner = $1 AND stanza_id = ANY($2::text[])', owner, wanted,
    );
    const found = new Map(rows.map((r) => [r.stanza_id, BigInt(r.seq)]));
    const missing = wanted.find((id) => !found.has(id));
    if (missing !== undefined) throw new ArchiveError('item-not-found', `no message ${missing} in the archive of ${owner}`);
    return found;
  }

  private async conversation(owner: string, conversationId: string) {
    const rows = await this.database.sql.$queryRawUnsafe<{ peer: string; first_seq: bigint; last_seq: bigint; message_count: bigint }[]>(
      'SELECT peer, first_seq, last_seq, message_count FROM archive_conversations WHERE owner = $1 AND conversation_id = $2', owner, conversationId,
    );
    if (!rows[0]) throw new ArchiveError('item-not-found', `no conversation ${conversationId} in the archive of ${owner}`);
    return rows[0];
  }

  /**
   * RSM count. Kept counters answer the common cases (the whole archive, one chat, one
   * conversation) without scanning; any other filter is counted.
   */
  private async count(filter: ArchiveFilter, conversationCount: bigint | undefined, where: string, params: unknown[]): Promise<number> {
    const narrowed = filter.withFull ?? filter.start ?? filter.end ?? filter.afterId ?? filter.beforeId ?? filter.ids;
    if (narrowed === undefined) {
      if (conversationCount !== undefined && !filter.withBare) return Number(conversationCount);
      if (filter.conversationId === undefined && filter.withBare) {
        const rows = await this.database.sql.$queryRawUnsafe<{ n: bigint }[]>(
          'SELECT message_count AS n FROM archive_chats WHERE owner = $1 AND peer = $2', filter.owner, filter.withBare);
        return Number(rows[0]?.n ?? 0);
      }
      if (filter.conversationId === undefined) {
        const rows = await this.database.sql.$queryRawUnsafe<{ n: bigint }[]>('SELECT message_count AS n FROM archive_owners WHERE owner = $1', filter.owner);
        return Number(rows[0]?.n ?? 0);
      }
    }
    const rows = await this.database.sql.$queryRawUnsafe<{ n: bigint }[]>(`SELECT count(*) AS n FROM archive_messages WHERE ${where}`, ...params);
    return Number(rows[0]!.n);
  }
}

const toMessage = (row: MessageRow): ArchivedMessage => ({ archiveId: row.stanza_id, stanza: row.stanza, acceptedAt: row.accepted_at.toISOString() });
