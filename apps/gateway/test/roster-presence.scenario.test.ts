import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { connectXmpp, xml, type TestXmppClient, type XmppElement } from '@hearth/testing';
import type { GatewayProcess } from './support/gateway-process';
import { startStack, type Stack } from './support/stack';

const ROSTER = 'jabber:iq:roster';
const presenceFrom = (from: string, type?: string) => (s: XmppElement) =>
  s.is('presence') && (s.attrs.from ?? '').startsWith(from) && s.attrs.type === type;
const rosterPush = (jid: string, subscription: string) => (s: XmppElement) =>
  s.is('iq') && s.attrs.type === 'set' && s.getChild('query', ROSTER)?.getChild('item')?.attrs.jid === jid &&
  s.getChild('query', ROSTER)?.getChild('item')?.attrs.subscription === subscription;

describe('roster and presence between local users (RFC 6121)', () => {
  // Messages go through the log since issue #5, so the gateway runs on a stack (broker, database).
  let stack: Stack;
  let gateway: GatewayProcess;
  const clients: TestXmppClient[] = [];
  const login = async (username: string, resource: string, transport: 'tcp' | 'ws' = 'tcp') => {
    const service = transport === 'tcp' ? `xmpp://127.0.0.1:${gateway.ports.c2s}` : `ws://127.0.0.1:${gateway.ports.http}/xmpp-websocket`;
    const client = await connectXmpp({ service, domain: 'localhost', username, password: `${username}-password`, mechanism: 'SCRAM-SHA-256', resource });
    clients.push(client);
    await client.iq('get', xml('query', { xmlns: ROSTER })); // become an interested resource (§2.1.6)
    return client;
  };

  before(async () => {
    stack = await startStack();
    gateway = stack.gateways[0]!;
    for (const user of ['alice', 'bob', 'carol']) await gateway.createUser(`${user}@localhost`, `${user}-password`);
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.stop()));
    await stack?.stop();
  });

  test('alice adds bob to her roster; bob approves; each sees the other come online and go offline', async () => {
    const alice = await login('alice', 'phone');
    const bob = await login('bob', 'laptop', 'ws');
    await alice.send(xml('presence'));
    await bob.send(xml('presence'));

    // alice puts bob on her roster and asks for his presence
    await alice.iq('set', xml('query', { xmlns: ROSTER }, xml('item', { jid: 'bob@localhost', name: 'Bob' }, xml('group', {}, 'Friends'))));
    await alice.waitFor(rosterPush('bob@localhost', 'none'), 'a roster push for bob');
    await alice.send(xml('presence', { to: 'bob@localhost', type: 'subscribe' }));

    // bob receives the request and approves; he also asks back
    const request = await bob.waitFor(presenceFrom('alice@localhost', 'subscribe'), 'alice\'s subscription request');
    assert.equal(request.attrs.from, 'alice@localhost', 'subscription stanzas carry the bare JID');
    await bob.send(xml('presence', { to: 'alice@localhost', type: 'subscribed' }));
    await alice.waitFor(presenceFrom('bob@localhost', 'subscribed'), 'bob\'s approval');
    await alice.waitFor(rosterPush('bob@localhost', 'to'), 'a roster push with subscription "to"');
    await alice.waitFor(presenceFrom('bob@localhost/laptop'), 'bob\'s current presence after approval');

    await bob.send(xml('presence', { to: 'alice@localhost', type: 'subscribe' }));
    await alice.waitFor(presenceFrom('bob@localhost', 'subscribe'), 'bob\'s request');
    await alice.send(xml('presence', { to: 'bob@localhost', type: 'subscribed' }));
    await bob.waitFor(rosterPush('alice@localhost', 'both'), 'a roster push with subscription "both"');
    await bob.waitFor(presenceFrom('alice@localhost/phone'), 'alice\'s presence');

    const roster = await alice.iq('get', xml('query', { xmlns: ROSTER }));
    const item = roster.getChild('query', ROSTER)!.getChild('item')!;
    assert.deepEqual([item.attrs.jid, item.attrs.name, item.attrs.subscription, item.getChildText('group')], ['bob@localhost', 'Bob', 'both', 'Friends']);

    // bob goes offline without saying so: alice sees him unavailable
    alice.clearReceived();
    await bob.stop();
    await alice.waitFor(presenceFrom('bob@localhost/laptop', 'unavailable'), 'bob going offline');

    // bob comes back on another resource: alice sees him, and he gets alice's presence (probe answered)
    const bobAgain = await login('bob', 'tablet');
    await bobAgain.send(xml('presence', {}, xml('status', {}, 'back')));
    const seen = await alice.waitFor(presenceFrom('bob@localhost/tablet'), 'bob coming online');
    assert.equal(seen.getChildText('status'), 'back');
    await bobAgain.waitFor(presenceFrom('alice@localhost/phone'), 'alice\'s presence in answer to the probe');

    // alice says unavailable explicitly
    await alice.send(xml('presence', { type: 'unavailable' }));
    await bobAgain.waitFor(presenceFrom('alice@localhost/phone', 'unavailable'), 'alice going offline');
  });

  test('carol, who is not subscribed, sees nothing of alice; a request to her waits until she is online', async () => {
    const alice = await login('alice', 'desk');
    await alice.send(xml('presence'));
    await alice.send(xml('presence', { to: 'carol@localhost', type: 'subscribe' }));
    await alice.waitFor(rosterPush('carol@localhost', 'none'), 'carol on alice\'s roster, pending');
    const carol = await login('carol', 'web');
    await carol.send(xml('presence'));
    await carol.waitFor(presenceFrom('alice@localhost', 'subscribe'), 'the request kept while carol was offline');
    assert.equal(carol.received.some(presenceFrom('alice@localhost/desk')), false, 'no presence without a subscription');
    await carol.send(xml('presence', { to: 'alice@localhost', type: 'unsubscribed' }));
    await alice.waitFor(presenceFrom('carol@localhost', 'unsubscribed'), 'carol refusing');
  });

  test('alice removes bob: both sides lose the subscription', async () => {
    const alice = await login('alice', 'cleanup');
    const bob = await login('bob', 'cleanup');
    await alice.iq('set', xml('query', { xmlns: ROSTER }, xml('item', { jid: 'bob@localhost', subscription: 'remove' })));
    await alice.waitFor(rosterPush('bob@localhost', 'remove'), 'the removal push');
    await bob.waitFor(rosterPush('alice@localhost', 'none'), 'bob\'s item for alice dropping to none');
  });

  test('stanzas to unknown users get service-unavailable; the server stamps from', async () => {
    const alice = await login('alice', 'errors');
    await alice.send(xml('message', { to: 'nobody@localhost', id: 'm1', type: 'chat', from: 'bob@localhost/forged' }, xml('body', {}, 'hi')));
    const error = await alice.waitFor((s) => s.is('message') && s.attrs.type === 'error' && s.attrs.id === 'm1', 'the error reply');
    assert.ok(error.getChild('error')!.getChild('service-unavailable', 'urn:ietf:params:xml:ns:xmpp-stanzas'));
    assert.equal(error.getChild('error')!.attrs.type, 'cancel');

    const bob = await login('bob', 'stamped');
    await bob.send(xml('presence'));
    await alice.send(xml('message', { to: 'bob@localhost/stamped', id: 'm2', from: 'carol@localhost/forged' }, xml('body', {}, 'who am I?')));
    const received = await bob.waitFor((s) => s.is('message') && s.attrs.id === 'm2', 'alice\'s message');
    assert.equal(received.attrs.from, alice.jid, 'from is rewritten to the sender\'s full JID');
  });

  test('roster versioning (RFC 6121 §2.6): carol\'s phone, holding the current version, gets an empty result; pushes carry the new one; an old one gets the whole roster', async () => {
    const phone = await connectXmpp({ service: `xmpp://127.0.0.1:${gateway.ports.c2s}`, domain: 'localhost', username: 'carol', password: 'carol-password', mechanism: 'SCRAM-SHA-256', resource: 'phone' });
    clients.push(phone);
    assert.ok(phone.streamFeatures?.getChild('ver', 'urn:xmpp:features:rosterver'), 'the feature is offered');
    const web = await login('carol', 'versionless'); // asks without a version

    const first = (await phone.iq('get', xml('query', { xmlns: ROSTER, ver: '' }))).getChild('query', ROSTER)!;
    const v1 = first.attrs.ver!;
    assert.ok(v1, 'a first sync gets the roster and its version');
    const unchanged = await phone.iq('get', xml('query', { xmlns: ROSTER, ver: v1 }));
    assert.equal(unchanged.getChild('query', ROSTER), undefined, 'nothing changed: an empty result');

    await phone.iq('set', xml('query', { xmlns: ROSTER }, xml('item', { jid: 'bob@localhost', name: 'Bob' })));
    const push = await phone.waitFor(rosterPush('bob@localhost', 'none'), 'the push for bob');
    const v2 = push.getChild('query', ROSTER)!.attrs.ver!;
    assert.ok(v2 && v2 !== v1, 'the push carries the new version');
    const webPush = await web.waitFor(rosterPush('bob@localhost', 'none'), 'the push on the versionless resource');
    assert.equal(webPush.getChild('query', ROSTER)!.attrs.ver, undefined, 'no version for a client that did not ask with one');

    assert.equal((await phone.iq('get', xml('query', { xmlns: ROSTER, ver: v2 }))).getChild('query', ROSTER), undefined);
    const stale = (await phone.iq('get', xml('query', { xmlns: ROSTER, ver: v1 }))).getChild('query', ROSTER)!;
    assert.equal(stale.attrs.ver, v2);
    assert.deepEqual(stale.getChildren('item').map((i) => [i.attrs.jid, i.attrs.name]), [['bob@localhost', 'Bob']], 'the whole roster');

    // A change made on another resource, and one that returns the roster to how it was.
    await web.iq('set', xml('query', { xmlns: ROSTER }, xml('item', { jid: 'bob@localhost', subscription: 'remove' })));
    const removal = await phone.waitFor(rosterPush('bob@localhost', 'remove'), 'the removal pushed to the phone');
    assert.equal(removal.getChild('query', ROSTER)!.attrs.ver, v1, 'the same roster as at first: the same version');
  });
});
