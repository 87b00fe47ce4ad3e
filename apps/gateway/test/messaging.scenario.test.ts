import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import { Client } from 'pg';
import { decodeEvent, isEvent, MessageAccepted, topics, type PayloadOf } from '@hearth/contracts';
import { xml, type TestXmppClient, type XmppElement } from '@hearth/testing';
import { startStack, type Stack } from './support/stack';

const SID = 'urn:xmpp:sid:0';
const CARBONS = 'urn:xmpp:carbons:2';
const FORWARD = 'urn:xmpp:forward:0';
const RECEIPTS = 'urn:xmpp:receipts';
const CHAT_STATES = 'http://jabber.org/protocol/chatstates';

const stanzaIdOf = (message: XmppElement, by: string) => message.getChildren('stanza-id', SID).find((s) => s.attrs.by === by)?.attrs.id;
const messageWithBody = (body: string) => (s: XmppElement) => s.is('message') && s.getChildText('body') === body;
const carbon = (direction: 'sent' | 'received', body: string) => (s: XmppElement) =>
  s.is('message') && s.getChild(direction, CARBONS)?.getChild('forwarded', FORWARD)?.getChild('message')?.getChildText('body') === body;
const innerOf = (s: XmppElement, direction: 'sent' | 'received') => s.getChild(direction, CARBONS)!.getChild('forwarded', FORWARD)!.getChild('message')!;

describe('messaging through the log (issue #5): stanza ids, carbons, idempotent resend, two gateways', () => {
  let stack: Stack;
  const clients: TestXmppClient[] = [];
  const online = async (jid: string, resource: string, gateway = 0) => {
    const client = await stack.connect(jid, { resource, gateway });
    clients.push(client);
    await client.send(xml('presence'));
    return client;
  };

  before(async () => {
    stack = await startStack({
      services: ['archive'], gateways: 2,
      users: ['alice@localhost', 'bob@localhost', 'carol@localhost', 'dave@localhost', 'erin@localhost', 'frank@localhost'],
      // The 1,000-message exchange sends as fast as it can; the limit itself is tested in messaging-errors.
      gatewayEnv: { HEARTH_GATEWAY_MESSAGE_RATE_PER_SEC: '100000', HEARTH_GATEWAY_MESSAGE_BURST: '100000' },
    });
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.stop()));
    await stack?.stop();
  });

  /** Every MessageAccepted in the log so far, read with an independent kafkajs consumer. */
  async function logged(expectAtLeast: (events: PayloadOf<typeof MessageAccepted>[]) => boolean): Promise<PayloadOf<typeof MessageAccepted>[]> {
    const kafka = new Kafka({ brokers: stack.broker.brokers, clientId: 'messaging-test', logLevel: logLevel.NOTHING });
    const consumer = kafka.consumer({ groupId: `messaging-test-${Date.now()}-${Math.random()}` });
    const events: PayloadOf<typeof MessageAccepted>[] = [];
    await consumer.connect();
    try {
      await consumer.subscribe({ topic: topics.messages, fromBeginning: true });
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`the log did not have the expected messages: ${events.length} read`)), 15_000);
        void consumer.run({
          eachMessage: async ({ message }) => {
            const event = decodeEvent(message.value);
            if (isEvent(event, MessageAccepted)) events.push(event.payload);
            if (expectAtLeast(events)) {
              clearTimeout(timer);
              resolve();
            }
          },
        });
      });
    } finally {
      await consumer.disconnect();
    }
    return events;
  }

  /** Rows of `owner`'s archive with this stanza id, once the archive has caught up to `lastStanzaId`. */
  async function archived(owner: string, stanzaId: string, lastStanzaId: string): Promise<number> {
    const db = new Client({ connectionString: stack.databases.archive });
    await db.connect();
    try {
      const deadline = Date.now() + 15_000;
      for (;;) {
        const caughtUp = await db.query('SELECT 1 FROM archive_messages WHERE owner = $1 AND stanza_id = $2', [owner, lastStanzaId]);
        if (caughtUp.rowCount! > 0) break;
        if (Date.now() > deadline) throw new Error(`the archive of ${owner} never got ${lastStanzaId}`);
        await new Promise((r) => setTimeout(r, 100)); // polling a projection, not asserting on time
      }
      const rows = await db.query('SELECT 1 FROM archive_messages WHERE owner = $1 AND stanza_id = $2', [owner, stanzaId]);
      return rows.rowCount!;
    } finally {
      await db.end();
    }
  }

  test('alice and bob chat: bob\'s copy, bob\'s reply and alice\'s carbon on her laptop carry the server\'s stanza id', async () => {
    const alicePhone = await online('alice@localhost', 'phone');
    const aliceLaptop = await online('alice@localhost', 'laptop', 1);
    const bob = await online('bob@localhost', 'desk');
    await aliceLaptop.iq('set', xml('enable', { xmlns: CARBONS }));

    // alice tries to forge a stanza id of this server: it is removed (XEP-0359 §3.3)
    await alicePhone.send(xml('message', { to: 'bob@localhost', type: 'chat', id: 'a1' },
      xml('body', {}, 'hi bob'), xml('request', { xmlns: RECEIPTS }), xml('stanza-id', { xmlns: SID, by: 'bob@localhost', id: 'forged' })));
    const atBob = await bob.waitFor(messageWithBody('hi bob'), 'alice\'s message');
    const ids = atBob.getChildren('stanza-id', SID);
    assert.equal(ids.length, 1, 'exactly one stanza-id: the server\'s');
    assert.equal(ids[0]!.attrs.by, 'bob@localhost');
    assert.notEqual(ids[0]!.attrs.id, 'forged');
    assert.equal(atBob.attrs.from, alicePhone.jid);
    const stanzaId = ids[0]!.attrs.id!;

    const sent = await aliceLaptop.waitFor(carbon('sent', 'hi bob'), 'the sent carbon of alice\'s message');
    assert.equal(sent.attrs.from, 'alice@localhost');
    assert.equal(stanzaIdOf(innerOf(sent, 'sent'), 'alice@localhost'), stanzaId, 'the sender\'s copy has the same id, by alice');

    // bob acknowledges (XEP-0184) and answers; alice's phone gets both, with stanza ids by alice
    await bob.send(xml('message', { to: alicePhone.jid, type: 'chat', id: 'r1' }, xml('received', { xmlns: RECEIPTS, id: 'a1' })));
    await bob.send(xml('message', { to: 'alice@localhost', type: 'chat', id: 'b1' }, xml('body', {}, 'hello alice'), xml('active', { xmlns: CHAT_STATES })));
    const receipt = await alicePhone.waitFor((s) => s.is('message') && s.getChild('received', RECEIPTS)?.attrs.id === 'a1', 'bob\'s receipt');
    assert.ok(stanzaIdOf(receipt, 'alice@localhost'));
    const reply = await alicePhone.waitFor(messageWithBody('hello alice'), 'bob\'s reply');
    assert.ok(stanzaIdOf(reply, 'alice@localhost'));
    assert.ok(reply.getChild('active', CHAT_STATES), 'the chat state passes through');
    // the laptop got bob's reply directly (bare JID, available, priority 0), and the receipt to the phone as a carbon
    await aliceLaptop.waitFor(messageWithBody('hello alice'), 'bob\'s reply on the laptop');
    const receivedCarbon = await aliceLaptop.waitFor((s) => s.getChild('received', CARBONS)?.getChild('forwarded', FORWARD)?.getChild('message')?.getChild('received', RECEIPTS) !== undefined,
      'the receipt as a received carbon');
    assert.equal(receivedCarbon.attrs.from, 'alice@localhost');

    const disco = await alicePhone.iq('get', xml('query', { xmlns: 'http://jabber.org/protocol/disco#info' }), 'localhost');
    const features = disco.getChild('query')!.getChildren('feature').map((f) => f.attrs.var);
    for (const feature of [CARBONS, RECEIPTS, SID]) assert.ok(features.includes(feature), `disco lists ${feature}`);
  });

  for (const [name, dedupeBy] of [['the same origin-id', 'origin-id'], ['the same id attribute, without origin-id', 'id']] as const) {
    test(`carol resends a message with ${name}: delivered, logged and archived once, with the original stanza id`, async () => {
      const carolPhone = await online('carol@localhost', 'phone');
      const carolTablet = await online('carol@localhost', 'tablet', 1);
      const dave = await online('dave@localhost', `desk-${dedupeBy}`, 1);
      await carolTablet.iq('set', xml('enable', { xmlns: CARBONS }));
      const text = `once only (${dedupeBy})`;
      const attempt = (n: number) => dedupeBy === 'origin-id'
        ? xml('message', { to: 'dave@localhost', type: 'chat', id: `try-${dedupeBy}-${n}` }, xml('body', {}, text), xml('origin-id', { xmlns: SID, id: `origin-${dedupeBy}` }))
        : xml('message', { to: 'dave@localhost', type: 'chat', id: `same-id-${dedupeBy}` }, xml('body', {}, text));

      await carolPhone.send(attempt(1));
      const first = await dave.waitFor(messageWithBody(text), 'the first attempt');
      const stanzaId = stanzaIdOf(first, 'dave@localhost')!;
      // The resend comes over the other gateway (as after a reconnect there), then a later message:
      // the chat has one order, so once the later one is in, a second copy would have come before it.
      await carolTablet.send(attempt(2));
      await carolPhone.send(attempt(3));
      const after = `after the resends (${dedupeBy})`;
      await carolPhone.send(xml('message', { to: 'dave@localhost', type: 'chat', id: `next-${dedupeBy}` }, xml('body', {}, after)));
      const later = await dave.waitFor(messageWithBody(after), 'the next message');
      await carolTablet.waitFor(carbon('sent', after), 'the carbon of the next message');

      assert.equal(dave.received.filter(messageWithBody(text)).length, 1, 'dave got it once');
      assert.equal(carolTablet.received.filter(carbon('sent', text)).length, 1, 'carol\'s tablet got one carbon (of the phone\'s first attempt)');
      assert.equal(carolPhone.received.filter((s) => s.attrs.type === 'error').length, 0, 'a resend is not an error');
      const carbonCopy = carolTablet.received.find(carbon('sent', text))!;
      assert.equal(stanzaIdOf(innerOf(carbonCopy, 'sent'), 'carol@localhost'), stanzaId, 'the sender side knows the original stanza id');

      const events = await logged((all) => all.some((e) => e.stanzaId === stanzaIdOf(later, 'dave@localhost')));
      assert.equal(events.filter((e) => e.body === text).length, 1, 'one MessageAccepted in the log');
      assert.equal(events.find((e) => e.body === text)!.stanzaId, stanzaId);
      const lastId = stanzaIdOf(later, 'dave@localhost')!;
      assert.equal(await archived('dave@localhost', stanzaId, lastId), 1, 'one row in dave\'s archive');
      assert.equal(await archived('carol@localhost', stanzaId, lastId), 1, 'one row in carol\'s archive');
    });
  }

  test('erin on gateway 1 and frank on gateway 2 exchange 1,000 messages each way; each receives all, in send order', async () => {
    const erin = await online('erin@localhost', 'a', 0);
    const frank = await online('frank@localhost', 'b', 1);
    const COUNT = 1_000;
    const send = async (from: TestXmppClient, to: string) => {
      for (let i = 0; i < COUNT; i++) await from.send(xml('message', { to, type: 'chat', id: `${from.bareJid}-${i}` }, xml('body', {}, `${i}`)));
    };
    const fromPeer = (peer: string) => (s: XmppElement) => s.is('message') && (s.attrs.from ?? '').startsWith(peer) && s.getChildText('body') !== null;
    await Promise.all([send(erin, 'frank@localhost'), send(frank, 'erin@localhost')]);
    await Promise.all([
      frank.waitFor((s) => fromPeer('erin@localhost')(s) && s.getChildText('body') === `${COUNT - 1}`, 'erin\'s last message', 45_000),
      erin.waitFor((s) => fromPeer('frank@localhost')(s) && s.getChildText('body') === `${COUNT - 1}`, 'frank\'s last message', 45_000),
    ]);
    const expected = Array.from({ length: COUNT }, (_, i) => `${i}`);
    assert.deepEqual(frank.received.filter(fromPeer('erin@localhost')).map((s) => s.getChildText('body')), expected);
    assert.deepEqual(erin.received.filter(fromPeer('frank@localhost')).map((s) => s.getChildText('body')), expected);
  });
});
