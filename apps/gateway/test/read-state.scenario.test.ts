/**
 * Issue 7 through the real protocol: one read pointer per user and chat, moved from any device by
 * XEP-0333 displayed markers or XEP-0490 MDS publishes, and every device of the user follows
 * (MDS notifications for `+notify` clients, urn:hearth:unread:0 counts for clients that enabled
 * them). Real broker, PostgreSQL, archive and read-state services and a gateway process.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { protoPath } from '@hearth/contracts';
import { xml, type TestXmppClient, type XmppElement } from '@hearth/testing';
import { startStack, type Stack } from './support/stack';

const CHAT_MARKERS = 'urn:xmpp:chat-markers:0';
const MDS = 'urn:xmpp:mds:displayed:0';
const SID = 'urn:xmpp:sid:0';
const UNREAD = 'urn:hearth:unread:0';
const PUBSUB = 'http://jabber.org/protocol/pubsub';
const PUBSUB_EVENT = 'http://jabber.org/protocol/pubsub#event';
const DISCO_INFO = 'http://jabber.org/protocol/disco#info';
const CAPS = 'http://jabber.org/protocol/caps';
const CAPS_NODE = 'https://hearth.example/test-client';
const WAIT_MS = 15_000;

const [alice, bob, carol] = ['alice@localhost', 'bob@localhost', 'carol@localhost'];
const concurrencySenders = ['dave@localhost', 'erin@localhost', 'frank@localhost'];
const gina = 'gina@localhost';

interface Sent {
  stanzaId: string;
  /** The id the sender's client gave the message (what a XEP-0333 marker names). */
  clientId: string;
}

interface IqCallee {
  get(ns: string, name: string, handler: () => XmppElement | Promise<XmppElement>): void;
}

describe('read markers: every device of a user follows one read pointer per chat', { timeout: 180_000 }, () => {
  let stack: Stack;
  const clients: TestXmppClient[] = [];
  let sequence = 0;

  before(async () => {
    stack = await startStack({
      services: ['archive', 'read-state'],
      users: [alice, bob, carol, ...concurrencySenders, gina],
      serviceEnv: { 'read-state': { HEARTH_READ_STATE_CATCH_UP_TIMEOUT_MS: '10000' } },
    });
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.stop()));
    await stack?.stop();
  });

  /** Each user's sending client (its `phone`), connected on first use. */
  const senders = new Map<string, Promise<TestXmppClient>>();
  function senderOf(jid: string): Promise<TestXmppClient> {
    let client = senders.get(jid);
    if (!client) {
      client = stack.connect(jid, { resource: 'phone' }).then(async (c) => {
        clients.push(c);
        await c.send(xml('presence'));
        return c;
      });
      senders.set(jid, client);
    }
    return client;
  }
  /** Devices of each user that are online, to read the stanza id a message got from one of them. */
  const online = new Map<string, Set<TestXmppClient>>();

  /**
   * `from` sends `to` a markable chat message over XMPP; one of `to`'s online devices receives it
   * with the stanza id its server stamped (XEP-0359 `<stanza-id by=to/>`).
   */
  async function send(from: string, to: string, body: string): Promise<Sent> {
    const clientId = `${from.split('@')[0]}-${++sequence}`;
    const receiver = [...(online.get(to) ?? [])][0];
    assert.ok(receiver, `${to} has a device online to receive the message`);
    await (await senderOf(from)).send(xml('message', { to, type: 'chat', id: clientId }, xml('body', {}, body), xml('markable', { xmlns: CHAT_MARKERS })));
    const received = await receiver.waitFor((s) => s.is('message') && s.attrs.id === clientId && s.getChildText('body') === body, `${from}'s message ${clientId}`, WAIT_MS);
    const stanzaId = received.getChildren('stanza-id', SID).find((e) => e.attrs.by === to)?.attrs.id;
    assert.ok(stanzaId, `the message carries a stanza id by ${to}: ${received.toString()}`);
    return { stanzaId, clientId };
  }

  async function sendMany(from: string, to: string, count: number): Promise<Sent[]> {
    const sent: Sent[] = [];
    for (let i = 0; i < count; i++) sent.push(await send(from, to, `${from.split('@')[0]} says ${i + 1}`));
    return sent;
  }

  /**
   * A device: logs in, advertises XEP-0115 caps with `urn:xmpp:mds:displayed:0+notify` (as
   * Conversations, Gajim and Dino do), answers the server's disco#info about them, and enables
   * urn:hearth:unread:0 count notifications.
   */
  async function device(jid: string, resource: string): Promise<TestXmppClient> {
    const client = await stack.connect(jid, { resource });
    clients.push(client);
    let answered!: () => void;
    const capsAnswered = new Promise<void>((resolve) => (answered = resolve));
    (client.raw as unknown as { iqCallee: IqCallee }).iqCallee.get(DISCO_INFO, 'query', () => {
      setImmediate(answered); // the reply is written before anything the test sends next
      return xml('query', { xmlns: DISCO_INFO, node: `${CAPS_NODE}#v1` }, xml('identity', { category: 'client', type: 'phone' }),
        ...[DISCO_INFO, CHAT_MARKERS, MDS, `${MDS}+notify`].map((v) => xml('feature', { var: v })));
    });
    await client.send(xml('presence', {}, xml('c', { xmlns: CAPS, hash: 'sha-1', node: CAPS_NODE, ver: 'v1' })));
    await capsAnswered;
    await client.iq('set', xml('enable', { xmlns: UNREAD }));
    const own = online.get(jid) ?? new Set();
    online.set(jid, own.add(client));
    const stop = client.stop.bind(client);
    client.stop = async () => {
      own.delete(client);
      await stop();
    };
    return client;
  }

  async function unreadOf(client: TestXmppClient, timeoutMs?: number): Promise<{ total: number; chats: Map<string, { count: number; displayed?: string }> }> {
    const result = await client.iq('get', xml('unread', { xmlns: UNREAD }), undefined, timeoutMs);
    const unread = result.getChild('unread', UNREAD)!;
    return {
      total: Number(unread.attrs.total),
      chats: new Map(unread.getChildren('chat').map((c) => [c.attrs.jid!, { count: Number(c.attrs.count), displayed: c.attrs.displayed }])),
    };
  }

  /** The urn:hearth:unread:0 headline saying the user's total is `total` and the chat with `peer` has `count`. */
  const countsNotification = (peer: string, count: number, total: number) => (s: XmppElement) => {
    const unread = s.is('message') && s.attrs.type === 'headline' ? s.getChild('unread', UNREAD) : undefined;
    const chat = unread?.getChildren('chat').find((c) => c.attrs.jid === peer);
    return !!unread && unread.attrs.total === String(total) && chat?.attrs.count === String(count);
  };

  /** The XEP-0490 notification of the MDS node's item for `peer` pointing at `stanzaId`. */
  const mdsNotification = (owner: string, peer: string, stanzaId: string) => (s: XmppElement) => {
    const item = s.is('message') ? s.getChild('event', PUBSUB_EVENT)?.getChild('items')?.getChild('item') : undefined;
    const sid = item?.getChild('displayed', MDS)?.getChild('stanza-id', SID);
    return s.attrs.from === owner && s.getChild('event', PUBSUB_EVENT)?.getChild('items')?.attrs.node === MDS
      && item?.attrs.id === peer && sid?.attrs.id === stanzaId && sid.attrs.by === owner;
  };

  const displayed = (to: string, id: string, messageId = `marker-${randomUUID()}`) =>
    xml('message', { to, type: 'chat', id: messageId }, xml('displayed', { xmlns: CHAT_MARKERS, id }));

  const mdsPublish = (peer: string, by: string, stanzaId: string, accessModel = 'whitelist') =>
    xml('pubsub', { xmlns: PUBSUB },
      xml('publish', { node: MDS }, xml('item', { id: peer }, xml('displayed', { xmlns: MDS }, xml('stanza-id', { xmlns: SID, by, id: stanzaId })))),
      xml('publish-options', {}, xml('x', { xmlns: 'jabber:x:data', type: 'submit' },
        ...[['FORM_TYPE', 'http://jabber.org/protocol/pubsub#publish-options'], ['pubsub#persist_items', 'true'], ['pubsub#max_items', 'max'],
          ['pubsub#send_last_published_item', 'never'], ['pubsub#access_model', accessModel]]
          .map(([name, value]) => xml('field', { var: name }, xml('value', {}, value))))));

  const stanzaError = async (request: Promise<unknown>): Promise<string | undefined> => {
    try {
      await request;
    } catch (error) {
      return ((error as { condition?: string }).condition);
    }
    return undefined;
  };

  test('bob reads on the web and logs out; new messages: his phone says m, and the other way round', async () => {
    const aliceWeb = await stack.connect(alice, { resource: 'web' });
    clients.push(aliceWeb);
    await aliceWeb.send(xml('presence'));
    let web = await device(bob, 'web');
    const phone = await device(bob, 'phone');

    // bob has n = 3 unread from alice.
    const first = await sendMany(alice, bob, 3);
    await phone.waitFor(countsNotification(alice, 3, 3), 'the count 3 on the phone', WAIT_MS);
    await web.waitFor(countsNotification(alice, 3, 3), 'the count 3 on the web', WAIT_MS);
    assert.equal((await unreadOf(web)).chats.get(alice)?.count, 3);

    // His web session displays the last one (by its stanza id, as a web client that synced with MAM knows it).
    await web.send(displayed(alice, first[2]!.stanzaId, 'web-marker-1'));
    const marker = await aliceWeb.waitFor((s) => s.is('message') && s.getChild('displayed', CHAT_MARKERS)?.attrs.id === first[2]!.stanzaId, 'bob\'s marker', WAIT_MS);
    assert.equal(marker.attrs.id, 'web-marker-1', 'alice gets the marker itself: her client shows "read"');
    // Both web and phone get the new counts (0) and the MDS item.
    await phone.waitFor(countsNotification(alice, 0, 0), 'the count 0 on the phone', WAIT_MS);
    await web.waitFor(countsNotification(alice, 0, 0), 'the count 0 on the web', WAIT_MS);
    await phone.waitFor(mdsNotification(bob, alice, first[2]!.stanzaId), 'the MDS notification on the phone', WAIT_MS);
    await web.waitFor(mdsNotification(bob, alice, first[2]!.stanzaId), 'the MDS notification on the web', WAIT_MS);

    // He logs out of the web; m = 2 new arrive: the phone's notification and its query both say 2.
    await web.stop();
    phone.clearReceived(); // the first batch passed through count 2 on its way to 3
    const second = await sendMany(alice, bob, 2);
    await phone.waitFor(countsNotification(alice, 2, 2), 'the count 2 on the phone', WAIT_MS);
    const onPhone = await unreadOf(phone);
    assert.equal(onPhone.total, 2);
    assert.deepEqual(onPhone.chats.get(alice), { count: 2, displayed: first[2]!.stanzaId });

    // The other way round: the web comes back, the phone displays the last one, both see 0, the
    // phone logs out, m = 4 arrive, the web's notification and query say 4. The phone's marker
    // names the message the way XEP-0333 §4 says: by the id alice's client gave it.
    web = await device(bob, 'web2');
    await phone.send(displayed(alice, second[1]!.clientId));
    await web.waitFor(countsNotification(alice, 0, 0), 'the count 0 on the web', WAIT_MS);
    await phone.waitFor((s) => countsNotification(alice, 0, 0)(s) && s.getChild('unread', UNREAD)!.getChild('chat')!.attrs.displayed === second[1]!.stanzaId,
      'the count 0 on the phone, pointer at the last message', WAIT_MS);
    await web.waitFor(mdsNotification(bob, alice, second[1]!.stanzaId), 'the MDS notification on the web', WAIT_MS);
    await phone.stop();
    const third = await sendMany(alice, bob, 4);
    await web.waitFor(countsNotification(alice, 4, 4), 'the count 4 on the web', WAIT_MS);
    const onWeb = await unreadOf(web);
    assert.equal(onWeb.total, 4);
    assert.deepEqual(onWeb.chats.get(alice), { count: 4, displayed: second[1]!.stanzaId });

    // An old marker does not move the pointer back (it is still a valid marker: alice gets it).
    await web.send(displayed(alice, first[0]!.stanzaId, 'old-marker'));
    await aliceWeb.waitFor((s) => s.is('message') && s.attrs.id === 'old-marker', 'the old marker', WAIT_MS);
    assert.deepEqual((await unreadOf(web)).chats.get(alice), { count: 4, displayed: second[1]!.stanzaId });

    // A marker for a message of another chat (carol's) is refused and not delivered.
    const fromCarol = await send(carol, bob, 'hi bob, carol here');
    await web.waitFor(countsNotification(carol, 1, 5), 'carol\'s message counted', WAIT_MS);
    await web.send(displayed(alice, fromCarol.stanzaId, 'wrong-chat-marker'));
    const refused = await web.waitFor((s) => s.is('message') && s.attrs.type === 'error' && s.attrs.id === 'wrong-chat-marker', 'the error', WAIT_MS);
    assert.ok(refused.getChild('error')?.getChild('item-not-found', 'urn:ietf:params:xml:ns:xmpp-stanzas'), refused.toString());
    await web.send(displayed(alice, third[3]!.stanzaId, 'next-marker'));
    await aliceWeb.waitFor((s) => s.is('message') && s.attrs.id === 'next-marker', 'the next marker', WAIT_MS);
    assert.ok(!aliceWeb.received.some((s) => s.attrs.id === 'wrong-chat-marker'), 'the refused marker never reached alice');
    assert.deepEqual((await unreadOf(web)).chats.get(alice), { count: 0, displayed: third[3]!.stanzaId });
  });

  test('MDS over PEP: bob\'s devices publish and retrieve urn:xmpp:mds:displayed:0; other nodes and other users are refused', async () => {
    const tablet = await device(bob, 'tablet');
    const laptop = await device(bob, 'laptop');
    const fromCarol = await send(carol, bob, 'are you there?');
    await tablet.waitFor(countsNotification(carol, 2, 2), 'carol\'s second message counted', WAIT_MS);

    // XEP-0490 §4.2: the tablet flags the chat with carol as displayed; the laptop follows.
    const published = await tablet.iq('set', mdsPublish(carol, bob, fromCarol.stanzaId));
    assert.equal(published.getChild('pubsub', PUBSUB)?.getChild('publish')?.getChild('item')?.attrs.id, carol);
    await laptop.waitFor(mdsNotification(bob, carol, fromCarol.stanzaId), 'the MDS notification on the laptop', WAIT_MS);
    await laptop.waitFor(countsNotification(carol, 0, 0), 'the count 0 on the laptop', WAIT_MS);

    // §4.4 catching up: all items, or the ones asked for.
    const all = await laptop.iq('get', xml('pubsub', { xmlns: PUBSUB }, xml('items', { node: MDS })));
    const items = all.getChild('pubsub', PUBSUB)!.getChild('items')!.getChildren('item');
    assert.deepEqual(items.map((i) => i.attrs.id).sort(), [alice, carol]);
    const carolItem = items.find((i) => i.attrs.id === carol)!.getChild('displayed', MDS)!.getChild('stanza-id', SID)!;
    assert.deepEqual({ id: carolItem.attrs.id, by: carolItem.attrs.by }, { id: fromCarol.stanzaId, by: bob });
    const one = await laptop.iq('get', xml('pubsub', { xmlns: PUBSUB }, xml('items', { node: MDS }, xml('item', { id: alice }))));
    assert.deepEqual(one.getChild('pubsub', PUBSUB)!.getChild('items')!.getChildren('item').map((i) => i.attrs.id), [alice]);

    // Refusals: a stanza id of another chat, someone else's `by`, options the node cannot meet, other nodes, other users' node.
    const alicesMessage = await send(alice, bob, 'one more');
    await laptop.waitFor(countsNotification(alice, 1, 1), 'alice\'s message counted', WAIT_MS);
    assert.equal(await stanzaError(tablet.iq('set', mdsPublish(carol, bob, alicesMessage.stanzaId))), 'item-not-found');
    assert.equal(await stanzaError(tablet.iq('set', mdsPublish(alice, alice, alicesMessage.stanzaId))), 'bad-request');
    assert.equal(await stanzaError(tablet.iq('set', mdsPublish(alice, bob, alicesMessage.stanzaId, 'open'))), 'conflict');
    assert.equal(await stanzaError(tablet.iq('get', xml('pubsub', { xmlns: PUBSUB }, xml('items', { node: 'urn:xmpp:avatar:data' })))), 'feature-not-implemented');
    assert.equal(await stanzaError(tablet.iq('get', xml('pubsub', { xmlns: PUBSUB }, xml('items', { node: MDS })), alice)), 'not-allowed');
    assert.equal(await stanzaError(tablet.iq('get', xml('unread', { xmlns: UNREAD }), alice)), 'forbidden');
    assert.equal((await unreadOf(tablet)).chats.get(alice)?.count, 1, 'no refused publish moved anything');

    // §4.5.2 server assist: one message carries the marker for alice and the MDS update; the MDS part is stripped.
    const aliceWeb = await stack.connect(alice, { resource: 'assist' });
    clients.push(aliceWeb);
    await aliceWeb.send(xml('presence'));
    await tablet.send(xml('message', { to: alice, type: 'chat', id: 'assisted' },
      xml('displayed', { xmlns: CHAT_MARKERS, id: alicesMessage.clientId }),
      xml('displayed', { xmlns: MDS }, xml('stanza-id', { xmlns: SID, by: bob, id: alicesMessage.stanzaId }))));
    const assisted = await aliceWeb.waitFor((s) => s.is('message') && s.attrs.id === 'assisted', 'the assisted marker', WAIT_MS);
    assert.equal(assisted.getChild('displayed', MDS), undefined, 'alice never sees bob\'s stanza id');
    await laptop.waitFor(mdsNotification(bob, alice, alicesMessage.stanzaId), 'the MDS notification of the assisted update', WAIT_MS);
  });

  test('3 senders and 2 reading devices interleaving: the final counts equal a count computed from the archive', async () => {
    const MESSAGES_PER_SENDER = 25;
    const phone = await device(gina, 'phone');
    const web = await device(gina, 'web');
    const received = new Map<string, Sent[]>(concurrencySenders.map((s) => [s, []]));
    const marked = new Map<string, Set<string>>(concurrencySenders.map((s) => [s, new Set()]));
    let sendersDone = false;
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);

    const sender = async (from: string) => {
      for (let i = 0; i < MESSAGES_PER_SENDER; i++) {
        received.get(from)!.push(await send(from, gina, `${from} #${i}`));
        await new Promise((resolve) => setTimeout(resolve, random() * 40));
      }
    };
    // Each device marks a random recent message of a random chat as displayed: XEP-0333 markers
    // from the phone, MDS publishes from the web. Some land behind the pointer (no change).
    const reader = async (client: TestXmppClient, how: 'marker' | 'mds') => {
      while (!sendersDone) {
        const peer = concurrencySenders[Math.floor(random() * concurrencySenders.length)]!;
        const list = received.get(peer)!;
        if (list.length === 0) {
          await new Promise((resolve) => setTimeout(resolve, 10));
          continue;
        }
        const target = list[Math.max(0, list.length - 1 - Math.floor(random() * 3))]!;
        marked.get(peer)!.add(target.stanzaId);
        if (how === 'mds') await client.iq('set', mdsPublish(peer, gina, target.stanzaId), undefined, WAIT_MS);
        else await client.send(displayed(peer, random() < 0.5 ? target.stanzaId : target.clientId));
        await new Promise((resolve) => setTimeout(resolve, random() * 30)); // a reader, not a flood
      }
      // A round trip, so every marker sent before it was applied (the gateway handles a session's stanzas in order).
      await unreadOf(client, WAIT_MS);
    };
    const readers = Promise.all([reader(phone, 'marker'), reader(web, 'mds')]);
    await Promise.all(concurrencySenders.map(sender));
    sendersDone = true;
    await readers;
    // Two more from each sender after the devices stopped reading: nothing may end at zero by accident.
    for (const from of concurrencySenders) for (let i = 0; i < 2; i++) received.get(from)!.push(await send(from, gina, `${from} late #${i}`));

    // Independently: the archive's messages of each chat, and each chat's pointer from the MDS items.
    const archive = archiveClient(`127.0.0.1:${stack.services.archive!.grpcPort}`);
    try {
      const expected = new Map<string, number>();
      for (const peer of concurrencySenders) {
        let archived = 0;
        const messages = await until(async () => {
          const page = await archive.query(gina, peer);
          archived = page.filter((m) => fromPeerWithBody(m, peer)).length;
          return archived === MESSAGES_PER_SENDER + 2 ? page : undefined;
        }, `the archive to hold every message from ${peer}`).catch((error: Error) => assert.fail(`${error.message}: it has ${archived}`));
        const items = await web.iq('get', xml('pubsub', { xmlns: PUBSUB }, xml('items', { node: MDS }, xml('item', { id: peer }))));
        const pointer = items.getChild('pubsub', PUBSUB)!.getChild('items')!.getChild('item')?.getChild('displayed', MDS)?.getChild('stanza-id', SID)?.attrs.id;
        const at = messages.findIndex((m) => m.archive_id === pointer);
        assert.ok(pointer && at >= 0, `the pointer of ${peer} is a message of that chat`);
        const furthestMarked = Math.max(...[...marked.get(peer)!].map((id) => messages.findIndex((m) => m.archive_id === id)));
        assert.equal(at, furthestMarked, `the pointer of ${peer} is the furthest message a device marked: no move lost, none went back`);
        expected.set(peer, messages.slice(at + 1).filter((m) => fromPeerWithBody(m, peer)).length);
      }
      const expectedTotal = [...expected.values()].reduce((a, b) => a + b, 0);
      assert.ok([...expected.values()].every((n) => n >= 2), `every chat has unread messages: ${JSON.stringify([...expected])}`);
      const countsNow = async () => {
        const counts = await unreadOf(phone);
        return { total: counts.total, chats: Object.fromEntries(concurrencySenders.map((p) => [p, counts.chats.get(p)?.count ?? 0])) };
      };
      const wanted = { total: expectedTotal, chats: Object.fromEntries(expected) };
      // read-state may still be applying the last messages when the archive has them all.
      await until(async () => (JSON.stringify(await countsNow()) === JSON.stringify(wanted) ? true : undefined), 'the counts to settle').catch(() => undefined);
      assert.deepEqual(await countsNow(), wanted);
      // Both devices' latest count notification says the same total.
      const lastTotal = (client: TestXmppClient) => client.received.filter((s) => s.is('message') && s.getChild('unread', UNREAD)).at(-1)?.getChild('unread', UNREAD)?.attrs.total;
      for (const client of [phone, web]) {
        await until(async () => (lastTotal(client) === String(expectedTotal) ? true : undefined), `${client.jid}'s last notification to say ${expectedTotal}`)
          .catch(() => assert.equal(lastTotal(client), String(expectedTotal), `${client.jid}'s last notification`));
      }
    } finally {
      archive.close();
    }
  });
});

/** A countable message of `peer` (markers, chat states and gina's own messages are archived too). */
function fromPeerWithBody(message: ArchivedMessage, peer: string): boolean {
  return new RegExp(`from=["']${peer.replace(/[.]/g, '\\.')}/`).test(message.stanza) && /<body[ >]/.test(message.stanza);
}

interface ArchivedMessage {
  archive_id: string;
  stanza: string;
}

/** The archive's own gRPC API (libs/contracts/proto/archive.proto), as an independent source of truth. */
function archiveClient(address: string): { query(owner: string, peer: string): Promise<ArchivedMessage[]>; close(): void } {
  const definition = protoLoader.loadSync(protoPath('archive'), { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true });
  const Archive = (grpc.loadPackageDefinition(definition) as unknown as { hearth: { archive: { Archive: grpc.ServiceClientConstructor } } }).hearth.archive.Archive;
  const client = new Archive(address, grpc.credentials.createInsecure());
  return {
    query: (owner, peer) => new Promise((resolve, reject) => {
      (client as unknown as { Query: (r: object, cb: (e: Error | null, r?: { messages: ArchivedMessage[] }) => void) => void })
        .Query({ requester: owner, owner, with: peer, rsm: { max: 1000, has_max: true } }, (error, reply) => (error ? reject(error) : resolve(reply!.messages)));
    }),
    close: () => client.close(),
  };
}

async function until<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = WAIT_MS): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
