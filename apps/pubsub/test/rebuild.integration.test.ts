/**
 * Issue 8: replay. The pubsub database is a projection of hearth.pubsub: a second service on an
 * empty database, consuming from offset 0, must end with the same rows, row for row.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { form, PubsubClient, dumpProjection, startPubsubStack, type PubsubStack } from './support/pubsub-stack';

const alice = 'alice@localhost/phone';
const bob = 'bob@localhost/web';
const carol = 'carol@localhost/ios';
const item = (n: number) => `<joined xmlns='urn:example:meal' n='${n}'/>`;

let stack: PubsubStack;
before(async () => {
  stack = await startPubsubStack({ HEARTH_PUBSUB_MULTIPLE_SUBSCRIPTIONS: 'true' });
});
after(async () => {
  await stack?.dispose();
});

/** Probes until done or the time is up, then returns the last value (the assertion shows the difference). */
async function settle<T>(probe: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

test('a fresh database consuming hearth.pubsub from offset 0 ends with identical rows', async () => {
  const { pubsub } = stack;
  // A history touching every event type and every projection rule.
  for (let meal = 1; meal <= 6; meal++) {
    const node = `/meal/${meal}/participants`;
    await pubsub.ok('CreateNode', { actor: alice, node, configuration: form({ 'pubsub#max_items': '3', 'pubsub#title': `Meal ${meal}` }) });
    await pubsub.ok('Subscribe', { actor: bob, node, jid: 'bob@localhost' });
    await pubsub.ok('Subscribe', { actor: bob, node, jid: 'bob@localhost', options: form({ 'pubsub#deliver': '0' }) });
    await pubsub.ok('Subscribe', { actor: carol, node, jid: carol });
    for (let n = 1; n <= 5; n++) await pubsub.ok('Publish', { actor: alice, node, item_id: n === 5 ? 'i1' : `i${n}`, payload: item(n) });
    await pubsub.ok('SetAffiliations', { actor: alice, node, affiliations: [{ jid: 'bob@localhost', affiliation: 'publisher' }] });
    await pubsub.ok('Publish', { actor: bob, node, payload: item(99) });
    if (meal % 2 === 0) await pubsub.ok('Retract', { actor: alice, node, item_id: 'i4' });
    if (meal % 3 === 0) await pubsub.ok('ConfigureNode', { actor: alice, node, configuration: form({ 'pubsub#max_items': '1' }) });
  }
  await pubsub.ok('PurgeNode', { actor: alice, node: '/meal/5/participants' });
  await pubsub.ok('DeleteNode', { actor: alice, node: '/meal/6/participants', redirect: 'xmpp:pubsub.localhost?;node=/meal/1/participants' });
  await pubsub.ok('Unsubscribe', { actor: carol, node: '/meal/1/participants', jid: carol });

  // The projection's item rules: newest max_items kept, a re-published id becomes the newest, retract, shrink.
  const ids = async (node: string) => (await pubsub.ok<{ items: { id: string; publisher: string }[] }>('GetItems', { actor: alice, node })).items;
  const meal1 = await ids('/meal/1/participants');
  assert.deepEqual(meal1.slice(0, 2).map((i) => i.id), ['i4', 'i1']);
  assert.equal(meal1.length, 3);
  assert.equal(meal1[2]!.publisher, 'bob@localhost');
  const meal2 = await ids('/meal/2/participants');
  assert.deepEqual(meal2.map((i) => i.publisher), ['alice@localhost', 'bob@localhost'], 'i4 retracted');
  assert.equal(meal2[0]!.id, 'i1');
  assert.equal((await ids('/meal/3/participants')).length, 1);
  assert.deepEqual(await ids('/meal/5/participants'), []);

  const original = await dumpProjection(stack.databaseUrl);
  assert.equal(original.pubsub_nodes!.length, 5);
  assert.ok(original.pubsub_items!.length > 5);

  // The original stops (its consumer group's offsets are at the end); the new one starts empty.
  await stack.service.stop();
  const rebuilt = await stack.startAnother();
  const rebuiltDump = await settle(() => dumpProjection(rebuilt.databaseUrl),
    (dump) => JSON.stringify(dump) === JSON.stringify(original));
  assert.deepEqual(rebuiltDump, original);

  // And the rebuilt service answers from it.
  const client = new PubsubClient(rebuilt.service.grpcPort);
  try {
    const items = await client.ok<{ items: { id: string }[] }>('GetItems', { actor: bob, node: '/meal/3/participants' });
    assert.equal(items.items.length, 1);
  } finally {
    client.close();
  }
});
