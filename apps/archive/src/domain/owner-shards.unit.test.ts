import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isWholeShardSet, OwnerShard, unexpectedConsumers } from './owner-shards';

const users = Array.from({ length: 1_000 }, (_, i) => `user${i}@localhost`);

test('given 3 shards, every owner is archived by exactly one of them, and each has a fair share', () => {
  const shards = OwnerShard.all(3);
  for (const user of users) assert.equal(shards.filter((s) => s.owns(user)).length, 1, user);
  for (const shard of shards) {
    const share = users.filter((u) => shard.owns(u)).length;
    assert.ok(share > 250 && share < 420, `shard ${shard.index} owns ${share} of 1000`);
  }
});

test('given the same owner, its shard never changes (positions depend on which consumer archived it)', () => {
  assert.deepEqual(['alice@localhost', 'bob@localhost', 'carol@localhost', 'dave@localhost'].map((u) => new OwnerShard(1, 2).owns(u)), [false, true, true, false]);
});

test('given one shard, the consumer keeps the group name; several shards name their count', () => {
  assert.equal(OwnerShard.whole.checkpointName('archive'), 'archive');
  assert.deepEqual(OwnerShard.all(2).map((s) => s.checkpointName('archive')), ['archive.0-of-2', 'archive.1-of-2']);
  assert.throws(() => new OwnerShard(2, 2), RangeError);
});

test('given checkpoints written under another shard count, they are reported; other groups are not', () => {
  const checkpointed = ['archive.0-of-2', 'archive.1-of-2', 'archive-rebuild-1.0-of-2', 'read-state'];
  assert.deepEqual(unexpectedConsumers('archive', OwnerShard.all(2), checkpointed), []);
  assert.deepEqual(unexpectedConsumers('archive', OwnerShard.all(3), checkpointed), ['archive.0-of-2', 'archive.1-of-2']);
  assert.deepEqual(unexpectedConsumers('archive', [OwnerShard.whole], checkpointed), ['archive.0-of-2', 'archive.1-of-2']);
  assert.deepEqual(unexpectedConsumers('archive', OwnerShard.all(2), ['archive']), ['archive']);
});

test('given the checkpointed shards of an earlier count, only all of them together may be carried over', () => {
  assert.ok(isWholeShardSet('archive', ['archive']));
  assert.ok(isWholeShardSet('archive', ['archive.1-of-2', 'archive.0-of-2']));
  assert.ok(!isWholeShardSet('archive', ['archive.0-of-2']), 'shard 1 never checkpointed: its owners were never archived');
  assert.ok(!isWholeShardSet('archive', ['archive', 'archive.0-of-2']));
  assert.ok(!isWholeShardSet('archive', []));
});
