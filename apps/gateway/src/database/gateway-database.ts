import { PrismaPg } from '@prisma/adapter-pg';
import { Pool } from 'pg';
import { PrismaClient } from '../generated/prisma/client';

/** Connections in the pool; logins read one row each, so a small pool serves thousands of logins per second. */
const POOL_SIZE = 10;

/** The gateway's own PostgreSQL database: accounts, rosters, the account-event outbox. */
export class GatewayDatabase extends PrismaClient {
  /** The pool under Prisma, for hot statements that skip Prisma's per-query work (message dedupe). */
  readonly pool: Pool;

  constructor(databaseUrl: string) {
    const pool = new Pool({ connectionString: databaseUrl, max: POOL_SIZE });
    super({ adapter: new PrismaPg(pool) });
    this.pool = pool;
  }

  /** Prisma leaves a pool it was given open. */
  async close(): Promise<void> {
    await this.$disconnect();
    if (!this.pool.ended) await this.pool.end();
  }
}
