/**
 * hearth-replay rebuilds the archive from offset 0 into a second database; the rebuilt
 * projection equals the live one row for row (positions, ids, conversations and order included).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { Client } from 'pg';
import {
  AccountDeleted, ArchivePreferencesChanged, ArchiveRetentionApplied, chatKeyOf, createEvent, encodeEvent, MessageAccepted, topicOf, type Envelope,
} from '@hearth/contracts';
import { CheckpointPositions } from '@hearth/kafka';
import { startBroker, startPostgres, startService, type RunningBroker, type RunningService, type TestPostgres } from '@hearth/testing';
import { compareDatabases } from '../src/compare';

const REPLAY_MAIN = path.resolve(__dirname, '../src/main.js');
const users = ['alice@localhost', 'bob@localhost', 'carol@localhost', 'dave@localhost'];
const T0 = Date.parse('2026-05-01T08:00:00Z');
/** alice and dave are archived by one shard, bob and carol by the other. */
const LIVE_SHARDS = 2;
const LIVE_CONSUMERS = ['archive.0-of-2', 'archive.1-of-2'];

let broker: RunningBroker;
let postgres: TestPostgres;
let live: RunningService | undefined;
let producer: Producer;
let liveUrl: string;
const produced = new Map<string, number>();

before(async () => {
  broker = await startBroker();
  postgres = await startPostgres();
  liveUrl = await postgres.freshDatabase('archive_live');
  live = await startService({ app: 'archive', env: { DATABASE_URL: liveUrl, HEARTH_KAFKA_BROKERS: broker.brokers.join(','), HEARTH_ARCHIVE_SHARDS: String(LIVE_SHARDS) } });
  producer = new Kafka({ clientId: 'rebuild-test', brokers: broker.brokers, logLevel: logLevel.NOTHING }).producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
});

after(async () => {
  await producer?.disconnect().catch(() => undefined);
  await live?.stop();
  await postgres?.stop();
  await broker?.dispose();
});

let n = 0;
function message(from: string, to: string, minute: number): Envelope {
  const stanzaId = `sid-${++n}`;
  const chatKey = chatKeyOf(from, to);
  return createEvent(MessageAccepted, {
    stanzaId, chatKey, sender: from, senderFullJid: `${from}/phone`, recipient: to, to, messageType: 'chat', body: `hello ${n}`,
    stanza: `<message xmlns='jabber:client' from='${from}/phone' to='${to}' type='chat'><body>hello ${n}</body><stanza-id xmlns='urn:xmpp:sid:0' by='${to}' id='${stanzaId}'/></message>`,
    // Gateways' clocks differ: acceptedAt jitters ±90 s around the minute, out of log order.
    acceptedAt: new Date(T0 + minute * 60_000 + ((n * 7919) % 180 - 90) * 1_000).toISOString(), gateway: `gw-${n % 2}`,
  }, { key: chatKey, producer: 'test' });
}

async function produce(events: Envelope[]): Promise<void> {
  for (const event of events) produced.set(topicOf(event), (produced.get(topicOf(event)) ?? 0) + 1);
  const byTopic = new Map<string, { key: string; value: Buffer }[]>();
  for (const e of events) byTopic.set(topicOf(e), [...(byTopic.get(topicOf(e)) ?? []), { key: e.key, value: encodeEvent(e) }]);
  await producer.sendBatch({ acks: -1, topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })) });
  await liveCaughtUp();
}

async function liveCaughtUp(): Promise<void> {
  const db = new Client({ connectionString: liveUrl });
  await db.connect();
  try {
    const deadline = Date.now() + 20_000;
    for (;;) {
      // Every shard of the live archive has applied everything.
      const positions = await CheckpointPositions.read(db, LIVE_CONSUMERS);
      const applied = [...produced].map(([topic, count]) => ({ topic, count, applied: Number(positions.appliedByAll(topic)) }));
      if (applied.every((t) => t.applied === t.count)) return;
      if (Date.now() > deadline) throw new Error(`live archive not caught up: ${JSON.stringify(applied)}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } finally {
    await db.end();
  }
}

const pick = (i: number) => users[i % users.length]!;

test('the archive rebuilt by hearth-replay from offset 0 equals the live one, row for row', async () => {
  // Live history: chats with conversation gaps, a duplicate, preferences, retention, a deleted account.
  const first = Array.from({ length: 120 }, (_, i) => message(pick(i), pick(i + 1 + (i % 3)), i < 60 ? i * 2 : 200 + i));
  await produce(first);
  await produce([first[5]!, first[6]!]); // redelivered: same stanza ids
  await produce([createEvent(ArchivePreferencesChanged, { user: 'carol@localhost', default: 'never', always: ['alice@localhost'], never: [] },
    { key: 'carol@localhost', producer: 'test', occurredAt: new Date(T0 + 400 * 60_000) })]);
  await produce(Array.from({ length: 60 }, (_, i) => message(pick(i + 2), pick(i + 3), 400 + i)));
  await produce([createEvent(ArchiveRetentionApplied, { before: new Date(T0 + 30 * 60_000).toISOString() }, { key: 'retention', producer: 'test' })]);
  await produce([createEvent(AccountDeleted, { account: 'dave@localhost' }, { key: 'dave@localhost', producer: 'test', occurredAt: new Date(T0 + 450 * 60_000) })]);
  await produce(Array.from({ length: 40 }, (_, i) => message(pick(i), pick(i + 1), 500 + i)));

  const rebuiltUrl = await postgres.freshDatabase('archive_rebuilt');
  const { stdout } = await promisify(execFile)(process.execPath, [
    REPLAY_MAIN, 'rebuild', 'archive', '--database-url', rebuiltUrl, '--brokers', broker.brokers.join(','), '--compare-with', liveUrl, '--timeout-seconds', '60',
  ], { timeout: 90_000 });
  assert.match(stdout, /rebuilt archive: \d+ events in [\d.]+ s = \d+ events\/s/);
  assert.match(stdout, /the rebuilt projection equals the live one, row for row/);
  for (const table of ['archive_messages', 'archive_owners', 'archive_chats', 'archive_conversations', 'conversation_trackers', 'archive_preferences', 'archive_retention', 'consumer_checkpoints']) {
    assert.match(stdout, new RegExp(`equal +\\S*\\b${table} \\(\\d+ rows\\)`));
  }
  const messages = Number(/equal +\S*\barchive_messages \((\d+) rows\)/.exec(stdout)![1]);
  assert.ok(messages > 200, `the comparison covered the archive (${messages} rows)`);

  // And the comparison does see a difference: one message moved by one position.
  const rebuilt = new Client({ connectionString: rebuiltUrl });
  await rebuilt.connect();
  await rebuilt.query("UPDATE archive_messages SET seq = seq + 1000 WHERE (owner, seq) = (SELECT owner, max(seq) FROM archive_messages WHERE owner = 'alice@localhost' GROUP BY owner)");
  await rebuilt.end();
  const tables = await compareDatabases(liveUrl, rebuiltUrl);
  assert.deepEqual(tables.filter((t) => t.difference).map((t) => t.table.replace(/^.*\./, '')), ['archive_messages']);
});
