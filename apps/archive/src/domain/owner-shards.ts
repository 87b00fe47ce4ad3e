/**
 * The archive projection runs as several shards: lanes of its one consumer (see runProjection's
 * `lanes`). Each shard is given the whole log, keeps its own checkpoints and writes only the
 * archives of the owners hashed to it, so the shards' transactions lock disjoint owners and run
 * side by side. An owner's copies are still positioned by one shard, in the order it was given them.
 */
export class OwnerShard {
  /** The only shard when the projection is not sharded. */
  static readonly whole = new OwnerShard(0, 1);

  constructor(readonly index: number, readonly count: number) {
    if (!Number.isInteger(count) || count < 1 || !Number.isInteger(index) || index < 0 || index >= count) {
      throw new RangeError(`no shard ${index} of ${count}`);
    }
  }

  owns(owner: string): boolean {
    return this.count === 1 || shardOf(owner, this.count) === this.index;
  }

  /**
   * The name of the shard's checkpoints. The count is part of it, so checkpoints written under
   * another count are recognised (see unexpectedConsumers).
   */
  checkpointName(group: string): string {
    return this.count === 1 ? group : `${group}.${this.index}-of-${this.count}`;
  }

  static all(count: number): OwnerShard[] {
    return Array.from({ length: count }, (_, index) => new OwnerShard(index, count));
  }
}

/**
 * Checkpoint names of this consumer group written under a different shard count. Each new shard
 * may resume from them only where they all stand at the same positions (always true of one
 * shard); elsewhere resuming would skip or repeat the messages of owners that moved between
 * shards, and the archive refuses to start until it is rebuilt (`hearth-replay rebuild archive`).
 */
export function unexpectedConsumers(group: string, shards: readonly OwnerShard[], checkpointed: readonly string[]): string[] {
  const expected = new Set(shards.map((s) => s.checkpointName(group)));
  const family = new RegExp(`^${group.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(\\.\\d+-of-\\d+)?$`);
  return checkpointed.filter((name) => family.test(name) && !expected.has(name));
}

/**
 * True when `consumers` are all the shards of one shard count of this group: only then have they
 * together archived every owner (a shard that never checkpointed archived nobody).
 */
export function isWholeShardSet(group: string, consumers: readonly string[]): boolean {
  const count = consumers.length;
  const names = new Set(consumers);
  return count > 0 && names.size === count && OwnerShard.all(count).every((shard) => names.has(shard.checkpointName(group)));
}

/** FNV-1a (32 bit) of the JID's UTF-16 code units: stable across releases, cheap per copy. */
function shardOf(owner: string, count: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < owner.length; i++) hash = Math.imul(hash ^ owner.charCodeAt(i), 0x01000193);
  return (hash >>> 0) % count;
}
