/**
 * Issue 9 through the real protocol: devices register with XEP-0357 over XMPP, messages and
 * pubsub notifications are sent over XMPP, and the push service talks to a local APNs server
 * (libs/testing/src/apns.ts) that checks what Apple checks. Retries, 410 and crash safety are
 * covered against the service itself in apps/push/test.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import { Pool } from 'pg';
import { startApnsServer, xml, type RunningApns, type TestXmppClient } from '@hearth/testing';
import { ADMIN_TOKEN } from './support/gateway-process';
import { SmStream } from './support/sm-stream';
import { PASSWORD, startStack, type Stack } from './support/stack';

const BUNDLE = 'com.example.chat';
const APP_SERVER = 'push.example.com';
const PUSH_NS = 'urn:xmpp:push:0';

/** A hex APNs device token, distinct per name. */
const tokenOf = (name: string) => Buffer.from(name.padEnd(32, '.')).toString('hex');

describe('push notifications to phones whose sessions are not active (XEP-0357)', { timeout: 120_000 }, () => {
  let apns: RunningApns;
  let stack: Stack;
  let pushDb: Pool;
  const clients: TestXmppClient[] = [];

  before(async () => {
    apns = await startApnsServer({ topics: [BUNDLE] });
    const caFile = join(mkdtempSync(join(tmpdir(), 'hearth-apns-ca-')), 'ca.pem');
    writeFileSync(caFile, apns.certificate);
    stack = await startStack({
      services: ['archive', 'read-state', 'pubsub', 'push'],
      users: ['alice@localhost', 'bob@localhost', 'carol@localhost', 'dave@localhost', 'erin@localhost', 'frank@localhost'],
      serviceEnv: {
        push: {
          HEARTH_APNS_ENDPOINT: apns.endpoint, HEARTH_APNS_CA_FILE: caFile,
          HEARTH_APNS_KEY_FILE: apns.keyFile, HEARTH_APNS_KEY_ID: apns.keyId, HEARTH_APNS_TEAM_ID: apns.teamId,
          HEARTH_PUSH_BADGE_WAIT_MS: '2000',
        },
      },
    });
    pushDb = new Pool({ connectionString: stack.databases.push, max: 2 });
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.stop()));
    await pushDb?.end();
    await stack?.stop();
    await apns?.stop();
  });

  async function connect(jid: string, resource: string): Promise<TestXmppClient> {
    const client = await stack.connect(jid, { resource });
    clients.push(client);
    await client.send(xml('presence'));
    return client;
  }

  /** XEP-0357 §5: the phone enables push with its APNs token in the publish-options form. */
  async function enablePush(phone: TestXmppClient, token: string): Promise<void> {
    const field = (name: string, value: string) => xml('field', { var: name }, xml('value', {}, value));
    await phone.iq('set', xml('enable', { xmlns: PUSH_NS, jid: APP_SERVER, node: `node-${token.slice(0, 8)}` },
      xml('x', { xmlns: 'jabber:x:data', type: 'submit' },
        field('FORM_TYPE', 'http://jabber.org/protocol/pubsub#publish-options'),
        field('device_token', token), field('bundle_id', BUNDLE), field('environment', 'production'))));
    await until(async () => (await devices(phone.bareJid)).some((d) => d.tokenSuffix && token.endsWith(d.tokenSuffix)), 'the registration to reach the push service');
  }

  async function devices(user: string): Promise<Array<{ tokenSuffix?: string }>> {
    const response = await fetch(`${stack.services.push!.url}/users/${user}/devices`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    return response.ok ? ((await response.json()) as Array<{ tokenSuffix?: string }>) : [];
  }

  /** The push service has seen the phone's session in this state (it learns sessions from the log). */
  async function sessionState(user: string, resource: string, state: 'bound' | 'hibernated' | 'gone'): Promise<void> {
    await until(async () => {
      const { rows } = await pushDb.query<{ state: string }>('SELECT state FROM push_sessions WHERE user_jid = $1 AND resource = $2', [user, resource]);
      return state === 'gone' ? rows.length === 0 : rows.some((r) => r.state === state);
    }, `${user}/${resource} to be ${state} for the push service`);
  }

  /** The push service has decided on everything in hearth.messages so far (its checkpoints reach the end). */
  async function pushCaughtUp(): Promise<void> {
    const admin = new Kafka({ brokers: stack.broker.brokers, clientId: 'push-scenario', logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    try {
      const ends = await admin.fetchTopicOffsets('hearth.messages');
      await until(async () => {
        const { rows } = await pushDb.query<{ partition: number; next_offset: string }>(
          "SELECT partition, next_offset FROM consumer_checkpoints WHERE topic = 'hearth.messages'");
        return ends.every((end) => BigInt(rows.find((r) => r.partition === end.partition)?.next_offset ?? '0') >= BigInt(end.high));
      }, 'the push service to consume every message');
    } finally {
      await admin.disconnect();
    }
  }

  const chat = (to: string, body: string, id: string) => xml('message', { to, type: 'chat', id }, xml('body', {}, body), xml('markable', { xmlns: 'urn:xmpp:chat-markers:0' }));
  const pushesFor = (token: string) => apns.accepted().filter((r) => r.deviceToken === token);

  test('bob is offline: alice\'s message reaches his phone with her name, the text and a badge of his unread total', async () => {
    const token = tokenOf('bob-phone');
    const phone = await connect('bob@localhost', 'phone');
    await enablePush(phone, token);
    await phone.stop();
    await sessionState('bob@localhost', 'phone', 'gone');

    const alice = await connect('alice@localhost', 'web');
    await alice.send(chat('bob@localhost', 'Dinner at eight?', 'a1'));
    await alice.send(chat('bob@localhost', 'I booked the table.', 'a2'));

    const second = await apns.waitFor((r) => r.deviceToken === token && (r.payload?.aps?.alert as { body?: string } | undefined)?.body === 'I booked the table.', 'the second push', 15_000);
    const first = pushesFor(token).find((r) => (r.payload?.aps?.alert as { body?: string } | undefined)?.body === 'Dinner at eight?');
    assert.ok(first, 'the first message was pushed too');
    assert.deepEqual(first.payload?.aps?.alert, { title: 'alice', body: 'Dinner at eight?' });
    assert.equal(first.topic, BUNDLE);
    assert.equal(first.payload?.aps?.badge, 1);
    assert.equal(second.payload?.aps?.badge, 2, 'the badge is the unread total, not a constant 1');
    assert.equal(second.payload?.aps?.['thread-id'], 'alice@localhost');
    assert.equal((second.payload?.hearth as { sender?: string }).sender, 'alice@localhost');
    assert.ok((second.payload?.hearth as { stanzaId?: string }).stanzaId, 'the app can fetch the message by its stanza id');
    assert.equal(pushesFor(token).filter((r) => r.pushType === 'alert' && r.payload?.aps?.alert).length, 2, 'one push per message');
  });

  test('reading on the web lowers the badge on bob\'s phone with a badge update', async () => {
    const token = tokenOf('bob-phone');
    const web = await connect('bob@localhost', 'web');
    // MAM gives the web client the stanza ids of what it shows; it marks the last one displayed.
    const last = apns.accepted().filter((r) => r.deviceToken === token && r.payload?.aps?.alert).at(-1)!;
    const stanzaId = (last.payload?.hearth as { stanzaId: string }).stanzaId;
    await web.send(xml('message', { to: 'alice@localhost', type: 'chat' }, xml('displayed', { xmlns: 'urn:xmpp:chat-markers:0', id: stanzaId })));
    const update = await apns.waitFor((r) => r.deviceToken === token && r.payload?.aps?.badge === 0 && !r.payload?.aps?.alert, 'the badge update to 0', 15_000);
    assert.equal(update.priority, '5');
  });

  test('carol is online: her phone gets the message live and no push', async () => {
    const token = tokenOf('carol-phone');
    const phone = await connect('carol@localhost', 'phone');
    await enablePush(phone, token);
    await sessionState('carol@localhost', 'phone', 'bound');
    const alice = await connect('alice@localhost', 'tablet');
    await alice.send(chat('carol@localhost', 'See you there', 'c1'));
    await phone.waitFor((s) => s.is('message') && s.getChildText('body') === 'See you there', 'alice\'s message');

    // Then something that is pushed, to another offline user: once it arrived, carol's decision was made too.
    const daveToken = tokenOf('dave-phone');
    const dave = await connect('dave@localhost', 'phone');
    await enablePush(dave, daveToken);
    await dave.stop();
    await sessionState('dave@localhost', 'phone', 'gone');
    await alice.send(chat('dave@localhost', 'ping', 'd1'));
    await alice.send(chat('carol@localhost', 'and one more', 'c2'));
    await apns.waitFor((r) => r.deviceToken === daveToken, 'dave\'s push', 15_000);
    await phone.waitFor((s) => s.is('message') && s.getChildText('body') === 'and one more', 'the second message');
    await pushCaughtUp();
    assert.equal(pushesFor(token).length, 0, 'an active session gets no push');
  });

  test('frank\'s phone lost its connection and waits for resumption (XEP-0198): it gets a push', async () => {
    const token = tokenOf('frank-phone');
    const phone = await SmStream.login(stack.gateways[0]!.ports.c2sTls, 'frank@localhost', PASSWORD);
    await phone.bind('phone');
    const mark = phone.text.length;
    await phone.send(`<iq type='set' id='push-1'><enable xmlns='${PUSH_NS}' jid='${APP_SERVER}' node='frank-node'><x xmlns='jabber:x:data' type='submit'>` +
      `<field var='FORM_TYPE'><value>http://jabber.org/protocol/pubsub#publish-options</value></field>` +
      `<field var='device_token'><value>${token}</value></field><field var='bundle_id'><value>${BUNDLE}</value></field>` +
      `<field var='environment'><value>production</value></field></x></enable></iq>`);
    await phone.waitSince(mark, /<iq(?=[^>]*id=["']push-1["'])(?=[^>]*type=["']result["'])/);
    await phone.enable();
    await phone.send('<presence/>');
    await sessionState('frank@localhost', 'phone', 'bound');
    phone.drop();
    await sessionState('frank@localhost', 'phone', 'hibernated');

    const alice = await connect('alice@localhost', 'laptop');
    await alice.send(chat('frank@localhost', 'Are you in a tunnel?', 'f1'));
    const pushed = await apns.waitFor((r) => r.deviceToken === token, 'frank\'s push', 15_000);
    assert.deepEqual(pushed.payload?.aps?.alert, { title: 'alice', body: 'Are you in a tunnel?' });
    await pushCaughtUp();
    assert.equal(pushesFor(token).length, 1, 'one push for one message');
  });

  test('a pubsub notification to an offline subscriber is pushed', async () => {
    const token = tokenOf('erin-phone');
    const erin = await connect('erin@localhost', 'phone');
    const alice = await connect('alice@localhost', 'organiser');
    const pubsub = 'pubsub.localhost';
    await alice.iq('set', xml('pubsub', { xmlns: 'http://jabber.org/protocol/pubsub' }, xml('create', { node: '/meal/7/participants' })), pubsub);
    await erin.iq('set', xml('pubsub', { xmlns: 'http://jabber.org/protocol/pubsub' }, xml('subscribe', { node: '/meal/7/participants', jid: 'erin@localhost' })), pubsub);
    await enablePush(erin, token);
    await erin.stop();
    await sessionState('erin@localhost', 'phone', 'gone');
    await alice.iq('set', xml('pubsub', { xmlns: 'http://jabber.org/protocol/pubsub' },
      xml('publish', { node: '/meal/7/participants' }, xml('item', { id: 'frank' }, xml('joined', { xmlns: 'urn:example:meal' }, 'frank joined')))), pubsub);
    const pushed = await apns.waitFor((r) => r.deviceToken === token, 'erin\'s push for the notification', 15_000);
    assert.ok(pushed.payload?.aps?.alert, 'an alert');
  });
});

async function until(check: () => Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

