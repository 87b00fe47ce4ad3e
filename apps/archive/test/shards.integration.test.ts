/**
 * The archive projection runs as shards (HEARTH_ARCHIVE_SHARDS, default 2), each archiving its
 * share of the users under its own checkpoints. Under another shard count the new shards resume
 * where the old ones all stopped, and a start is refused where they stopped at different places.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from 'pg';
import { startService } from '@hearth/testing';
import { ADMIN_TOKEN, ArchiveClient, chatMessage, JWT_SECRET, startArchive, type ArchiveHarness } from './support/archive-harness';

// alice's archive is written by shard 0 of 2, bob's by shard 1 (see domain/owner-shards.unit.test.ts).
const alice = 'alice@localhost';
const bob = 'bob@localhost';

let archive: ArchiveHarness;
before(async () => {
  archive = await startArchive();
});
after(() => archive?.close());

const count = async (client: ArchiveClient, owner: string) => {
  const reply = await client.query({ requester: owner, owner, rsm: { max: 0, has_max: true } });
  return Number(reply.count);
};

async function checkpoints(): Promise<Map<string, number>> {
  const db = new Client({ connectionString: archive.databaseUrl });
  await db.connect();
  try {
    const { rows } = await db.query<{ consumer: string; n: string }>('SELECT consumer, sum(next_offset) AS n FROM consumer_checkpoints GROUP BY consumer');
    return new Map(rows.map((r) => [r.consumer, Number(r.n)]));
  } finally {
    await db.end();
  }
}

async function setCheckpoint(consumer: string, delta: number): Promise<void> {
  const db = new Client({ connectionString: archive.databaseUrl });
  await db.connect();
  try {
    await db.query("UPDATE consumer_checkpoints SET next_offset = next_offset + $2 WHERE consumer = $1 AND topic = 'hearth.messages'", [consumer, delta]);
  } finally {
    await db.end();
  }
}

test('both shards archive and checkpoint; another shard count resumes where they all stopped, or is refused where they differ', async () => {
  await archive.produce(Array.from({ length: 30 }, (_, i) => (i % 2 ? chatMessage(alice, bob) : chatMessage(bob, alice))));
  await archive.eventually(async () => (await count(archive.client, alice)) === 30 && (await count(archive.client, bob)) === 30, 'both archives hold all 30');
  await archive.eventually(async () => [...(await checkpoints()).values()].every((n) => n === 30) && (await checkpoints()).size === 2, 'both shards checkpointed');
  assert.deepEqual([...(await checkpoints()).keys()].sort(), ['archive.0-of-2', 'archive.1-of-2']);

  // Stopped at the same positions: three shards take over from there.
  assert.equal(await archive.service.stop(), 0);
  await archive.produce(Array.from({ length: 10 }, () => chatMessage(alice, bob)));
  const env = { DATABASE_URL: archive.databaseUrl, HEARTH_KAFKA_BROKERS: archive.broker.brokers.join(','), HEARTH_JWT_SECRET: JWT_SECRET, HEARTH_ADMIN_TOKEN: ADMIN_TOKEN };
  const three = await startService({ app: 'archive', env: { ...env, HEARTH_ARCHIVE_SHARDS: '3' } });
  const client = new ArchiveClient(three.grpcPort);
  try {
    await archive.eventually(async () => (await checkpoints()).size === 3 && [...(await checkpoints()).values()].every((n) => n === 40), 'three shards caught up');
    assert.deepEqual([...(await checkpoints()).keys()].sort(), ['archive.0-of-3', 'archive.1-of-3', 'archive.2-of-3']);
    assert.equal(await count(client, alice), 40, 'nothing lost nor archived twice');
    assert.equal(await count(client, bob), 40);
  } finally {
    client.close();
    assert.equal(await three.stop(), 0);
  }

  // One shard committed further than the others (as when stopped by a crash): refused.
  await setCheckpoint('archive.2-of-3', -5);
  await assert.rejects(startService({ app: 'archive', env: { ...env, HEARTH_ARCHIVE_SHARDS: '2' } }),
    /built by archive\.0-of-3, archive\.1-of-3, archive\.2-of-3, not by 2 shard\(s\) of archive, and they stopped at different positions/);
  assert.deepEqual(await checkpoints(), new Map([['archive.0-of-3', 40], ['archive.1-of-3', 40], ['archive.2-of-3', 35]]), 'the refused start changed nothing');
});
