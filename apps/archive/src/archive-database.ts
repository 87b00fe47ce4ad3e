import { Injectable, type OnModuleDestroy } from '@nestjs/common';
import { PrismaPg } from '@prisma/adapter-pg';
import { finished } from 'node:stream/promises';
import { Pool, types, type PoolClient } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { pgProjectionDatabase, type ProjectionDatabase, type SqlExecutor } from '@hearth/kafka';
import type { CopyRow, RawSql, TransactionSql } from './archive-writer';
import { PrismaClient } from './generated/prisma/client';

/** PostgreSQL int8 (bigint, count(*)) is read as a JS bigint, as Prisma's raw queries read it. */
const INT8_OID = 20;
const getTypeParser = ((oid: number, format?: 'text' | 'binary') =>
  oid === INT8_OID && format !== 'binary' ? (value: string) => BigInt(value) : types.getTypeParser(oid, format as 'text')) as typeof types.getTypeParser;

/**
 * The archive's own PostgreSQL database (no other service reads it). Prisma owns the schema and
 * its migrations; the archive's SQL — the projection's batch transactions and the XEP-0313
 * queries, all raw SQL — runs over a node-postgres pool of the same database (`sql`,
 * `projectionDatabase()`), because Prisma's per-query overhead (its wasm query compiler and argument
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
    // An idle connection the server dropped (restart, failover) is discarded by the pool; the next
    // query opens a new one and reports any real outage. Without a listener it would crash the process.
    this.pool.on('error', () => undefined);
    this.sql = rawSql(this.pool);
  }

  /**
   * The projection runner's view: batch transactions on a pooled client. node-postgres reports a
   * lost connection without a SQLSTATE; such errors are marked retriable, so the runner waits for
   * the database (as it did through Prisma's adapter) instead of dead-lettering the batch.
   */
  projectionDatabase(): ProjectionDatabase<ArchiveTransaction> {
    const base = pgProjectionDatabase({
      query: (sql, params) => this.pool.query(sql, params),
      connect: async () => {
        const client = await this.pool.connect();
        // A checked-out client whose connection breaks between two statements emits 'error' (which
        // would crash the process unheard); its next statement then fails, and the batch is retried.
        const ignore = () => undefined;
        client.on('error', ignore);
        return {
          query: (sql: string, params?: unknown[]) => client.query(sql, params),
          copyRows: <Row>(table: string, columns: readonly string[], rows: readonly Row[], valuesOf: (row: Row) => CopyRow) =>
            copyRows(client, table, columns, rows, valuesOf),
          release: (error?: Error) => {
            client.off('error', ignore);
            client.release(error);
          },
        };
      },
    });
    const read: SqlExecutor = { query: <Row>(sql: string, params: unknown[]) => base.read.query<Row>(sql, params).catch(markConnectionLoss) };
    return { transaction: (work) => base.transaction(work).catch(markConnectionLoss), sql: base.sql, read };
  }

  /** Every consumer (projection shard) that has written a checkpoint here. */
  async checkpointedConsumers(): Promise<string[]> {
    const rows = await this.sql.$queryRawUnsafe<{ consumer: string }[]>('SELECT DISTINCT consumer FROM consumer_checkpoints ORDER BY consumer');
    return rows.map((r) => r.consumer);
  }

  /**
   * Moves the checkpoints of the consumers `from` (shards under an earlier shard count) to the
   * consumers `to`, if that is safe: all of `from` stand at the same positions (so every owner
   * has been archived up to there, whichever shard it was in) and `to` have none yet. Returns
   * false, changing nothing, otherwise (true when another instance carried them over already).
   */
  async carryOverCheckpoints(from: readonly string[], to: readonly string[]): Promise<boolean> {
    return this.projectionDatabase().transaction(async (tx) => {
      const sql = rawSql(tx);
      // Another instance of the archive may be starting too: one carries over, the other sees it done.
      await sql.$executeRawUnsafe('LOCK TABLE consumer_checkpoints IN SHARE ROW EXCLUSIVE MODE');
      const rows = await sql.$queryRawUnsafe<{ consumer: string; position: string }[]>(
        `SELECT consumer, string_agg(topic || ':' || partition || '@' || next_offset, ',' ORDER BY topic, partition) AS position
         FROM consumer_checkpoints WHERE consumer = ANY($1) GROUP BY consumer`, [...from, ...to]);
      const old = rows.filter((r) => from.includes(r.consumer));
      if (old.length === 0) return true;
      if (old.length < rows.length || new Set(old.map((r) => r.position)).size > 1) return false;
      await sql.$executeRawUnsafe(
        `INSERT INTO consumer_checkpoints (consumer, topic, partition, next_offset)
         SELECT c.name, k.topic, k.partition, k.next_offset FROM consumer_checkpoints k CROSS JOIN unnest($2::text[]) AS c(name) WHERE k.consumer = $1`,
        from[0], to);
      await sql.$executeRawUnsafe('DELETE FROM consumer_checkpoints WHERE consumer = ANY($1)', from);
      return true;
    });
  }

  async isReachable(): Promise<boolean> {
    await this.pool.query('SELECT 1');
    return true;
  }

  async onModuleDestroy(): Promise<void> {
    await Promise.all([this.$disconnect(), this.pool.end()]);
  }
}

const CONNECTION_LOST = /connection terminated|not queryable|timeout exceeded when trying to connect|connection error/i;

function markConnectionLoss(error: unknown): never {
  if (error instanceof Error && !(error as { code?: unknown }).code && CONNECTION_LOST.test(error.message)) {
    Object.assign(error, { retriable: true });
  }
  throw error;
}

/** What rawSql needs of a node-postgres pool or client. */
export interface PgQueryable {
  query(text: string, values?: unknown[]): Promise<{ rows: unknown[]; rowCount?: number | null }>;
}

/** The projection's transaction: a checked-out client inside BEGIN, which can also COPY rows in. */
export interface ArchiveTransaction extends PgQueryable, Pick<TransactionSql, 'copyRows'> {}

/** A node-postgres pool, or a checked-out client (inside BEGIN: the projection's transaction), as raw SQL. */
export function rawSql(client: PgQueryable): RawSql {
  return {
    $queryRawUnsafe: async <T>(query: string, ...values: unknown[]) => (await client.query(query, values)).rows as T,
    $executeRawUnsafe: async (query: string, ...values: unknown[]) => (await client.query(query, values)).rowCount ?? 0,
  };
}

/** The projection's transaction as raw SQL, with COPY. */
export function transactionSql(tx: ArchiveTransaction): TransactionSql {
  return { ...rawSql(tx), copyRows: tx.copyRows };
}

/**
 * COPY … FROM STDIN in the text format (pg-copy-streams speaks the protocol): PostgreSQL's cheapest
 * way in for many rows, which spends a third less of its time per archived row than an INSERT
 * from unnest'ed arrays, and needs none of node-postgres's array literals on this side. The rows
 * go in chunks of COPY_CHUNK_ROWS: one buffer of a whole batch (several MiB) cost the archive about
 * 5% of its time, in fresh memory from the kernel and in flattening the string it was encoded from.
 */
async function copyRows<Row>(client: PoolClient, table: string, columns: readonly string[], rows: readonly Row[], valuesOf: (row: Row) => CopyRow): Promise<void> {
  const stream = client.query(copyFrom(`COPY ${table} (${columns.join(', ')}) FROM STDIN`));
  for (let start = 0; start < rows.length; start += COPY_CHUNK_ROWS) {
    stream.write(Buffer.from(rows.slice(start, start + COPY_CHUNK_ROWS).map((row) => `${valuesOf(row).map(copyText).join('\t')}\n`).join('')));
  }
  stream.end();
  await finished(stream);
}

/** About 64 KiB of archived messages. */
const COPY_CHUNK_ROWS = 64;

/** A value in COPY's text format: backslash, tab, newline and carriage return escaped. */
function copyText(value: string | boolean): string {
  if (typeof value === 'boolean') return value ? 't' : 'f';
  return COPY_SPECIAL.test(value) ? value.replace(COPY_SPECIAL_ALL, (c) => COPY_ESCAPES[c]!) : value;
}

const COPY_SPECIAL = /[\\\t\n\r]/;
const COPY_SPECIAL_ALL = /[\\\t\n\r]/g;
const COPY_ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };
