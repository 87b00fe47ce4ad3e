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
    /** Next offset by `consumer topic partition`. */
    private readonly next: ReadonlyMap<string, bigint>,
  ) {}

  static async read(db: CheckpointReader, consumers: readonly string[]): Promise<CheckpointPositions> {
    const { rows } = await db.query(
      'SELECT consumer, topic, partition, next_offset FROM consumer_checkpoints WHERE consumer = ANY($1::text[])', [consumers]);
    const next = (rows as { consumer: string; topic: string; partition: number; next_offset: string }[])
      .map((r) => [`${r.consumer} ${r.topic} ${r.partition}`, BigInt(r.next_offset)] as const);
    return new CheckpointPositions(consumers, new Map(next));
  }

  /** The next offset `consumer` will apply on a partition: 0 before its first checkpoint there. */
  nextOffset(consumer: string, topic: string, partition: number): bigint {
    return this.next.get(`${consumer} ${topic} ${partition}`) ?? 0n;
  }

  /** Events of `topic` (of every topic when omitted) that `consumer` has applied. */
  appliedBy(consumer: string, topic?: string): bigint {
    let applied = 0n;
    for (const [key, offset] of this.next) {
      const [owner, ofTopic] = key.split(' ');
      if (owner === consumer && (topic === undefined || ofTopic === topic)) applied += offset;
    }
    return applied;
  }

  /** Events of `topic` (of every topic when omitted) that every consumer has applied: the slowest one's. */
  appliedByAll(topic?: string): bigint {
    const applied = this.consumers.map((consumer) => this.appliedBy(consumer, topic));
    return applied.length === 0 ? 0n : applied.reduce((a, b) => (a < b ? a : b));
  }
}
