/**
 * The projection's own database, as the consumer runner needs it: a transaction in which the
 * projection applies a batch *and* the runner records how far it got. That is what makes
 * effects exactly-once: both commit together or neither does.
 */
export interface SqlExecutor {
  query<Row = Record<string, unknown>>(sql: string, params: unknown[]): Promise<Row[]>;
}

export interface ProjectionDatabase<Tx> {
  transaction<T>(work: (tx: Tx) => Promise<T>): Promise<T>;
  /** The same transaction, seen as plain SQL, for the checkpoint. */
  sql(tx: Tx): SqlExecutor;
  /** Outside any transaction, to read checkpoints. */
  read: SqlExecutor;
}

/** What the generated Prisma clients (and their transaction clients) offer for raw SQL. */
export interface PrismaRawSql {
  $queryRawUnsafe<T = unknown>(query: string, ...values: unknown[]): Promise<T>;
}
export interface PrismaLike<Tx extends PrismaRawSql> extends PrismaRawSql {
  $transaction<R>(work: (tx: Tx) => Promise<R>, options?: { maxWait?: number; timeout?: number }): Promise<R>;
}

const viaPrisma = (client: PrismaRawSql): SqlExecutor => ({
  query: <Row>(sql: string, params: unknown[]) => client.$queryRawUnsafe<Row[]>(sql, ...params),
});

export function prismaProjectionDatabase<Tx extends PrismaRawSql>(prisma: PrismaLike<Tx>): ProjectionDatabase<Tx> {
  return {
    // Batches can be large (archive ingest): give them more than Prisma's 5 s default.
    transaction: (work) => prisma.$transaction(work, { maxWait: 10_000, timeout: 60_000 }),
    sql: viaPrisma,
    read: viaPrisma(prisma),
  };
}

/**
 * A node-postgres pool, for projections (and tests) that do not use Prisma. The transaction is
 * given the checked-out client as `connect` returns it, with whatever else that offers.
 */
export interface PgPoolLike<Client extends PgClientLike = PgClientLike> {
  connect(): Promise<Client>;
  query(sql: string, params: unknown[]): Promise<{ rows: unknown[] }>;
}
export interface PgClientLike {
  query(sql: string, params?: unknown[]): Promise<{ rows: unknown[] }>;
  release(error?: Error): void;
}

export function pgProjectionDatabase<Client extends PgClientLike>(pool: PgPoolLike<Client>): ProjectionDatabase<Client> {
  const executor = (client: Pick<PgClientLike, 'query'>): SqlExecutor => ({
    query: async <Row>(sql: string, params: unknown[]) => (await client.query(sql, params)).rows as Row[],
  });
  return {
    async transaction(work) {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const result = await work(client);
        await client.query('COMMIT');
        client.release();
        return result;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        client.release(error as Error);
        throw error;
      }
    },
    sql: executor,
    read: executor(pool),
  };
}

/**
 * The table every projection database has (each service's Prisma schema declares it as the
 * `ConsumerCheckpoint` model, mapped to this table):
 *   consumer_checkpoints(consumer text, topic text, partition int, next_offset bigint,
 *                        PRIMARY KEY (consumer, topic, partition))
 */
export const checkpoints = {
  async load(db: SqlExecutor, consumer: string, topic: string, partition: number): Promise<bigint | undefined> {
    const rows = await db.query<{ next_offset: bigint | string | number }>(
      'SELECT next_offset FROM consumer_checkpoints WHERE consumer = $1 AND topic = $2 AND partition = $3',
      [consumer, topic, partition],
    );
    return rows[0] === undefined ? undefined : BigInt(rows[0].next_offset);
  },
  async save(db: SqlExecutor, consumer: string, topic: string, partition: number, nextOffset: bigint): Promise<void> {
    await db.query(
      `INSERT INTO consumer_checkpoints (consumer, topic, partition, next_offset) VALUES ($1, $2, $3, $4)
       ON CONFLICT (consumer, topic, partition) DO UPDATE SET next_offset = EXCLUDED.next_offset`,
      [consumer, topic, partition, nextOffset.toString()],
    );
  },
};
