/**
 * Issue 8 with multiple subscriptions switched on (HEARTH_PUBSUB_MULTIPLE_SUBSCRIPTIONS=true):
 * bob subscribes twice and still gets one notification per publish, naming both subscriptions in
 * SHIM SubID headers (XEP-0060 §6.1.6, §12.20); unsubscribing then needs the subid (§6.2.3.3).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { xml, type TestXmppClient } from '@hearth/testing';
import { startStack, type Stack } from './support/stack';
import { joined, notifications, publish, pubsub, refusal, SERVICE, subscribe, waitForItem } from './support/pubsub-client';

const SHIM = 'http://jabber.org/protocol/shim';
let stack: Stack;
const clients: TestXmppClient[] = [];

before(async () => {
  stack = await startStack({
    services: ['pubsub'], users: ['alice@localhost', 'bob@localhost'],
    serviceEnv: { pubsub: { HEARTH_PUBSUB_MULTIPLE_SUBSCRIPTIONS: 'true', HEARTH_PUBSUB_SEND_LAST_PUBLISHED_ITEM: 'never' } },
  });
});
after(async () => {
  await Promise.all(clients.map((c) => c.stop()));
  await stack?.stop();
});

const online = async (jid: string, resource: string) => {
  const client = await stack.connect(jid, { resource });
  clients.push(client);
  await client.send(xml('presence'));
  return client;
};

test('the service advertises multi-subscribe (XEP-0060 §6.1.6)', async () => {
  const alice = await online('alice@localhost', 'desk');
  const info = (await alice.iq('get', xml('query', { xmlns: 'http://jabber.org/protocol/disco#info' }), SERVICE)).getChild('query')!;
  assert.ok(info.getChildren('feature').some((f) => f.attrs.var === 'http://jabber.org/protocol/pubsub#multi-subscribe'));
});

test('bob subscribes twice: one notification per publish on each of his resources, with both SubIDs; unsubscribing needs the subid', async () => {
  const node = '/meal/42/participants';
  const alice = await online('alice@localhost', 'phone');
  const [bobPhone, bobWeb] = [await online('bob@localhost', 'phone'), await online('bob@localhost', 'web')];
  await alice.iq('set', pubsub(xml('create', { node })), SERVICE);
  const first = await subscribe(bobPhone, node);
  const second = await subscribe(bobWeb, node);
  assert.notEqual(second.attrs.subid, first.attrs.subid, 'a second subscription');

  for (const id of ['carol', 'dave']) await publish(alice, node, id, joined(id));
  await publish(alice, node, 'end', joined('nobody'));
  for (const bob of [bobPhone, bobWeb]) {
    await waitForItem(bob, node, 'end');
    for (const id of ['carol', 'dave']) {
      const received = notifications(bob, node, id);
      assert.equal(received.length, 1, `${bob.jid} is told once that ${id} joined`);
      assert.deepEqual(received[0]!.getChild('headers', SHIM)!.getChildren('header', SHIM).map((h) => [h.attrs.name, h.text()]),
        [['SubID', first.attrs.subid], ['SubID', second.attrs.subid]]);
    }
  }

  const withoutSubid = await refusal(bobPhone.iq('set', pubsub(xml('unsubscribe', { node, jid: 'bob@localhost' })), SERVICE));
  assert.deepEqual([withoutSubid.condition, withoutSubid.pubsub], ['bad-request', 'subid-required']);
  const wrongSubid = await refusal(bobPhone.iq('set', pubsub(xml('unsubscribe', { node, jid: 'bob@localhost', subid: 'nope' })), SERVICE));
  assert.deepEqual([wrongSubid.condition, wrongSubid.pubsub], ['not-acceptable', 'invalid-subid']);
  await bobPhone.iq('set', pubsub(xml('unsubscribe', { node, jid: 'bob@localhost', subid: first.attrs.subid })), SERVICE);

  await publish(alice, node, 'erin', joined('erin'));
  const single = await waitForItem(bobPhone, node, 'erin');
  assert.equal(single.getChild('headers', SHIM), undefined, 'one subscription left: no SubID header');
});
