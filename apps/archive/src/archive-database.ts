import { Injectable, type OnModuleDestroy } from '@nestjs/common';
import { PrismaPg } from '@prisma/adapter-pg';
import { Pool, types } from 'pg';
import type { RawSql } from './archive-writer';
import { PrismaClient } from './generated/prisma/client';

/** PostgreSQL int8 (bigint, count(*)) is read as a JS bigint, as Prisma's raw queries read it. */
const INT8_OID = 20;
const getTypeParser = ((oid: number, format?: 'text' | 'binary') =>
  oid === INT8_OID && format !== 'binary' ? (value: string) => BigInt(value) : types.getTypeParser(oid, format as 'text')) as typeof types.getTypeParser;

/**
 * The archive's own PostgreSQL database (no other service reads it). Prisma owns the schema and
 * its migrations; the archive's SQL — the projection's batch transactions and the XEP-0313
 * queries, all raw SQL — runs over a node-postgres pool of the same database (`sql`,
 * `transactionPool`), because Prisma's per-query overhead (its wasm query compiler and argument
 * conversion) was the largest share of the archive's CPU time in the ingest profile
 * (tools/bench-archive).
 */
@Injectable()
export class ArchiveDatabase extends PrismaClient implements OnModuleDestroy {
  readonly pool: Pool;
  /** Raw SQL over the pool, with the shape of Prisma's raw methods. */
  readonly sql: RawSql;

  constructor(databaseUrl: string, poolSize: number) {
    super({ adapter: new PrismaPg({ connectionString: databaseUrl, max: 2 }) });
    this.pool = new Pool({ connectionString: databaseUrl, max: poolSize, types: { getTypeParser } });
    this.sql = rawSql(this.pool);
  }

  async isReachable(): Promise<boolean> {
    await this.pool.query('SELECT 1');
    return true;
  }

  async onModuleDestroy(): Promise<void> {
    await Promise.all([this.$disconnect(), this.pool.end()]);
  }
}

/** What rawSql needs of a node-postgres pool or client. */
export interface PgQueryable {
  query(text: string, values?: unknown[]): Promise<{ rows: unknown[]; rowCount?: number | null }>;
}

/** A node-postgres pool, or a checked-out client (inside BEGIN: the projection's transaction), as raw SQL. */
export function rawSql(client: PgQueryable): RawSql {
  return {
    $queryRawUnsafe: async <T>(query: string, ...values: unknown[]) => (await client.query(query, values)).rows as T,
    $executeRawUnsafe: async (query: string, ...values: unknown[]) => (await client.query(query, values)).rowCount ?? 0,
  };
}
