import { Injectable } from '@nestjs/common';
import { ReadStateDatabase } from './read-state-database';
import type { ChatState, KnownMessage, PointerState } from './domain/read-pointer';

export interface ChatCounts {
  peer: string;
  unread: number;
  pointer?: string;
}

export interface UserCounts {
  total: number;
  chats: ChatCounts[];
}

/** Read-state's queries over its own projection (outside any projection transaction). */
@Injectable()
export class ReadStateRepository {
  constructor(private readonly database: ReadStateDatabase) {}

  /**
   * Everything a move is decided on, in one round trip: the named message of the chat — by its
   * stanza id, or by the id its sender (`peer`) gave it, and if no message has that client id, by
   * it as a stanza id (XEP-0333 clients differ in which they send; a client id is only unique per
   * sender and a retried send may reuse it: the latest wins) — the pointer, the chat's unread and
   * the user's total, and the unread after the message if it is ahead of the pointer.
   */
  async moveState(chatKey: string, user: string, by: { stanzaId?: string; messageId?: string; sender: string }): Promise<{ target?: KnownMessage; state: ChatState }> {
    const rows = await this.database.$queryRawUnsafe<{
      stanza_id: string | null; position: bigint | null; pointer_position: bigint | null; pointer_stanza_id: string | null;
      unread: number | null; total: number | null; unread_after: number | null;
    }[]>(
      `WITH target AS (
         SELECT stanza_id, position FROM (
           (SELECT stanza_id, position, 0 AS preference FROM chat_messages
            WHERE $3::text IS NOT NULL AND chat_key = $1 AND client_message_id = $3 AND sender = $4 ORDER BY position DESC LIMIT 1)
           UNION ALL
           (SELECT stanza_id, position, 1 FROM chat_messages WHERE chat_key = $1 AND stanza_id = $2)) named
         ORDER BY preference LIMIT 1)
       SELECT t.stanza_id, t.position, s.pointer_position, s.pointer_stanza_id, s.unread, tot.total,
         CASE WHEN t.position > COALESCE(s.pointer_position, -1) THEN
           (SELECT count(*)::int FROM chat_messages c WHERE c.chat_key = $1 AND c.recipient = $5 AND c.countable AND c.position > t.position)
         END AS unread_after
       FROM (SELECT 1) one LEFT JOIN target t ON true
         LEFT JOIN chat_read_states s ON s.user_jid = $5 AND s.peer_jid = $4
         LEFT JOIN unread_totals tot ON tot.user_jid = $5`,
      chatKey, by.stanzaId ?? by.messageId ?? null, by.stanzaId ? null : (by.messageId ?? null), by.sender, user);
    const row = rows[0]!;
    const pointer: PointerState = row.pointer_stanza_id === null ? { position: -1 } : { position: Number(row.pointer_position), stanzaId: row.pointer_stanza_id };
    return {
      ...(row.stanza_id === null ? {} : { target: { stanzaId: row.stanza_id, position: Number(row.position) } }),
      state: { pointer, unread: row.unread ?? 0, total: row.total ?? 0, ...(row.unread_after === null ? {} : { unreadAfterTarget: row.unread_after }) },
    };
  }

  async pointerOf(user: string, peer: string): Promise<PointerState> {
    const rows = await this.database.$queryRawUnsafe<{ pointer_position: bigint; pointer_stanza_id: string | null }[]>(
      'SELECT pointer_position, pointer_stanza_id FROM chat_read_states WHERE user_jid = $1 AND peer_jid = $2', user, peer);
    const row = rows[0];
    if (!row || row.pointer_stanza_id === null) return { position: -1 };
    return { position: Number(row.pointer_position), stanzaId: row.pointer_stanza_id };
  }

  async userCounts(user: string, maxChats: number): Promise<UserCounts> {
    const [chats, totals] = await Promise.all([
      this.database.$queryRawUnsafe<{ peer_jid: string; unread: number; pointer_stanza_id: string | null }[]>(
        `SELECT peer_jid, unread, pointer_stanza_id FROM chat_read_states WHERE user_jid = $1
         ORDER BY unread DESC, peer_jid LIMIT $2`, user, maxChats),
      this.database.$queryRawUnsafe<{ total: number }[]>('SELECT total FROM unread_totals WHERE user_jid = $1', user),
    ]);
    return {
      total: totals[0]?.total ?? 0,
      chats: chats.map((c) => ({ peer: c.peer_jid, unread: c.unread, ...(c.pointer_stanza_id === null ? {} : { pointer: c.pointer_stanza_id }) })),
    };
  }

  /** The user's pointers as XEP-0490 items, optionally only for some chats. */
  async displayedItems(user: string, peers: readonly string[]): Promise<{ peer: string; stanzaId: string }[]> {
    const rows = peers.length === 0
      ? await this.database.$queryRawUnsafe<{ peer_jid: string; pointer_stanza_id: string }[]>(
        `SELECT peer_jid, pointer_stanza_id FROM chat_read_states WHERE user_jid = $1 AND pointer_stanza_id IS NOT NULL
         ORDER BY peer_jid`, user)
      : await this.database.$queryRawUnsafe<{ peer_jid: string; pointer_stanza_id: string }[]>(
        `SELECT peer_jid, pointer_stanza_id FROM chat_read_states WHERE user_jid = $1 AND pointer_stanza_id IS NOT NULL
         AND peer_jid = ANY($2::text[]) ORDER BY peer_jid`, user, [...peers]);
    return rows.map((r) => ({ peer: r.peer_jid, stanzaId: r.pointer_stanza_id }));
  }

  /** How far the projection has applied each partition of `topic` (next offset). */
  async appliedOffsets(consumer: string, topic: string): Promise<Map<number, bigint>> {
    const rows = await this.database.$queryRawUnsafe<{ partition: number; next_offset: bigint }[]>(
      'SELECT partition, next_offset FROM consumer_checkpoints WHERE consumer = $1 AND topic = $2', consumer, topic);
    return new Map(rows.map((r) => [r.partition, BigInt(r.next_offset)]));
  }
}
