import type { Envelope } from '@hearth/contracts';
import type { ScramCredentials } from '../auth/scram';

/** An account as the gateway stores it: the bare JID and SCRAM credentials, never the password. */
export interface AccountRecord {
  jid: string;
  scram: ScramCredentials;
}

/** An event waiting in the transactional outbox to be appended to the log. */
export interface OutboxEntry {
  seq: bigint;
  envelope: Envelope;
}

/**
 * The gateway's credential store (PostgreSQL in production, memory for development). Every change
 * is stored together with its event in one transaction (the outbox), so the log gets exactly the
 * changes that happened, even across a crash.
 */
export interface AccountStore {
  find(jid: string): Promise<AccountRecord | null>;
  /** false when the account already exists (nothing is recorded). */
  create(record: AccountRecord, event: Envelope): Promise<boolean>;
  /** false when the account does not exist. */
  updateCredentials(jid: string, scram: ScramCredentials, event: Envelope): Promise<boolean>;
  /** false when the account does not exist. */
  delete(jid: string, event: Envelope): Promise<boolean>;
  outbox(limit: number): Promise<OutboxEntry[]>;
  removeFromOutbox(seqs: bigint[]): Promise<void>;
}

export class InMemoryAccountStore implements AccountStore {
  private readonly accounts = new Map<string, AccountRecord>();
  private readonly pending: OutboxEntry[] = [];
  private seq = 0n;

  async find(jid: string): Promise<AccountRecord | null> {
    return this.accounts.get(jid) ?? null;
  }

  async create(record: AccountRecord, event: Envelope): Promise<boolean> {
    if (this.accounts.has(record.jid)) return false;
    this.accounts.set(record.jid, record);
    this.record(event);
    return true;
  }

  async updateCredentials(jid: string, scram: ScramCredentials, event: Envelope): Promise<boolean> {
    if (!this.accounts.has(jid)) return false;
    this.accounts.set(jid, { jid, scram });
    this.record(event);
    return true;
  }

  async delete(jid: string, event: Envelope): Promise<boolean> {
    if (!this.accounts.delete(jid)) return false;
    this.record(event);
    return true;
  }

  async outbox(limit: number): Promise<OutboxEntry[]> {
    return this.pending.slice(0, limit);
  }

  async removeFromOutbox(seqs: bigint[]): Promise<void> {
    const done = new Set(seqs);
    for (let i = this.pending.length - 1; i >= 0; i--) if (done.has(this.pending[i]!.seq)) this.pending.splice(i, 1);
  }

  private record(envelope: Envelope): void {
    this.pending.push({ seq: ++this.seq, envelope });
  }
}
