/**
 * Issue 7, the product's rule: if bob has n unread, reads them all on the web and logs out, and
 * then m new messages arrive, the phone shows m — and the other way round.
 *
 * The devices' side of the protocol is the gateway's (displayed markers and MDS publishes become
 * MoveReadPointer over gRPC; UnreadChanged on hearth.read-state becomes MDS notifications and the
 * urn:hearth:unread:0 push to every session). Here bob's "web" and "phone" make those gRPC and
 * HTTP calls and read those events, against a real broker, PostgreSQL and the compiled service.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from 'pg';
import { SignJWT } from 'jose';
import { ReadPointerMoved } from '@hearth/contracts';
import { createEventProducer, createKafka, type EventProducer } from '@hearth/kafka';
import { createLogger } from '@hearth/runtime';
import { startBroker, startPostgres, type RunningBroker, type TestPostgres } from '@hearth/testing';
import { chatMessage, ReadStateTopic } from './support/log';
import { startReadState, type ReadStateCallError, type RunningReadState } from './support/read-state-service';

const alice = 'alice@localhost';
const bob = 'bob@localhost';
const carol = 'carol@localhost';
const JWT_SECRET = 'test-secret-for-product-backend-jwts';
const ADMIN_TOKEN = 'test-admin-token-0123456789';
const logger = createLogger('read-state-scenario', 'silent');

let broker: RunningBroker;
let postgres: TestPostgres;
let databaseUrl: string;
let readState: RunningReadState;
let producer: EventProducer;
let log: ReadStateTopic;

before(async () => {
  [broker, postgres] = await Promise.all([startBroker({ env: { HEARTH_BROKER_DEFAULT_PARTITIONS: '3' } }), startPostgres()]);
  databaseUrl = await postgres.freshDatabase('read_state_scenario');
  readState = await startReadState({
    DATABASE_URL: databaseUrl, HEARTH_KAFKA_BROKERS: broker.brokers.join(','), HEARTH_JWT_SECRET: JWT_SECRET, HEARTH_ADMIN_TOKEN: ADMIN_TOKEN,
    HEARTH_READ_STATE_CATCH_UP_TIMEOUT_MS: '15000',
  });
  const kafka = createKafka({ brokers: broker.brokers, clientId: 'scenario', logger });
  producer = await createEventProducer(kafka);
  log = await ReadStateTopic.watch(kafka);
});

after(async () => {
  await log?.stop().catch(() => undefined);
  await producer?.disconnect().catch(() => undefined);
  await readState?.stop();
  await Promise.all([broker?.dispose(), postgres?.stop()]);
});

/** `from` sends `to` messages (messaging appends MessageAccepted); resolves with their stanza ids. */
async function send(from: string, to: string, count: number): Promise<string[]> {
  const messages = Array.from({ length: count }, () => chatMessage(from, to));
  await producer.publish(messages);
  return messages.map((m) => m.payload.stanzaId);
}

const jwtFor = (sub: string) => new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject(sub).setExpirationTime('5m')
  .sign(new TextEncoder().encode(JWT_SECRET));

async function httpUnread(user: string, token: string): Promise<Response> {
  return fetch(`${readState.url}/users/${encodeURIComponent(user)}/unread`, { headers: { authorization: `Bearer ${token}` } });
}

let aliceIds: string[] = [];

test('bob reads everything on the web and logs out; m new messages arrive; the phone query and notification both say m', async () => {
  const n = 3;
  let mark = log.mark();
  aliceIds = await send(alice, bob, n);
  await log.nextNotification(mark, (x) => x.user === bob && x.total === n, `bob's badge ${n}`);
  assert.deepEqual(await readState.client.getUnread(bob), { total: n, chats: [{ peer: alice, unread: n, pointer: '' }] });

  // bob's web session displays the last one (XEP-0333 <displayed/>, forwarded by the gateway).
  mark = log.mark();
  const reply = await readState.client.moveReadPointer({ user: bob, peer: alice, stanza_id: aliceIds[n - 1]!, moved_by: 'displayed-marker' });
  assert.deepEqual(reply, { moved: true, pointer: aliceIds[n - 1], unread: 0, total: 0 });
  // Web and phone are both told (one event per user; the gateway sends it to every session).
  const told = await log.nextNotification(mark, (x) => x.user === bob, 'bob told about the read');
  assert.deepEqual({ ...told, id: undefined }, { id: undefined, user: bob, peer: alice, unread: 0, total: 0, pointer: aliceIds[n - 1], reason: 'pointer-moved' });
  assert.equal((await readState.client.getUnread(bob)).total, 0, "the phone's query says 0");

  // bob logs out of the web (read-state keeps no sessions); m new arrive.
  const m = 2;
  mark = log.mark();
  aliceIds.push(...(await send(alice, bob, m)));
  const phoneNotified = await log.nextNotification(mark, (x) => x.user === bob && x.total === m, `bob's badge ${m}`);
  assert.equal(phoneNotified.unread, m);
  const phoneQuery = await readState.client.getUnread(bob);
  assert.deepEqual(phoneQuery, { total: m, chats: [{ peer: alice, unread: m, pointer: aliceIds[n - 1] }] });
  // The product backend sees the same over HTTP.
  const overHttp = await httpUnread(bob, await jwtFor(bob));
  assert.equal(overHttp.status, 200);
  assert.deepEqual(await overHttp.json(), { total: m, chats: [{ peer: alice, unread: m, pointer: aliceIds[n - 1] }] });
});

test('the other way round: bob reads on the phone (XEP-0490 MDS) and logs out; the web query and notification say m', async () => {
  const last = aliceIds[aliceIds.length - 1]!;
  let mark = log.mark();
  const reply = await readState.client.moveReadPointer({ user: bob, peer: alice, stanza_id: last, moved_by: 'mds' });
  assert.deepEqual(reply, { moved: true, pointer: last, unread: 0, total: 0 });
  await log.nextNotification(mark, (x) => x.user === bob && x.total === 0 && x.pointer === last, 'bob told the phone read all');
  // The MDS node (urn:xmpp:mds:displayed:0) has one item per chat, id = the chat's JID.
  assert.deepEqual(await readState.client.getDisplayedItems(bob), { items: [{ peer: alice, stanza_id: last, by: bob }] });

  const m = 4;
  mark = log.mark();
  aliceIds.push(...(await send(alice, bob, m)));
  const webNotified = await log.nextNotification(mark, (x) => x.user === bob && x.total === m, `bob's badge ${m}`);
  assert.equal(webNotified.unread, m);
  assert.deepEqual(await readState.client.getUnread(bob), { total: m, chats: [{ peer: alice, unread: m, pointer: last }] });
});

test('an old marker does not move the pointer back, and appends nothing', async () => {
  const before = await readState.client.getUnread(bob);
  const movesBefore = log.count(ReadPointerMoved.type);
  const reply = await readState.client.moveReadPointer({ user: bob, peer: alice, stanza_id: aliceIds[0]!, moved_by: 'displayed-marker' });
  assert.equal(reply.moved, false);
  assert.equal(reply.pointer, before.chats[0]!.pointer);
  assert.deepEqual(await readState.client.getUnread(bob), before);
  // A later move is appended after the (absent) one: when it shows up, nothing came before it.
  const newest = aliceIds[aliceIds.length - 1]!;
  await readState.client.moveReadPointer({ user: bob, peer: alice, stanza_id: newest, moved_by: 'displayed-marker' });
  await log.nextNotification(0, (x) => x.user === bob && x.pointer === newest, 'the newer move');
  assert.equal(log.count(ReadPointerMoved.type), movesBefore + 1, 'only the newer marker was appended');
});

test('a marker naming a message of another chat is refused with item-not-found, over gRPC and HTTP', async () => {
  const mark = log.mark();
  const [fromCarol] = await send(carol, bob, 1);
  await log.nextNotification(mark, (x) => x.user === bob && x.peer === carol, 'carol\'s message counted');
  await assert.rejects(
    readState.client.moveReadPointer({ user: bob, peer: alice, stanza_id: fromCarol!, moved_by: 'displayed-marker' }),
    (error: ReadStateCallError) => error.code === 5 /* NOT_FOUND */ && error.condition === 'item-not-found',
  );
  const overHttp = await fetch(`${readState.url}/users/${bob}/chats/${alice}/read-pointer`, {
    method: 'PUT', headers: { authorization: `Bearer ${await jwtFor(bob)}`, 'content-type': 'application/json' },
    body: JSON.stringify({ stanzaId: fromCarol }),
  });
  assert.equal(overHttp.status, 404);
  assert.equal(overHttp.headers.get('content-type')?.startsWith('application/problem+json'), true);
  assert.equal(((await overHttp.json()) as { condition: string }).condition, 'item-not-found');
  assert.equal((await readState.client.getUnread(bob)).chats.find((c) => c.peer === carol)?.unread, 1, 'carol\'s chat untouched');
});

test('the product backend moves the pointer over HTTP with the user\'s JWT; other credentials are refused', async () => {
  const [fromCarol] = await send(carol, bob, 1);
  const put = (token: string) => fetch(`${readState.url}/users/${bob}/chats/${carol}/read-pointer`, {
    method: 'PUT', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ stanzaId: fromCarol }),
  });
  assert.equal((await put(await jwtFor(alice))).status, 403, "alice's token cannot move bob's pointer");
  assert.equal((await put('not-a-token')).status, 401);
  assert.equal((await fetch(`${readState.url}/users/${bob}/unread`)).status, 401);
  const moved = await put(await jwtFor(bob));
  assert.equal(moved.status, 200);
  assert.deepEqual(await moved.json(), { moved: true, pointer: fromCarol, unread: 0, total: (await readState.client.getUnread(bob)).total });
  assert.equal((await httpUnread(bob, ADMIN_TOKEN)).status, 200, 'an operator may read anyone\'s counts');
});

test('a XEP-0333 marker may name the message by the id alice\'s client gave it, or by its stanza id', async () => {
  const [first, second] = [chatMessage(alice, bob), chatMessage(alice, bob)];
  await producer.publish([first, second]);
  const byClientId = await readState.client.moveReadPointer({ user: bob, peer: alice, message_id: first.payload.clientMessageId!, moved_by: 'displayed-marker' });
  assert.deepEqual([byClientId.pointer, byClientId.unread], [first.payload.stanzaId, 1]);
  const byStanzaId = await readState.client.moveReadPointer({ user: bob, peer: alice, message_id: second.payload.stanzaId, moved_by: 'displayed-marker' });
  assert.deepEqual([byStanzaId.pointer, byStanzaId.unread], [second.payload.stanzaId, 0]);
});

test('a marker for a message read-state has not consumed yet waits for the projection instead of failing', async () => {
  // Hold the projection's commit: its checkpoint write waits for this lock, so the message
  // below is in the log (the client could have it) but not yet in read-state's tables.
  const holder = new Client({ connectionString: databaseUrl });
  await holder.connect();
  try {
    await holder.query('BEGIN');
    await holder.query('LOCK TABLE consumer_checkpoints IN SHARE MODE');
    const message = chatMessage(alice, bob);
    await producer.publish(message);
    const pending = readState.client.moveReadPointer({ user: bob, peer: alice, stanza_id: message.payload.stanzaId, moved_by: 'displayed-marker' });
    await readState.waitForLog((l) => l.msg === 'marker names a message read-state has not consumed yet; waiting for the projection to catch up'
      && l.stanzaId === message.payload.stanzaId, 15_000);
    await holder.query('COMMIT');
    const reply = await pending;
    assert.deepEqual({ moved: reply.moved, pointer: reply.pointer, unread: reply.unread }, { moved: true, pointer: message.payload.stanzaId, unread: 0 });
  } finally {
    await holder.query('ROLLBACK').catch(() => undefined);
    await holder.end();
  }
  // And a stanza id that is nowhere, once caught up, is refused rather than waited on forever.
  await assert.rejects(
    readState.client.moveReadPointer({ user: bob, peer: alice, stanza_id: 'no-such-stanza', moved_by: 'displayed-marker' }),
    (error: ReadStateCallError) => error.condition === 'item-not-found',
  );
});
