import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from '../generated/prisma/client';

/** Connections in the pool; logins read one row each, so a small pool serves thousands of logins per second. */
const POOL_SIZE = 10;

/** The gateway's own PostgreSQL database: accounts, rosters, the account-event outbox. */
export class GatewayDatabase extends PrismaClient {
  constructor(databaseUrl: string) {
    super({ adapter: new PrismaPg({ connectionString: databaseUrl, max: POOL_SIZE }) });
  }
}
