/**
 * Issue 7: counts stay right under concurrency. Three senders append MessageAccepted while bob's
 * two devices move his read pointers over gRPC, all interleaved; afterwards every count read-state
 * reports equals a count computed independently from the log.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from 'pg';
import { isEvent, MessageAccepted, ReadPointerMoved, topics, UnreadChanged, type PayloadOf } from '@hearth/contracts';
import { createEventProducer, createKafka, type EventProducer } from '@hearth/kafka';
import { createLogger } from '@hearth/runtime';
import { startBroker, startPostgres, type RunningBroker, type TestPostgres } from '@hearth/testing';
import type { Kafka } from 'kafkajs';
import { chatMessage, eventually, projectionCaughtUp, readTopic } from './support/log';
import { startReadState, type RunningReadState } from './support/read-state-service';

const bob = 'bob@localhost';
const senders = ['alice@localhost', 'carol@localhost', 'dave@localhost'];
const MESSAGES_PER_SENDER = 60;
const MIN_MOVES_PER_DEVICE = 25;
/** Longest pause of a sender between two appends. */
const SENDER_PAUSE_MS = 150;
const logger = createLogger('read-state-concurrency', 'silent');

let broker: RunningBroker;
let postgres: TestPostgres;
let readState: RunningReadState;
let kafka: Kafka;
let db: Client;
const producers: EventProducer[] = [];

before(async () => {
  [broker, postgres] = await Promise.all([startBroker({ env: { HEARTH_BROKER_DEFAULT_PARTITIONS: '3' } }), startPostgres()]);
  const databaseUrl = await postgres.freshDatabase('read_state_concurrency');
  // Generous on a loaded machine: a marker may wait for the projection to catch up.
  readState = await startReadState({ DATABASE_URL: databaseUrl, HEARTH_KAFKA_BROKERS: broker.brokers.join(','), HEARTH_READ_STATE_CATCH_UP_TIMEOUT_MS: '15000' });
  kafka = createKafka({ brokers: broker.brokers, clientId: 'concurrency', logger });
  for (let i = 0; i < senders.length; i++) producers.push(await createEventProducer(kafka));
  db = new Client({ connectionString: databaseUrl });
  await db.connect();
});

after(async () => {
  await db?.end().catch(() => undefined);
  await Promise.all(producers.map((p) => p.disconnect().catch(() => undefined)));
  await readState?.stop();
  await Promise.all([broker?.dispose(), postgres?.stop()]);
});

/** A deterministic pseudo-random sequence, so a failure can be rerun identically. */
function random(seed: number): () => number {
  let state = seed;
  return () => ((state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
}

test('3 senders and 2 reading devices interleaving: the final counts equal a count computed from the log', async () => {
  // Stanza ids bob's devices have received live (appended to the log), per peer.
  const received = new Map<string, string[]>(senders.map((s) => [s, []]));
  const outcomes = { moved: 0, unchanged: 0 };

  const sender = async (from: string, producer: EventProducer, rand: () => number) => {
    for (let sent = 0; sent < MESSAGES_PER_SENDER;) {
      const batch = Array.from({ length: 1 + Math.floor(rand() * 3) }, () =>
        rand() < 0.15 ? chatMessage(bob, from) /* bob answers from a third device: not unread for him */ : chatMessage(from, bob));
      await producer.publish(batch);
      for (const m of batch) if (m.payload.sender === from) received.get(from)!.push(m.payload.stanzaId);
      sent += batch.length;
      // Pace the senders so the devices' markers land between their messages.
      await new Promise((resolve) => setTimeout(resolve, rand() * SENDER_PAUSE_MS));
    }
  };
  const device = async (movedBy: 'displayed-marker' | 'mds', rand: () => number) => {
    for (let moves = 0; moves < MIN_MOVES_PER_DEVICE || !sendersDone;) {
      const peer = senders[Math.floor(rand() * senders.length)]!;
      const ids = received.get(peer)!;
      if (ids.length === 0) {
        await new Promise((resolve) => setTimeout(resolve, 10)); // nothing received from that peer yet
        continue;
      }
      moves++;
      // Mostly the newest message seen, sometimes an older one (a slow device catching up).
      const index = rand() < 0.7 ? ids.length - 1 : Math.floor(rand() * ids.length);
      const reply = await readState.client.moveReadPointer({ user: bob, peer, stanza_id: ids[index]!, moved_by: movedBy });
      outcomes[reply.moved ? 'moved' : 'unchanged']++;
    }
  };

  let sendersDone = false;
  await Promise.all([
    Promise.all(senders.map((from, i) => sender(from, producers[i]!, random(i + 1)))).then(() => (sendersDone = true)),
    device('displayed-marker', random(101)),
    device('mds', random(202)),
  ]);
  assert.ok(outcomes.moved >= 8, `pointers moved (${JSON.stringify(outcomes)})`);

  await eventually(() => projectionCaughtUp(kafka, db), 'read-state caught up with the log', 30_000);

  // The reference count, from the log alone: each chat's messages in partition order, bob's
  // pointer at the furthest message any accepted move named, unread = his incoming after it.
  const messages = (await readTopic(kafka, topics.messages)).filter(({ event }) => isEvent(event, MessageAccepted));
  const moves = (await readTopic(kafka, topics.readState)).filter(({ event }) => isEvent(event, ReadPointerMoved))
    .map(({ event }) => event.payload as PayloadOf<typeof ReadPointerMoved>);
  const expected = new Map<string, number>();
  for (const peer of senders) {
    const chat = messages.map(({ event, partition, offset }) => ({ m: event.payload as PayloadOf<typeof MessageAccepted>, partition, offset }))
      .filter(({ m }) => [m.sender, m.recipient].includes(peer) && [m.sender, m.recipient].includes(bob))
      .sort((a, b) => a.offset - b.offset);
    assert.equal(new Set(chat.map((c) => c.partition)).size, 1, 'one chat, one partition');
    const named = moves.filter((p) => p.user === bob && p.peer === peer).map((p) => chat.findIndex((c) => c.m.stanzaId === p.stanzaId));
    assert.ok(named.every((i) => i >= 0), 'every move names a message of its chat');
    const pointer = Math.max(-1, ...named);
    expected.set(peer, chat.slice(pointer + 1).filter(({ m }) => m.recipient === bob).length);
  }
  const expectedTotal = [...expected.values()].reduce((a, b) => a + b, 0);

  const counts = await readState.client.getUnread(bob);
  assert.deepEqual(
    Object.fromEntries(counts.chats.map((c) => [c.peer, c.unread])),
    Object.fromEntries(expected),
    'per chat',
  );
  assert.equal(counts.total, expectedTotal, 'total');
  // Each sender gets bob's answers as unread (nobody moved their pointers).
  for (const peer of senders) {
    const answers = messages.filter(({ event }) => (event.payload as PayloadOf<typeof MessageAccepted>).recipient === peer).length;
    assert.equal((await readState.client.getUnread(peer)).total, answers, `${peer}'s unread`);
  }
  // And the last notification bob's devices got says the same.
  await eventually(async () => {
    const notifications = (await readTopic(kafka, topics.readState)).filter(({ event }) => isEvent(event, UnreadChanged))
      .map(({ event }) => event.payload as PayloadOf<typeof UnreadChanged>).filter((n) => n.user === bob);
    return notifications.at(-1)?.total === expectedTotal;
  }, 'the last UnreadChanged for bob carries the final total', 15_000);
});
