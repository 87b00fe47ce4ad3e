/** What reads the checkpoints: a `pg` Client or Pool. */
export interface CheckpointReader {
  query(sql: string, params: unknown[]): Promise<{ rows: unknown[] }>;
}

/**
 * Where a projection's consumers (the archive's shards, say) stand, as their consumer_checkpoints
 * rows say: what tools and tests wait on to know that a projection has caught up. On a topic
 * that starts at offset 0, the next offsets of a consumer add up to the events it has applied.
 */
export class CheckpointPositions {
  private constructor(
    private readonly consumers: readonly string[],
    private readonly checkpoints: readonly { consumer: string; topic: string; partition: number; next: bigint }[],
  ) {}

  static async read(db: CheckpointReader, consumers: readonly string[]): Promise<CheckpointPositions> {
    const { rows } = await db.query(
      'SELECT consumer, topic, partition, next_offset FROM consumer_checkpoints WHERE consumer = ANY($1::text[])', [consumers]);
    return new CheckpointPositions(consumers, (rows as { consumer: string; topic: string; partition: number; next_offset: string }[])
      .map((r) => ({ consumer: r.consumer, topic: r.topic, partition: r.partition, next: BigInt(r.next_offset) })));
  }

  /** The next offset `consumer` will apply on a partition: 0 before its first checkpoint there. */
  nextOffset(consumer: string, topic: string, partition: number): bigint {
    return this.checkpoints.find((c) => c.consumer === consumer && c.topic === topic && c.partition === partition)?.next ?? 0n;
  }

  /** Events of `topic` (of every topic when omitted) that `consumer` has applied. */
  appliedBy(consumer: string, topic?: string): bigint {
    return this.checkpoints.filter((c) => c.consumer === consumer && (topic === undefined || c.topic === topic))
      .reduce((sum, c) => sum + c.next, 0n);
  }

  /** Events of `topic` (of every topic when omitted) that every consumer has applied: the slowest one's. */
  appliedByAll(topic?: string): bigint {
    const applied = this.consumers.map((consumer) => this.appliedBy(consumer, topic));
    return applied.length === 0 ? 0n : applied.reduce((a, b) => (a < b ? a : b));
  }
}
