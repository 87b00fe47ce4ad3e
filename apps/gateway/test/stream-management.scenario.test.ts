import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import { decodeEvent, isEvent, MessageAccepted, topics, type Envelope } from '@hearth/contracts';
import { xml, type TestXmppClient, type XmppElement } from '@hearth/testing';
import { SmStream } from './support/sm-stream';
import type { RunningBroker } from '@hearth/testing';
import { PASSWORD, startStack, type Stack } from './support/stack';

const SID = 'urn:xmpp:sid:0';
const REQUEST_EVERY = 3;
const REQUEST_AFTER_MS = 400;

interface SessionPayload {
  sessionId: string;
  fullJid?: string;
  reason?: string;
  gateway: string;
}

describe('stream management (XEP-0198): acks, hibernation, resumption, session events', () => {
  let stack: Stack;
  const clients: TestXmppClient[] = [];
  const streams: SmStream[] = [];
  let restartedBroker: RunningBroker | undefined;

  const login = async (jid: string, gateway = 0) => {
    const stream = await SmStream.login(stack.gateways[gateway]!.ports.c2sTls, jid, PASSWORD);
    streams.push(stream);
    return stream;
  };
  const online = async (jid: string, resource: string) => {
    const client = await stack.connect(jid, { resource });
    clients.push(client);
    await client.send(xml('presence'));
    return client;
  };
  const chat = (to: string, body: string, id: string) =>
    xml('message', { to, type: 'chat', id }, xml('body', {}, body), xml('origin-id', { xmlns: SID, id }));
  const rawChat = (to: string, body: string, id: string) =>
    `<message to='${to}' type='chat' id='${id}'><body>${body}</body><origin-id xmlns='${SID}' id='${id}'/></message>`;
  const withBody = (body: string) => (s: XmppElement) => s.is('message') && s.getChildText('body') === body;

  before(async () => {
    stack = await startStack({
      users: ['alice@localhost', 'bob@localhost', 'carol@localhost', 'dave@localhost', 'erin@localhost', 'frank@localhost', 'gina@localhost', 'hank@localhost', 'ivy@localhost', 'jack@localhost'],
      gatewayEnv: { HEARTH_GATEWAY_SM_REQUEST_EVERY: String(REQUEST_EVERY), HEARTH_GATEWAY_SM_REQUEST_AFTER_MS: String(REQUEST_AFTER_MS) },
    });
  });
  after(async () => {
    for (const stream of streams) stream.drop();
    await Promise.all(clients.map((c) => c.stop()));
    await stack?.stop();
    await restartedBroker?.stop();
  });

  /** Events of `topic` from the start, read with an independent kafkajs consumer until `enough` holds. */
  async function readLog(topic: string, enough: (events: Envelope[]) => boolean): Promise<Envelope[]> {
    const kafka = new Kafka({ brokers: stack.broker.brokers, clientId: 'sm-test', logLevel: logLevel.NOTHING });
    const consumer = kafka.consumer({ groupId: `sm-test-${Date.now()}-${Math.random()}` });
    const events: Envelope[] = [];
    await consumer.connect();
    try {
      await consumer.subscribe({ topic, fromBeginning: true });
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${topic} never had the expected events; read: ${JSON.stringify(events.map((e) => e.type))}`)), 20_000);
        void consumer.run({
          eachMessage: async ({ message }) => {
            events.push(decodeEvent(message.value));
            if (enough(events)) {
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
  const sessionEvents = (sessionId: string, enough: (types: string[]) => boolean) =>
    readLog(topics.sessions, (events) => enough(events.filter((e) => (e.payload as SessionPayload).sessionId === sessionId).map((e) => e.type)))
      .then((events) => events.filter((e) => (e.payload as SessionPayload).sessionId === sessionId));

  test('alice enables stream management after binding; <r/> and <a/> count stanzas both ways', async () => {
    const alice = await login('alice@localhost');
    assert.match(alice.text, /<sm xmlns="urn:xmpp:sm:3"\/>/, 'offered beside bind after SASL');
    await alice.send("<enable xmlns='urn:xmpp:sm:3'/>");
    await alice.waitSince(0, /<failed xmlns="urn:xmpp:sm:3"><unexpected-request/);
    await alice.bind('desk');

    const enabled = await alice.enable("resume='true' max='600'");
    assert.equal(enabled.resume, 'true');
    assert.equal(enabled.max, '300', 'the window is at most HEARTH_GATEWAY_SM_RESUME_SECONDS (default 300)');
    assert.equal(await alice.requestAck(), 0, 'nothing handled yet');

    // Two pings: each answered (a stanza to us) and each handled (a stanza from us).
    const mark = alice.text.length;
    await alice.send("<iq type='get' id='p1'><ping xmlns='urn:xmpp:ping'/></iq><iq type='get' id='p2'><ping xmlns='urn:xmpp:ping'/></iq>");
    assert.equal(await alice.requestAck(), 2, 'alice handled 2 stanzas');
    await alice.waitSince(mark, /id="p2"/);
    assert.equal(alice.handled(), 2);

    // The server asks by itself once REQUEST_EVERY stanzas are unacknowledged.
    assert.equal(alice.count(/<r xmlns="urn:xmpp:sm:3"\/>/g, mark), 0);
    await alice.send("<iq type='get' id='p3'><ping xmlns='urn:xmpp:ping'/></iq>");
    await alice.waitSince(mark, /<r xmlns="urn:xmpp:sm:3"\/>/);
    await alice.send(`<a xmlns='urn:xmpp:sm:3' h='${alice.handled()}'/>`);

    // … and after REQUEST_AFTER_MS for a single unacknowledged stanza.
    const single = alice.text.length;
    await alice.send("<iq type='get' id='p4'><ping xmlns='urn:xmpp:ping'/></iq>");
    await alice.waitSince(single, /id="p4"[\s\S]*<r xmlns="urn:xmpp:sm:3"\/>/, REQUEST_AFTER_MS + 3_000);
    await alice.send(`<a xmlns='urn:xmpp:sm:3' h='${alice.handled()}'/>`);
    assert.equal(await alice.requestAck(), 4);

    // Acknowledging more than was sent ends the stream (§4, handled-count-too-high).
    await alice.send(`<a xmlns='urn:xmpp:sm:3' h='${alice.handled() + 5}'/>`);
    await alice.waitSince(0, /<undefined-condition xmlns="urn:ietf:params:xml:ns:xmpp-streams"\/><text[^>]*>handled-count-too-high/);
  });

  test('bob drops off the network; alice\'s messages wait for him and arrive exactly once after he resumes; his own in-flight messages are not duplicated', async () => {
    const alice = await online('alice@localhost', 'laptop');
    // @xmpp/client, a real client library, enables stream management by itself when offered.
    const sm = (alice.raw as unknown as { streamManagement: { enabled: boolean; id: string } }).streamManagement;
    for (const deadline = Date.now() + 5_000; !sm.enabled && Date.now() < deadline;) await new Promise((r) => setTimeout(r, 20));
    assert.ok(sm.enabled && sm.id, '@xmpp/client has stream management enabled with a resumption id');
    const bob = await login('bob@localhost');
    await bob.bind('phone');
    const { id } = await bob.enable();
    await bob.send('<presence/>');

    await alice.send(chat('bob@localhost/phone', 'before the tunnel', 'a1'));
    await bob.waitSince(0, /before the tunnel/);

    // Bob sends one message and sees it handled, then another, and loses the network at once:
    // he cannot know whether the second reached the server.
    await bob.send(rawChat('alice@localhost', 'b1', 'b1'));
    await alice.waitFor(withBody('b1'), 'b1');
    await bob.send(rawChat('alice@localhost', 'b2', 'b2'));
    const bobHandled = bob.handled();
    bob.drop();

    await alice.send(chat('bob@localhost/phone', 'while away 1', 'a2'));
    await alice.send(chat('bob@localhost', 'while away 2', 'a3'));

    const back = await login('bob@localhost');
    const resumed = await back.resume(id, bobHandled);
    assert.ok(resumed.resumed, 'bob resumes his session');
    // §5: the server's h says what it handled of bob's; he resends only what is beyond it.
    const handledByServer = resumed.h;
    assert.ok(handledByServer === 2 || handledByServer === 3, `the server handled presence, b1 and maybe b2 (h=${handledByServer})`);
    if (handledByServer === 2) await back.send(rawChat('alice@localhost', 'b2', 'b2'));

    await alice.send(chat('bob@localhost/phone', 'after the tunnel', 'a4'));
    await back.waitSince(0, /after the tunnel/);
    await alice.waitFor(withBody('b2'), 'b2');
    assert.equal(back.count(/while away 1/g), 1, 'a2 redelivered once');
    assert.equal(back.count(/while away 2/g), 1, 'a3 redelivered once');
    assert.equal(back.count(/before the tunnel/g), 0, 'a1 was acknowledged by the resumption h, so not sent again');
    assert.ok(back.text.indexOf('while away 2') < back.text.indexOf('after the tunnel'), 'queued messages come first, in order');
    assert.equal(alice.received.filter(withBody('b1')).length, 1);
    assert.equal(alice.received.filter(withBody('b2')).length, 1);

    // Session events: one session from opening to its clean close.
    await back.close();
    const events = await sessionEvents(bob.streamId, (types) => types.includes('SessionClosed'));
    assert.deepEqual(events.map((e) => e.type), ['SessionOpened', 'SessionBound', 'SessionHibernated', 'SessionResumed', 'SessionClosed']);
    assert.equal((events[4]!.payload as SessionPayload).reason, 'client-closed');
    assert.ok(events.every((e) => e.key === 'bob@localhost' && (e.payload as SessionPayload).fullJid === 'bob@localhost/phone'));
    assert.equal(new Set(events.map((e) => (e.payload as SessionPayload).gateway)).size, 1, 'one gateway instance named in all');
  });

  test('carol\'s resumption after her window fails with item-not-found, and so does an id this gateway never issued; she binds anew', async () => {
    const carol = await login('carol@localhost');
    await carol.bind('tablet');
    const { id, max } = await carol.enable("resume='true' max='1'");
    assert.equal(max, '1', 'the client may ask for a shorter window');
    carol.drop();
    const events = await sessionEvents(carol.streamId, (types) => types.includes('SessionClosed'));
    assert.deepEqual(events.map((e) => e.type), ['SessionOpened', 'SessionBound', 'SessionHibernated', 'SessionClosed']);
    assert.equal((events[3]!.payload as SessionPayload).reason, 'resumption-expired');

    const again = await login('carol@localhost');
    assert.deepEqual(await again.resume(id, 0), { resumed: false, condition: 'item-not-found' });
    assert.deepEqual(await again.resume('issued-by-another-gateway', 0), { resumed: false, condition: 'item-not-found' });
    assert.equal(await again.bind('tablet'), 'carol@localhost/tablet');
  });

  test('a new login binding the same full JID replaces dave\'s hibernated session', async () => {
    const dave = await login('dave@localhost');
    await dave.bind('phone');
    const { id } = await dave.enable();
    dave.drop();
    await sessionEvents(dave.streamId, (types) => types.includes('SessionHibernated'));

    const fresh = await login('dave@localhost');
    assert.equal(await fresh.bind('phone'), 'dave@localhost/phone');
    const events = await sessionEvents(dave.streamId, (types) => types.includes('SessionClosed'));
    assert.equal((events.at(-1)!.payload as SessionPayload).reason, 'replaced');
    const late = await login('dave@localhost');
    assert.deepEqual(await late.resume(id, 0), { resumed: false, condition: 'item-not-found' });
  });

  test('deleting jack\'s account ends his hibernated session at once: closed (kicked), never resumable', async () => {
    const jack = await login('jack@localhost');
    await jack.bind('phone');
    const { id } = await jack.enable();
    jack.drop();
    await sessionEvents(jack.streamId, (types) => types.includes('SessionHibernated'));

    const { status } = await stack.gateways[0]!.admin('DELETE', '/admin/users/jack@localhost');
    assert.equal(status, 204);
    const events = await sessionEvents(jack.streamId, (types) => types.includes('SessionClosed'));
    assert.equal((events.at(-1)!.payload as SessionPayload).reason, 'kicked');
    await stack.gateways[0]!.createUser('jack@localhost', PASSWORD); // the name is free again; the old session is not
    const late = await login('jack@localhost');
    assert.deepEqual(await late.resume(id, 0), { resumed: false, condition: 'item-not-found' });
  });

  test('on SIGTERM the gateway records SessionClosed(shutdown) for gina\'s live and hank\'s hibernated session', async () => {
    const leaving = await stack.addGateway();
    const index = stack.gateways.indexOf(leaving);
    const gina = await login('gina@localhost', index);
    await gina.bind('desk');
    await gina.enable();
    const hank = await login('hank@localhost', index);
    await hank.bind('phone');
    await hank.enable();
    hank.drop();
    await sessionEvents(hank.streamId, (types) => types.includes('SessionHibernated'));

    assert.equal(await leaving.stop(), 0);
    const closedBy = async (stream: SmStream) => {
      const events = await sessionEvents(stream.streamId, (types) => types.includes('SessionClosed'));
      return (events.at(-1)!.payload as SessionPayload).reason;
    };
    assert.equal(await closedBy(gina), 'shutdown');
    assert.equal(await closedBy(hank), 'shutdown');
  });

  test('a gateway killed with SIGKILL right after acknowledging erin\'s message still has it in the log', async () => {
    const doomed = await stack.addGateway();
    const erin = await login('erin@localhost', stack.gateways.indexOf(doomed));
    await erin.bind('phone');
    await erin.enable();
    await erin.send(rawChat('frank@localhost', 'last words', 'k1'));
    assert.equal(await erin.requestAck(), 1, 'the gateway acknowledged the message');
    process.kill(doomed.pid, 'SIGKILL');

    const events = await readLog(topics.messages, (all) => all.some((e) => isEvent(e, MessageAccepted) && e.payload.sender === 'erin@localhost'));
    const accepted = events.filter((e): e is Envelope<'MessageAccepted', { sender: string; recipient: string }> => isEvent(e, MessageAccepted) && e.payload.sender === 'erin@localhost');
    assert.equal(accepted.length, 1);
    assert.equal(accepted[0]!.payload.recipient, 'frank@localhost');
  });

  // Last: it takes the broker away from the stack's gateway.
  test('ivy logs in while the broker is down; her session events are appended once it is back', async () => {
    await stack.broker.stop();
    const started = Date.now();
    const ivy = await login('ivy@localhost');
    assert.equal(await ivy.bind('phone'), 'ivy@localhost/phone');
    assert.ok(Date.now() - started < 5_000, 'the login did not wait for the log');
    restartedBroker = await stack.broker.restart();
    const events = await sessionEvents(ivy.streamId, (types) => types.includes('SessionBound'));
    assert.deepEqual(events.map((e) => e.type), ['SessionOpened', 'SessionBound']);
  });
});
