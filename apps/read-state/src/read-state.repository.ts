import { Injectable } from '@nestjs/common';
import { ReadStateDatabase } from './read-state-database';
import type { KnownMessage, PointerState } from './domain/read-pointer';

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
   * A message of the chat, by its stanza id, or by the id its sender (`peer`) gave it — and if
   * no message has that client id, by it as a stanza id (XEP-0333 clients differ in which they send).
   */
  async findMessage(chatKey: string, by: { stanzaId?: string; messageId?: string; sender: string }): Promise<KnownMessage | undefined> {
    const byStanzaId = (id: string) => this.database.$queryRawUnsafe<{ stanza_id: string; position: bigint }[]>(
      'SELECT stanza_id, position FROM chat_messages WHERE chat_key = $1 AND stanza_id = $2', chatKey, id);
    let rows = by.stanzaId ? await byStanzaId(by.stanzaId) : [];
    if (!by.stanzaId && by.messageId) {
      // A client id is only unique per sender, and a retried send may reuse it: take the latest.
      rows = await this.database.$queryRawUnsafe<{ stanza_id: string; position: bigint }[]>(
        `SELECT stanza_id, position FROM chat_messages WHERE chat_key = $1 AND client_message_id = $2 AND sender = $3
         ORDER BY position DESC LIMIT 1`, chatKey, by.messageId, by.sender);
      if (rows.length === 0) rows = await byStanzaId(by.messageId);
    }
    const row = rows[0];
    return row && { stanzaId: row.stanza_id, position: Number(row.position) };
  }

  async pointerOf(user: string, peer: string): Promise<PointerState> {
    const rows = await this.database.$queryRawUnsafe<{ pointer_position: bigint; pointer_stanza_id: string | null }[]>(
      'SELECT pointer_position, pointer_stanza_id FROM chat_read_states WHERE user_jid = $1 AND peer_jid = $2', user, peer);
    const row = rows[0];
    if (!row || row.pointer_stanza_id === null) return { position: -1 };
    return { position: Number(row.pointer_position), stanzaId: row.pointer_stanza_id };
  }

  async chatCounts(user: string, peer: string): Promise<{ unread: number; total: number; pointer?: string }> {
    const rows = await this.database.$queryRawUnsafe<{ unread: number | null; pointer: string | null; total: number | null }[]>(
      `SELECT s.unread, s.pointer_stanza_id AS pointer, (SELECT total FROM unread_totals WHERE user_jid = $1) AS total
       FROM (SELECT 1) one LEFT JOIN chat_read_states s ON s.user_jid = $1 AND s.peer_jid = $2`, user, peer);
    const row = rows[0]!;
    return { unread: row.unread ?? 0, total: row.total ?? 0, ...(row.pointer === null ? {} : { pointer: row.pointer }) };
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
