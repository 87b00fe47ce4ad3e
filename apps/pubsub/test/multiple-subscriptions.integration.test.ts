/**
 * Issue 8 with HEARTH_PUBSUB_MULTIPLE_SUBSCRIPTIONS=true (and on_sub as the server default):
 * a JID may hold several subscriptions, yet each publish names it once, with all its subids
 * (XEP-0060 §6.1.6: one notification with SHIM SubID headers, not one per subscription).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { isEvent, PubsubItemPublished, type Envelope, type PayloadOf } from '@hearth/contracts';
import { startPubsubStack, type PubsubStack } from './support/pubsub-stack';

const alice = 'alice@localhost/phone';
const bob = 'bob@localhost/web';
const node = '/meal/42/participants';

let stack: PubsubStack;
before(async () => {
  stack = await startPubsubStack({ HEARTH_PUBSUB_MULTIPLE_SUBSCRIPTIONS: 'true', HEARTH_PUBSUB_SEND_LAST_PUBLISHED_ITEM: 'on_sub' });
});
after(async () => {
  await stack?.dispose();
});

test('bob subscribes twice: two subids, one recipient entry per publish; unsubscribing needs the subid', async () => {
  await stack.pubsub.ok('CreateNode', { actor: alice, node });
  const defaults = await stack.pubsub.ok<{ configuration: Record<string, { values: string[] }> }>('GetDefaultConfiguration', { actor: bob });
  assert.deepEqual(defaults.configuration['pubsub#send_last_published_item']!.values, ['on_sub'], 'the server default comes from the environment');

  const first = await stack.pubsub.ok<{ subscription: { subid: string } }>('Subscribe', { actor: bob, node, jid: 'bob@localhost' });
  const second = await stack.pubsub.ok<{ subscription: { subid: string }; existing: boolean }>('Subscribe', { actor: bob, node, jid: 'bob@localhost' });
  assert.equal(second.existing, false);
  assert.notEqual(second.subscription.subid, first.subscription.subid);

  for (const n of [1, 2, 3]) {
    const { item_id } = await stack.pubsub.ok<{ item_id: string }>('Publish', { actor: alice, node, payload: `<n xmlns='urn:example' v='${n}'/>` });
    const event = await stack.reader.waitFor(`publish ${n}`, (e): e is Envelope<string, PayloadOf<typeof PubsubItemPublished>> =>
      isEvent(e, PubsubItemPublished) && e.payload.itemId === item_id);
    const forBob = event.payload.recipients.filter((r) => r.jid === 'bob@localhost');
    assert.equal(forBob.length, 1, 'bob is one recipient');
    assert.deepEqual(forBob[0]!.subids, [first.subscription.subid, second.subscription.subid]);
    assert.equal(new Set(event.payload.recipients.map((r) => r.jid)).size, event.payload.recipients.length, 'no JID twice');
  }

  const refused = await stack.pubsub.refused('Unsubscribe', { actor: bob, node, jid: 'bob@localhost' });
  assert.deepEqual([refused.condition, refused.pubsub_condition], ['bad-request', 'subid-required']);
  await stack.pubsub.ok('Unsubscribe', { actor: bob, node, jid: 'bob@localhost', subid: first.subscription.subid });
  const left = await stack.pubsub.ok<{ subscriptions: { subid: string }[] }>('GetSubscriptions', { actor: bob, node });
  assert.deepEqual(left.subscriptions.map((s) => s.subid), [second.subscription.subid]);
});
