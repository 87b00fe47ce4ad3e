/**
 * Issue 7: replay. Read-state's database is a projection of the log: a new, empty database
 * consuming from offset 0 must end up row for row identical, and must not announce history
 * (UnreadChanged) a second time.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from 'pg';
import { topics, UnreadChanged } from '@hearth/contracts';
import { createEventProducer, createKafka, type EventProducer } from '@hearth/kafka';
import { createLogger } from '@hearth/runtime';
import { startBroker, startPostgres, type RunningBroker, type TestPostgres } from '@hearth/testing';
import type { Kafka } from 'kafkajs';
import { chatMessage, eventually, projectionCaughtUp, readTopic } from './support/log';
import { startReadState, type RunningReadState } from './support/read-state-service';

const [alice, bob, carol] = ['alice@localhost', 'bob@localhost', 'carol@localhost'];
const logger = createLogger('read-state-rebuild', 'silent');
/** The projection's state; outbox and replay_boundaries are bookkeeping, not state. */
const PROJECTION_TABLES = {
  chat_messages: 'chat_key, stanza_id',
  chat_read_states: 'user_jid, peer_jid',
  unread_totals: 'user_jid',
};

let broker: RunningBroker;
let postgres: TestPostgres;
let kafka: Kafka;
let producer: EventProducer;
const services: RunningReadState[] = [];
const clients: Client[] = [];

before(async () => {
  [broker, postgres] = await Promise.all([startBroker({ env: { HEARTH_BROKER_DEFAULT_PARTITIONS: '2' } }), startPostgres()]);
  kafka = createKafka({ brokers: broker.brokers, clientId: 'rebuild', logger });
  producer = await createEventProducer(kafka);
});

after(async () => {
  await Promise.all(clients.map((c) => c.end().catch(() => undefined)));
  await producer?.disconnect().catch(() => undefined);
  for (const service of services) await service.stop();
  await Promise.all([broker?.dispose(), postgres?.stop()]);
});

async function start(): Promise<{ service: RunningReadState; db: Client }> {
  const databaseUrl = await postgres.freshDatabase('read_state_rebuild');
  const service = await startReadState({ DATABASE_URL: databaseUrl, HEARTH_KAFKA_BROKERS: broker.brokers.join(','), HEARTH_READ_STATE_CATCH_UP_TIMEOUT_MS: '15000' });
  services.push(service);
  const db = new Client({ connectionString: databaseUrl });
  await db.connect();
  clients.push(db);
  return { service, db };
}

async function dump(db: Client): Promise<Record<string, unknown[]>> {
  const tables: Record<string, unknown[]> = {};
  for (const [table, key] of Object.entries(PROJECTION_TABLES)) tables[table] = (await db.query(`SELECT * FROM ${table} ORDER BY ${key}`)).rows;
  return tables;
}

const unreadChangedCount = async () => (await readTopic(kafka, topics.readState)).filter(({ event }) => event.type === UnreadChanged.type).length;

test('a new database consuming from offset 0 gives identical rows and announces nothing again', async () => {
  const first = await start();
  // History: messages both ways in two chats, pointer moves by all three means, an old marker.
  const fromAlice = Array.from({ length: 6 }, () => chatMessage(alice, bob));
  const fromCarol = Array.from({ length: 4 }, () => chatMessage(carol, bob));
  await producer.publish([...fromAlice.slice(0, 3), chatMessage(bob, alice), ...fromCarol.slice(0, 2), chatMessage(alice, bob, undefined)]);
  const move = (peer: string, stanzaId: string, movedBy: string) =>
    first.service.client.moveReadPointer({ user: bob, peer, stanza_id: stanzaId, moved_by: movedBy });
  assert.equal((await move(alice, fromAlice[1]!.payload.stanzaId, 'displayed-marker')).moved, true);
  await producer.publish([...fromAlice.slice(3), ...fromCarol.slice(2), chatMessage(bob, carol)]);
  assert.equal((await move(carol, fromCarol[3]!.payload.stanzaId, 'mds')).moved, true);
  assert.equal((await move(alice, fromAlice[4]!.payload.stanzaId, 'http')).moved, true);
  assert.equal((await move(alice, fromAlice[0]!.payload.stanzaId, 'displayed-marker')).moved, false);
  await eventually(() => projectionCaughtUp(kafka, first.db), 'the first projection caught up');
  const live = await dump(first.db);
  assert.deepEqual((await first.service.client.getUnread(bob)).total, 1, 'bob: one unread from alice; alice has one from bob');
  await eventually(async () => (await first.db.query('SELECT count(*)::int AS n FROM outbox')).rows[0].n === 0, 'outbox published');
  const announcedLive = await unreadChangedCount();
  assert.ok(announcedLive > 0);
  await first.service.stop();

  // Rebuild: an empty database, the same log from offset 0.
  const second = await start();
  await eventually(() => projectionCaughtUp(kafka, second.db), 'the rebuilt projection caught up');
  assert.deepEqual(await dump(second.db), live, 'row for row identical');
  assert.equal((await second.db.query('SELECT count(*)::int AS n FROM outbox')).rows[0].n, 0);
  assert.equal(await unreadChangedCount(), announcedLive, 'history was not announced again');

  // After the rebuild, new changes are announced as before.
  await producer.publish(chatMessage(carol, bob));
  await eventually(async () => (await unreadChangedCount()) === announcedLive + 1, 'the new message announced');
  assert.equal((await second.service.client.getUnread(bob)).total, 2);
});
