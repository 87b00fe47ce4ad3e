/**
 * Every shard of the archive reads every record, so a record that is not an event reaches all of
 * them: it goes to the dead-letter topic once (reported by the first shard), and every shard
 * moves past it.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { topics } from '@hearth/contracts';
import { chatMessage, startArchive, type ArchiveHarness } from './support/archive-harness';

// alice's archive is written by shard 0 of 2, bob's by shard 1 (see domain/owner-shards.unit.test.ts).
const alice = 'alice@localhost';
const bob = 'bob@localhost';

let archive: ArchiveHarness;
before(async () => {
  archive = await startArchive({ HEARTH_ARCHIVE_SHARDS: '2' });
});
after(() => archive?.close());

const count = async (owner: string) => Number((await archive.client.query({ requester: owner, owner, rsm: { max: 0, has_max: true } })).count);

/** The dead-letter topic from its start, read until `settleMs` passes with nothing new. */
async function deadLetters(settleMs: number): Promise<Record<string, string>[]> {
  const reader = archive.kafka.consumer({ groupId: `dead-letter-reader-${Date.now()}` });
  await reader.connect();
  await reader.subscribe({ topic: topics.deadLetter, fromBeginning: true });
  const found: Record<string, string>[] = [];
  let last = Date.now();
  await reader.run({
    eachMessage: async ({ message }) => {
      found.push(Object.fromEntries(Object.entries(message.headers ?? {}).map(([name, value]) => [name, String(value)])));
      last = Date.now();
    },
  });
  await archive.eventually(async () => found.length > 0 && Date.now() - last > settleMs, 'the dead letters');
  await reader.disconnect();
  return found;
}

test('a record that is not an event is dead-lettered once though both shards read it, and both archive what follows', async () => {
  const producer = archive.kafka.producer();
  await producer.connect();
  await producer.send({ topic: topics.messages, acks: -1, messages: [{ key: 'broken', value: Buffer.from('{"not":"an event"}') }] });
  await producer.disconnect();
  await archive.produce([chatMessage(alice, bob), chatMessage(bob, alice)]);
  // Each shard archives what follows only after it has dealt with the broken record.
  await archive.eventually(async () => (await count(alice)) === 2 && (await count(bob)) === 2, 'both shards past the broken record');

  const dead = await deadLetters(1_000);
  assert.equal(dead.length, 1, 'one dead letter, not one per shard');
  assert.equal(dead[0]!['hearth-dlq-consumer'], 'archive.0-of-2');
  assert.equal(dead[0]!['hearth-dlq-topic'], topics.messages);
  assert.equal(dead[0]!['hearth-dlq-offset'], '0');
});
