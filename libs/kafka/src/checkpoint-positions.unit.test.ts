import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CheckpointPositions, type CheckpointReader } from './checkpoint-positions';

/** consumer_checkpoints rows as PostgreSQL returns them (bigint as text), filtered as the query asks. */
const table = (rows: [consumer: string, topic: string, partition: number, next: number][]): CheckpointReader => ({
  query: async (_sql, [consumers]) => ({
    rows: rows.filter(([consumer]) => (consumers as string[]).includes(consumer))
      .map(([consumer, topic, partition, next]) => ({ consumer, topic, partition, next_offset: String(next) })),
  }),
});

const shards = ['archive.0-of-2', 'archive.1-of-2'];
const rows = table([
  ['archive.0-of-2', 'hearth.messages', 0, 40], ['archive.0-of-2', 'hearth.messages', 1, 60], ['archive.0-of-2', 'hearth.accounts', 0, 3],
  ['archive.1-of-2', 'hearth.messages', 0, 40], ['archive.1-of-2', 'hearth.messages', 1, 55],
  ['read-state', 'hearth.messages', 0, 1_000],
]);

test("given two shards' checkpoints, each one's applied events are the sum of its next offsets, per topic or in all", async () => {
  const positions = await CheckpointPositions.read(rows, shards);
  assert.equal(positions.appliedBy('archive.0-of-2', 'hearth.messages'), 100n);
  assert.equal(positions.appliedBy('archive.0-of-2'), 103n);
  assert.equal(positions.appliedBy('archive.1-of-2', 'hearth.accounts'), 0n, 'no checkpoint there yet');
  assert.equal(positions.nextOffset('archive.1-of-2', 'hearth.messages', 1), 55n);
  assert.equal(positions.nextOffset('archive.1-of-2', 'hearth.messages', 2), 0n);
});

test('what every shard has applied is what the slowest one has; a shard with no checkpoint yet has applied nothing', async () => {
  assert.equal((await CheckpointPositions.read(rows, shards)).appliedByAll('hearth.messages'), 95n);
  assert.equal((await CheckpointPositions.read(rows, [...shards, 'archive.2-of-3'])).appliedByAll(), 0n);
  assert.equal((await CheckpointPositions.read(rows, [])).appliedByAll(), 0n);
});
