import type { Envelope } from '@hearth/contracts';
import type { ScramCredentials } from '../auth/scram';
import type { GatewayDatabase } from '../database/gateway-database';
import type { Prisma } from '../generated/prisma/client';
import type { AccountRecord, AccountStore, OutboxEntry } from './account-store';

type AccountRow = Prisma.AccountGetPayload<object>;

/** Prisma's Bytes are Uint8Array over a plain ArrayBuffer. */
const bytes = (value: Buffer): Uint8Array<ArrayBuffer> => new Uint8Array(value);

function columns(scram: ScramCredentials) {
  const { sha1, sha256 } = scram;
  return {
    sha1Salt: bytes(sha1.salt), sha1Iterations: sha1.iterations, sha1StoredKey: bytes(sha1.storedKey), sha1ServerKey: bytes(sha1.serverKey),
    sha256Salt: bytes(sha256.salt), sha256Iterations: sha256.iterations, sha256StoredKey: bytes(sha256.storedKey), sha256ServerKey: bytes(sha256.serverKey),
  };
}

function record(row: AccountRow): AccountRecord {
  const buffer = (bytes: Uint8Array) => Buffer.from(bytes);
  return {
    jid: row.jid,
    scram: {
      sha1: { salt: buffer(row.sha1Salt), iterations: row.sha1Iterations, storedKey: buffer(row.sha1StoredKey), serverKey: buffer(row.sha1ServerKey) },
      sha256: { salt: buffer(row.sha256Salt), iterations: row.sha256Iterations, storedKey: buffer(row.sha256StoredKey), serverKey: buffer(row.sha256ServerKey) },
    },
  };
}

const asJson = (envelope: Envelope) => envelope as unknown as Prisma.InputJsonValue;

/** Accounts in PostgreSQL; each change and its event are written in one transaction. */
export class PrismaAccountStore implements AccountStore {
  constructor(private readonly db: GatewayDatabase) {}

  async find(jid: string): Promise<AccountRecord | null> {
    const row = await this.db.account.findUnique({ where: { jid } });
    return row ? record(row) : null;
  }

  async create(account: AccountRecord, event: Envelope): Promise<boolean> {
    return this.db.$transaction(async (tx) => {
      const { count } = await tx.account.createMany({ data: [{ jid: account.jid, ...columns(account.scram) }], skipDuplicates: true });
      if (count === 0) return false;
      await tx.outboxEvent.create({ data: { envelope: asJson(event) } });
      return true;
    });
  }

  async updateCredentials(jid: string, scram: ScramCredentials, event: Envelope): Promise<boolean> {
    return this.db.$transaction(async (tx) => {
      const { count } = await tx.account.updateMany({ where: { jid }, data: columns(scram) });
      if (count === 0) return false;
      await tx.outboxEvent.create({ data: { envelope: asJson(event) } });
      return true;
    });
  }

  async delete(jid: string, event: Envelope): Promise<boolean> {
    return this.db.$transaction(async (tx) => {
      const { count } = await tx.account.deleteMany({ where: { jid } });
      if (count === 0) return false;
      await tx.outboxEvent.create({ data: { envelope: asJson(event) } });
      return true;
    });
  }

  async outbox(limit: number): Promise<OutboxEntry[]> {
    const rows = await this.db.outboxEvent.findMany({ orderBy: { seq: 'asc' }, take: limit });
    return rows.map((row) => ({ seq: row.seq, envelope: row.envelope as unknown as Envelope }));
  }

  async removeFromOutbox(seqs: bigint[]): Promise<void> {
    await this.db.outboxEvent.deleteMany({ where: { seq: { in: seqs } } });
  }
}
