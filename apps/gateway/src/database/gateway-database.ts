import { PrismaPg } from '@prisma/adapter-pg';
import { Pool } from 'pg';
import { PrismaClient } from '../generated/prisma/client';

/** Connections in the pool; logins read one row each, so a small pool serves thousands of logins per second. */
const POOL_SIZE = 10;

/** Message dedupe statements run one batch at a time, beside confirmations and pruning. */
const DEDUPE_POOL_SIZE = 4;

/** The gateway's own PostgreSQL database: accounts, rosters, the account-event outbox, message dedupe keys. */
export class GatewayDatabase extends PrismaClient {
  /**
   * Connections for the message dedupe statements, which skip Prisma's per-query work. Every one
   * of them finds keys by primary key (or old keys by accepted_at), so sequential scans are off:
   * plans made while the table was young (and not analyzed yet: autovacuum comes by once a
   * minute) scanned all of it for every batch, a tenth of a core at 1,000 messages/s.
   */
  readonly dedupePool: Pool;
  private readonly pool: Pool;

  constructor(databaseUrl: string) {
    const pool = new Pool({ connectionString: databaseUrl, max: POOL_SIZE });
    super({ adapter: new PrismaPg(pool) });
    this.pool = pool;
    this.dedupePool = new Pool({ connectionString: databaseUrl, max: DEDUPE_POOL_SIZE, options: '-c enable_seqscan=off' });
    // An idle connection the server closed (a restart) is dropped; the next statement opens another.
    this.dedupePool.on('error', () => undefined);
  }

  /** Prisma leaves a pool it was given open. */
  async close(): Promise<void> {
    await this.$disconnect();
    for (const pool of [this.pool, this.dedupePool]) if (!pool.ended) await pool.end();
  }
}
