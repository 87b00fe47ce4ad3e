/**
 * Idempotent sending (issue #5): a sender's own message id (XEP-0359 origin-id, else the stanza
 * `id`) is recorded with the stanza id the server gives the message, BEFORE the message is
 * appended, and confirmed after. Whatever gateway a resend reaches:
 * - key confirmed → a duplicate: answered as the original was, neither stored nor delivered again;
 * - key recorded but not confirmed (the first attempt crashed or the log refused it) → appended
 *   again with the SAME stanza id and acceptance time: the archive and read-state keep one row
 *   per stanza id, and the event id (= stanza id) lets every consumer drop a second copy.
 * So an acknowledged message is never lost, and a resend never becomes a second message.
 */
export interface DedupeKey {
  /** Sender's bare JID. */
  sender: string;
  /** origin-id or stanza id attribute. */
  clientId: string;
}

export interface DedupeClaim extends DedupeKey {
  stanzaId: string;
  acceptedAt: Date;
}

export type ClaimOutcome =
  | { kind: 'new' }
  | { kind: 'duplicate'; stanzaId: string; acceptedAt: Date }
  | { kind: 'unconfirmed'; stanzaId: string; acceptedAt: Date };

export interface MessageDedupeStore {
  /**
   * Records each claim unless its key exists; says for each what was there. One statement per
   * call (a second one reads the keys that were there), which also confirms `confirms` (so a busy
   * gateway pays one statement and one commit per batch, not two); a claim of a key confirmed in
   * the same call may still read as unconfirmed.
   */
  claim(claims: readonly DedupeClaim[], confirms?: readonly DedupeKey[]): Promise<ClaimOutcome[]>;
  /** Marks keys whose MessageAccepted is in the log. */
  confirm(keys: readonly DedupeKey[]): Promise<void>;
  /** Deletes up to `limit` keys accepted before `before`; returns how many went. */
  prune(before: Date, limit: number): Promise<number>;
}

const keyOf = (k: DedupeKey) => `${k.sender}\n${k.clientId}`;

/** Development gateways without DATABASE_URL: one process, lost on exit (like the account store). */
export class InMemoryDedupeStore implements MessageDedupeStore {
  private readonly entries = new Map<string, { stanzaId: string; acceptedAt: Date; confirmed: boolean }>();

  async claim(claims: readonly DedupeClaim[], confirms: readonly DedupeKey[] = []): Promise<ClaimOutcome[]> {
    await this.confirm(confirms);
    return claims.map((claim) => {
      const existing = this.entries.get(keyOf(claim));
      if (!existing) {
        this.entries.set(keyOf(claim), { stanzaId: claim.stanzaId, acceptedAt: claim.acceptedAt, confirmed: false });
        return { kind: 'new' };
      }
      return { kind: existing.confirmed ? 'duplicate' : 'unconfirmed', stanzaId: existing.stanzaId, acceptedAt: existing.acceptedAt };
    });
  }

  async confirm(keys: readonly DedupeKey[]): Promise<void> {
    for (const key of keys) {
      const entry = this.entries.get(keyOf(key));
      if (entry) entry.confirmed = true;
    }
  }

  async prune(before: Date, limit: number): Promise<number> {
    let deleted = 0;
    for (const [key, entry] of this.entries) {
      if (deleted >= limit) break;
      if (entry.acceptedAt < before && this.entries.delete(key)) deleted++;
    }
    return deleted;
  }
}

/**
 * Parameterised SQL on the gateway database: a `pg` Pool (GatewayDatabase.dedupePool), not the
 * Prisma client. These statements run for every batch of messages; through Prisma each one also
 * paid its query compiler (wasm) and client machinery, about 10 % of the gateway's CPU at 2,500
 * messages/s. They are named, so each connection parses and plans them once; the plans are
 * primary-key lookups (the pool turns sequential scans off). With this claim statement and a
 * second one only for keys already there, PostgreSQL spends about half as long per batch as with
 * one statement that also joined every key back to the table.
 */
export interface SqlPool {
  query<R extends object>(query: { name: string; text: string; values: unknown[] }): Promise<{ rows: R[] }>;
}

interface KeyRow { sender: string; client_id: string; stanza_id: string; accepted_at: Date; confirmed: boolean }

/** Marks the keys given as arrays of senders and client ids (the parameters named) confirmed. */
function confirmKeys(senders: string, clientIds: string): string {
  return `UPDATE message_dedupe m SET confirmed = true
          FROM unnest(${senders}::text[], ${clientIds}::text[]) AS k(sender, client_id)
          WHERE m.sender = k.sender AND m.client_id = k.client_id AND NOT m.confirmed`;
}

/**
 * Records the claims whose key is new and confirms `confirms` in one statement (the UPDATE runs
 * although nothing reads it: PostgreSQL runs every data-modifying WITH). A key given twice in
 * one statement goes in once, with one of the two stanza ids.
 */
const CLAIM = {
  name: 'hearth-dedupe-claim',
  text: `WITH confirmed AS (${confirmKeys('$5', '$6')})
         INSERT INTO message_dedupe (sender, client_id, stanza_id, accepted_at)
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[])
         ON CONFLICT DO NOTHING RETURNING sender, client_id, stanza_id`,
};
const READ = {
  name: 'hearth-dedupe-read',
  text: `SELECT m.sender, m.client_id, m.stanza_id, m.accepted_at, m.confirmed
         FROM message_dedupe m JOIN unnest($1::text[], $2::text[]) AS k(sender, client_id) USING (sender, client_id)`,
};
const CONFIRM = { name: 'hearth-dedupe-confirm', text: confirmKeys('$1', '$2') };
/** Bounded batches on the accepted_at index: no long lock, no huge transaction. */
const PRUNE = {
  name: 'hearth-dedupe-prune',
  text: `WITH gone AS (
           DELETE FROM message_dedupe WHERE ctid IN (
             SELECT ctid FROM message_dedupe WHERE accepted_at < $1 ORDER BY accepted_at LIMIT $2)
           RETURNING 1)
         SELECT count(*)::int AS deleted FROM gone`,
};

/**
 * PostgreSQL table `message_dedupe` (primary key sender + client id). A batch of claims is one
 * statement; only when some keys were there already (a resend) a second one reads them.
 */
export class PostgresDedupeStore implements MessageDedupeStore {
  constructor(private readonly sql: SqlPool) {}

  async claim(claims: readonly DedupeClaim[], confirms: readonly DedupeKey[] = []): Promise<ClaimOutcome[]> {
    if (claims.length === 0) {
      await this.confirm(confirms);
      return [];
    }
    const { rows: inserted } = await this.sql.query<Pick<KeyRow, 'sender' | 'client_id' | 'stanza_id'>>({
      ...CLAIM,
      values: [claims.map((c) => c.sender), claims.map((c) => c.clientId), claims.map((c) => c.stanzaId), claims.map((c) => c.acceptedAt.toISOString()),
        confirms.map((k) => k.sender), confirms.map((k) => k.clientId)],
    });
    // The stanza id that went in for each new key: a claim is new if it was its own.
    const claimedBy = new Map(inserted.map((row) => [keyOf({ sender: row.sender, clientId: row.client_id }), row.stanza_id]));
    const isNew = claims.map((c) => claimedBy.get(keyOf(c)) === c.stanzaId);
    const existing = await this.read(claims.filter((_, index) => !isNew[index]));
    return claims.map((claim, index) => {
      if (isNew[index]) return { kind: 'new' };
      const row = existing.get(keyOf(claim));
      if (!row) throw new Error(`dedupe key of ${claim.sender} vanished while claimed`);
      return { kind: row.confirmed ? 'duplicate' : 'unconfirmed', stanzaId: row.stanza_id, acceptedAt: row.accepted_at };
    });
  }

  /** The keys as committed now (the claim statement has committed, so a concurrent claim's row is seen). */
  private async read(keys: readonly DedupeKey[]): Promise<Map<string, KeyRow>> {
    if (keys.length === 0) return new Map();
    const { rows } = await this.sql.query<KeyRow>({ ...READ, values: [keys.map((k) => k.sender), keys.map((k) => k.clientId)] });
    return new Map(rows.map((row) => [keyOf({ sender: row.sender, clientId: row.client_id }), row]));
  }

  async prune(before: Date, limit: number): Promise<number> {
    const { rows } = await this.sql.query<{ deleted: number }>({ ...PRUNE, values: [before.toISOString(), limit] });
    return rows[0]?.deleted ?? 0;
  }

  async confirm(keys: readonly DedupeKey[]): Promise<void> {
    if (keys.length === 0) return;
    await this.sql.query({ ...CONFIRM, values: [keys.map((k) => k.sender), keys.map((k) => k.clientId)] });
  }
}
