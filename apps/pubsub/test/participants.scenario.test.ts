/**
 * Issue 8, the product's scenario: a meal's participants node. Alice creates
 * /meal/42/participants and is subscribed; each later participant is told when someone else
 * joins, never of their own join (send_last_published_item = never, the server default here),
 * and never twice. Driven over the service's gRPC API as the gateway drives it; notifications
 * are read from hearth.pubsub as the gateway and push read them.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { isEvent, PubsubItemPublished, PubsubSubscriptionChanged, type Envelope, type PayloadOf } from '@hearth/contracts';
import { form, startPubsubStack, type PubsubStack } from './support/pubsub-stack';

const alice = 'alice@localhost/phone';
const bob = 'bob@localhost/web';
const carol = 'carol@localhost/ios';
const joined = (who: string) => `<joined xmlns='urn:example:meal' who='${who}@localhost'/>`;

let stack: PubsubStack;
before(async () => {
  // Server defaults as shipped: never, one subscription per JID, creators subscribed.
  stack = await startPubsubStack();
});
after(async () => {
  await stack?.dispose();
});

type Published = Envelope<string, PayloadOf<typeof PubsubItemPublished>>;
const publishedItem = (node: string, itemId: string) =>
  (e: Envelope): e is Published => isEvent(e, PubsubItemPublished) && e.payload.node === node && e.payload.itemId === itemId;

async function join(node: string, who: string, actor: string) {
  const { item_id } = await stack.pubsub.ok<{ item_id: string }>('Publish', { actor: alice, node, payload: joined(who) });
  const subscribed = await stack.pubsub.ok<{ subscription: { subid: string }; existing: boolean; last_items: { payload: string }[] }>(
    'Subscribe', { actor, node, jid: actor.split('/')[0], subscriber_available: true });
  return { itemId: item_id, subscribed };
}

test('alice creates /meal/42/participants and is subscribed; bob joins and is not told of his own join; carol joins and alice and bob are each told once', async () => {
  const node = '/meal/42/participants';
  const created = await stack.pubsub.ok<{ node: string; creator_subscription: { jid: string; subid: string; subscription: string } }>(
    'CreateNode', { actor: alice, node, configuration: form({ 'pubsub#title': 'Participants of meal 42' }) });
  assert.equal(created.node, node);
  assert.deepEqual({ jid: created.creator_subscription.jid, subscription: created.creator_subscription.subscription },
    { jid: 'alice@localhost', subscription: 'subscribed' });

  // Bob joins: alice publishes "bob joined", then bob subscribes.
  const bobJoins = await join(node, 'bob', bob);
  assert.deepEqual(bobJoins.subscribed.last_items, [], 'bob receives nothing on subscribing (send_last_published_item = never)');
  const bobJoined = await stack.reader.waitFor('bob joined', publishedItem(node, bobJoins.itemId));
  assert.deepEqual(bobJoined.payload.recipients, [{ jid: 'alice@localhost', subids: [created.creator_subscription.subid] }],
    'only alice is told that bob joined');

  // Carol joins.
  const carolJoins = await join(node, 'carol', carol);
  assert.deepEqual(carolJoins.subscribed.last_items, []);
  const carolJoined = await stack.reader.waitFor('carol joined', publishedItem(node, carolJoins.itemId));
  assert.deepEqual(carolJoined.payload.recipients.map((r) => r.jid), ['alice@localhost', 'bob@localhost'],
    'alice and bob, each exactly once; not carol');
  assert.equal(carolJoined.payload.payload, joined('carol'));
  assert.equal(carolJoined.payload.deliverPayload, true);

  // Offline participants fetch what they missed.
  const items = await stack.pubsub.ok<{ items: { id: string; payload: string; publisher: string }[] }>('GetItems', { actor: bob, node });
  assert.deepEqual(items.items.map((i) => i.payload), [joined('bob'), joined('carol')]);
  assert.equal(items.items[0]!.publisher, 'alice@localhost');
});

test('with send_last_published_item = on_sub, bob receives "bob joined" upon subscribing', async () => {
  const node = '/meal/43/participants';
  await stack.pubsub.ok('CreateNode', { actor: alice, node, configuration: form({ 'pubsub#send_last_published_item': 'on_sub' }) });
  const bobJoins = await join(node, 'bob', bob);
  assert.deepEqual(bobJoins.subscribed.last_items.map((i) => i.payload), [joined('bob')]);
});

test('with on_sub_and_presence, bob gets the last item when his session becomes available, not before', async () => {
  const node = '/meal/44/participants';
  await stack.pubsub.ok('CreateNode', { actor: alice, node, configuration: form({ 'pubsub#send_last_published_item': 'on_sub_and_presence' }) });
  await stack.pubsub.ok('Publish', { actor: alice, node, payload: joined('bob') });
  const subscribed = await stack.pubsub.ok<{ subscription: { subid: string }; last_items: unknown[] }>(
    'Subscribe', { actor: bob, node, jid: 'bob@localhost', subscriber_available: false });
  assert.deepEqual(subscribed.last_items, [], 'the session has not sent its initial presence yet');
  const available = await stack.pubsub.ok<{ items: { node: string; jid: string; subids: string[]; item: { payload: string } }[] }>(
    'SubscriberBecameAvailable', { actor: bob });
  assert.deepEqual(available.items.map((i) => ({ node: i.node, jid: i.jid, subids: i.subids, payload: i.item.payload })),
    [{ node, jid: 'bob@localhost', subids: [subscribed.subscription.subid], payload: joined('bob') }]);
});

test('multiple subscriptions off: bob\'s second subscribe makes no second subscription, and unsubscribing needs no subid', async () => {
  const node = '/meal/45/participants';
  await stack.pubsub.ok('CreateNode', { actor: alice, node });
  const first = await stack.pubsub.ok<{ subscription: { subid: string }; existing: boolean }>('Subscribe', { actor: bob, node, jid: 'bob@localhost' });
  const second = await stack.pubsub.ok<{ subscription: { subid: string }; existing: boolean }>('Subscribe', { actor: bob, node, jid: 'bob@localhost' });
  assert.equal(second.existing, true);
  assert.equal(second.subscription.subid, first.subscription.subid);
  const subscriptionEvents = stack.reader.events.filter((e) => isEvent(e, PubsubSubscriptionChanged) && e.payload.node === node && e.payload.jid === 'bob@localhost');
  assert.equal(subscriptionEvents.length, 1, 'one subscription event for bob');

  const mine = await stack.pubsub.ok<{ subscriptions: { node: string; subid: string }[] }>('GetSubscriptions', { actor: bob, node });
  assert.deepEqual(mine.subscriptions.map((s) => s.subid), [first.subscription.subid]);
  await stack.pubsub.ok('Unsubscribe', { actor: bob, node, jid: 'bob@localhost' });
  const after = await stack.pubsub.ok<{ subscriptions: unknown[] }>('GetSubscriptions', { actor: bob, node });
  assert.deepEqual(after.subscriptions, []);
});
