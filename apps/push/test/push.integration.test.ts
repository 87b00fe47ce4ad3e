/**
 * Issue 9 end to end: the push service spawned against our broker, embedded PostgreSQL and the
 * local APNs server (libs/testing/src/apns.ts), which checks the JWT, topic, push type, payload
 * size and shape as Apple does and records what it receives. The other services' events
 * (messaging, sessions, read-state, pubsub) are appended here as those services append them.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Kafka } from 'kafkajs';
import { SignJWT } from 'jose';
import type { Pool } from 'pg';
import { decodeEvent, PushDeviceUnregistered, topics, type Envelope } from '@hearth/contracts';
import type { RunningApns } from '@hearth/testing';
import { apnsIdOf } from '../src/domain/name-based-id';
import {
  chatMessage, deviceToken, eventually, pubsubItem, sessionBound, sessionHibernated, unreadChanged,
} from './support/log';
import { ADMIN, BUNDLE, startPushFixture, type PushFixture } from './support/push-fixture';
import type { RunningPush } from './support/push-service';

const JWT_SECRET = 'jwt-secret-0123456789abcdef';

describe('push: APNs notifications with sender, text and the real badge', { timeout: 120_000 }, () => {
  let fixture: PushFixture;
  let apns: RunningApns;
  let push: RunningPush;
  let kafka: Kafka;
  let db: Pool;

  before(async () => {
    fixture = await startPushFixture('push', {
      HEARTH_JWT_SECRET: JWT_SECRET, HEARTH_PUSH_BADGE_WAIT_MS: '3000', HEARTH_PUSH_RETRY_BASE_MS: '50', HEARTH_PUSH_BODY_MAX_CHARS: '40',
    });
    ({ apns, push, kafka, db } = fixture);
  });
  after(() => fixture?.stop());

  const append = (...events: Envelope[]) => fixture.append(...events);
  const caughtUp = () => fixture.caughtUp();

  async function registerOverHttp(user: string, deviceId: string, token: string, resource?: string): Promise<void> {
    const response = await fetch(`${push.url}/users/${user}/devices/${deviceId}`, {
      method: 'PUT', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ deviceToken: token, bundleId: BUNDLE, environment: 'sandbox', ...(resource ? { resource } : {}) }),
    });
    assert.equal(response.status, 200, await response.text());
  }

  const requestsFor = (token: string) => apns.requests.filter((r) => r.deviceToken === token);

  test('alice writes to bob, whose phone is offline: bob\'s phone gets one push with alice\'s name, the text and the badge read-state announced', async () => {
    const token = deviceToken();
    await registerOverHttp('bob@localhost', 'bob-iphone', token, 'iphone');
    const message = chatMessage('alice@localhost', 'bob@localhost', 'Dinner at eight? Bring the wine, and the cheese board too please');
    await append(message);
    await append(unreadChanged('bob@localhost', 'alice@localhost', 1, 3, message, 'message-arrived'));

    const push1 = await apns.waitFor((r) => r.deviceToken === token && r.accepted, 'bob\'s push');
    assert.equal(push1.apnsId, apnsIdOf(message.id, 'bob@localhost', 'bob-iphone'), 'apns-id derived from the event and the device');
    assert.equal(push1.topic, BUNDLE);
    assert.equal(push1.pushType, 'alert');
    assert.deepEqual(push1.payload!.aps, {
      alert: { title: 'alice', body: 'Dinner at eight? Bring the wine, and th…' }, badge: 3, sound: 'default',
      'thread-id': 'alice@localhost', 'mutable-content': 1,
    });
    assert.deepEqual(push1.payload!.hearth, {
      kind: 'message', eventId: message.id, stanzaId: message.payload.stanzaId, sender: 'alice@localhost', chat: 'alice@localhost',
    });
    await caughtUp();
    assert.equal(requestsFor(token).length, 1, 'exactly one push');
  });

  test('carol is online on her iPhone: no push; when the stream hibernates (XEP-0198) she gets one', async () => {
    const token = deviceToken();
    const enabled = await push.client.enablePush({
      actor: 'carol@localhost/iphone', service: 'push.localhost', node: 'carol-node', device_token: token, bundle_id: BUNDLE, environment: 'sandbox',
    });
    assert.match(enabled.device_id, /^xep0357-/);
    const session = sessionBound('carol@localhost/iphone');
    await append(session.event);
    await caughtUp();

    const whileOnline = chatMessage('alice@localhost', 'carol@localhost', 'are you there?');
    await append(whileOnline);
    await caughtUp();
    const decided = await db.query('SELECT 1 FROM push_sends WHERE event_id = $1', [whileOnline.id]);
    assert.equal(decided.rowCount, 0, 'no push decided for an active device');
    assert.equal(requestsFor(token).length, 0);

    await append(sessionHibernated('carol@localhost/iphone', session.sessionId));
    const whileHibernated = chatMessage('dave@localhost', 'carol@localhost', 'ping');
    await append(whileHibernated);
    const received = await apns.waitFor((r) => r.deviceToken === token && r.accepted, 'carol\'s push while hibernated');
    assert.equal(received.payload!.aps!.alert && (received.payload!.aps!.alert as { title: string }).title, 'dave');
    assert.equal(requestsFor(token).length, 1);
  });

  test('a sender\'s XEP-0172 nickname is the title; without UnreadChanged in time the badge is the last known total + 1', async () => {
    const token = deviceToken();
    await registerOverHttp('erin@localhost', 'erin-iphone', token);
    await append(unreadChanged('erin@localhost', 'zed@localhost', 4, 4, undefined, 'pointer-moved'));
    await append(chatMessage('frank@localhost', 'erin@localhost', 'hello', "<nick xmlns='http://jabber.org/protocol/nick'>Frank Ocean</nick>"));
    const received = await apns.waitFor((r) => r.deviceToken === token && r.accepted, 'erin\'s push');
    assert.equal((received.payload!.aps!.alert as { title: string }).title, 'Frank Ocean');
    assert.equal(received.payload!.aps!.badge, 5);
  });

  test('a pubsub item to an offline subscriber is pushed, once, and never to its publisher', async () => {
    const token = deviceToken();
    const publisherToken = deviceToken();
    await registerOverHttp('gina@localhost', 'gina-iphone', token);
    await registerOverHttp('hank@localhost', 'hank-iphone', publisherToken);
    const item = pubsubItem('hank@localhost', '/meal/42', ['gina@localhost', 'gina@localhost/web', 'hank@localhost'], "<joined xmlns='urn:example:meal'>Hank joined the meal</joined>");
    await append(item);
    const received = await apns.waitFor((r) => r.deviceToken === token && r.accepted, 'gina\'s pubsub push');
    assert.deepEqual(received.payload!.aps!.alert, { title: 'hank', body: 'Hank joined the meal' });
    assert.equal(received.payload!.hearth && (received.payload!.hearth as { itemId: string }).itemId, item.payload.itemId);
    assert.ok(received.collapseId?.startsWith('ps-'));
    await caughtUp();
    assert.equal(requestsFor(token).length, 1, 'one push for two subscriptions');
    assert.equal(requestsFor(publisherToken).length, 0, 'the publisher is not notified of its own item');
  });

  test('ivan reads on the web: the badge on his phone drops by a silent badge update', async () => {
    const token = deviceToken();
    await registerOverHttp('ivan@localhost', 'ivan-iphone', token, 'iphone');
    const message = chatMessage('alice@localhost', 'ivan@localhost', 'news');
    await append(message, unreadChanged('ivan@localhost', 'alice@localhost', 2, 2, message, 'message-arrived'));
    await apns.waitFor((r) => r.deviceToken === token && r.payload?.aps?.badge === 2, 'ivan\'s message push');
    const web = sessionBound('ivan@localhost/web');
    await append(web.event, unreadChanged('ivan@localhost', 'alice@localhost', 0, 0, undefined, 'pointer-moved'));
    const update = await apns.waitFor((r) => r.deviceToken === token && r.payload?.aps?.badge === 0, 'ivan\'s badge update');
    assert.deepEqual(update.payload, { aps: { badge: 0 } });
    assert.equal(update.priority, '5');
    assert.equal(update.collapseId, 'hearth-badge');
    assert.equal(update.pushType, 'alert');
  });

  test('APNs answers 410 Unregistered: the registration is removed by an event and the token gets nothing more', async () => {
    const token = deviceToken();
    await registerOverHttp('judy@localhost', 'judy-iphone', token);
    apns.respondForToken(token, { status: 410, reason: 'Unregistered', timestamp: Date.now() });
    await append(chatMessage('alice@localhost', 'judy@localhost', 'hi judy'));
    await apns.waitFor((r) => r.deviceToken === token && r.status === 410, 'the 410');
    await eventually(async () => {
      const list = await fetch(`${push.url}/users/judy@localhost/devices`, { headers: { authorization: `Bearer ${ADMIN}` } }).then((r) => r.json() as Promise<unknown[]>);
      return list.length === 0;
    }, 'judy\'s device to be unregistered');
    const unregistered = await readPushTopic(kafka, (e) => e.type === PushDeviceUnregistered.type && (e.payload as { user: string }).user === 'judy@localhost');
    assert.equal((unregistered.payload as { reason: string }).reason, 'apns-unregistered');
    await append(chatMessage('alice@localhost', 'judy@localhost', 'still there?'));
    await caughtUp();
    assert.equal(requestsFor(token).length, 1, 'no request after the token was unregistered');
    const send = await db.query(`SELECT state FROM push_sends WHERE user_jid = 'judy@localhost'`);
    assert.deepEqual(send.rows, [{ state: 'failed' }]);
  });

  test('APNs answers 500 twice: the push is retried with backoff and then delivered, once', async () => {
    const token = deviceToken();
    await registerOverHttp('kate@localhost', 'kate-iphone', token);
    apns.failNext(2, { status: 500, reason: 'InternalServerError' });
    const message = chatMessage('alice@localhost', 'kate@localhost', 'retry me');
    await append(message, unreadChanged('kate@localhost', 'alice@localhost', 1, 1, message, 'message-arrived'));
    await apns.waitFor((r) => r.deviceToken === token && r.accepted, 'kate\'s push after the retries');
    const statuses = requestsFor(token).map((r) => r.status);
    assert.deepEqual(statuses, [500, 500, 200]);
    assert.equal(new Set(requestsFor(token).map((r) => r.apnsId)).size, 1, 'every attempt carries the same apns-id');
    await eventually(async () => (await db.query(`SELECT 1 FROM push_sends WHERE user_jid = 'kate@localhost' AND state = 'sent' AND attempts = 3`)).rowCount === 1, 'the send log to say sent after 3 attempts');
  });

  test('XEP-0357 disable removes carol\'s registration; the HTTP API refuses a JWT for another user', async () => {
    const disabled = await push.client.disablePush({ actor: 'carol@localhost/iphone', service: 'push.localhost' });
    assert.equal(disabled.removed, 1);
    const mallory = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('mallory@localhost').sign(new TextEncoder().encode(JWT_SECRET));
    const refused = await fetch(`${push.url}/users/bob@localhost/devices/x`, {
      method: 'PUT', headers: { authorization: `Bearer ${mallory}`, 'content-type': 'application/json' },
      body: JSON.stringify({ deviceToken: deviceToken(), bundleId: BUNDLE, environment: 'sandbox' }),
    });
    assert.equal(refused.status, 403);
    assert.equal(((await refused.json()) as { condition: string }).condition, 'forbidden');
    const bad = await push.client.enablePush({ actor: 'carol@localhost', service: 'push.localhost', node: 'n', device_token: 'zz', bundle_id: BUNDLE, environment: 'sandbox' })
      .then(() => undefined, (error: { condition?: string }) => error.condition);
    assert.equal(bad, 'jid-malformed');
  });
});

/** The first event on hearth.push that matches (reads from the start). */
async function readPushTopic(kafka: Kafka, match: (event: Envelope) => boolean): Promise<Envelope> {
  const consumer = kafka.consumer({ groupId: `push-test-${Date.now()}-${Math.random()}`, sessionTimeout: 6_000, heartbeatInterval: 1_000 });
  await consumer.connect();
  await consumer.subscribe({ topic: topics.push, fromBeginning: true });
  try {
    return await new Promise<Envelope>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no matching event on hearth.push')), 15_000);
      void consumer.run({
        eachMessage: async ({ message }) => {
          const event = decodeEvent(message.value);
          if (match(event)) {
            clearTimeout(timer);
            resolve(event);
          }
        },
      });
    });
  } finally {
    await consumer.disconnect();
  }
}

