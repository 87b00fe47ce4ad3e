/**
 * Issue 8: errors and permissions as XEP-0060 specifies, through the gRPC API: each refusal
 * carries the stanza error condition, its type and the pubsub#errors condition the gateway puts
 * in the <error/>, and changes nothing.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { form, startPubsubStack, type PubsubStack, type WireError } from './support/pubsub-stack';

const alice = 'alice@localhost/phone';
const bob = 'bob@localhost/web';
const mallory = 'mallory@localhost/laptop';
const payload = `<joined xmlns='urn:example:meal' who='bob@localhost'/>`;

let stack: PubsubStack;
before(async () => {
  stack = await startPubsubStack();
});
after(async () => {
  await stack?.dispose();
});

const expectRefusal = (error: WireError, condition: string, type: string, pubsubCondition = '') =>
  assert.deepEqual([error.condition, error.type, error.pubsub_condition], [condition, type, pubsubCondition], error.text);

test('non-owners cannot configure, read the configuration, purge, delete or manage affiliations and subscriptions (forbidden)', async () => {
  const node = '/meal/1/participants';
  await stack.pubsub.ok('CreateNode', { actor: alice, node });
  await stack.pubsub.ok('Publish', { actor: alice, node, item_id: 'one', payload });
  for (const [method, request] of [
    ['ConfigureNode', { configuration: form({ 'pubsub#max_items': '1' }) }],
    ['GetNodeConfiguration', {}],
    ['PurgeNode', {}],
    ['DeleteNode', {}],
    ['SetAffiliations', { affiliations: [{ jid: 'mallory@localhost', affiliation: 'owner' }] }],
    ['SetSubscriptions', { subscriptions: [{ jid: 'mallory@localhost', subscription: 'subscribed' }] }],
    ['GetSubscriptions', { as_owner: true }],
    ['GetAffiliations', { as_owner: true }],
  ] as const) {
    expectRefusal(await stack.pubsub.refused(method, { actor: mallory, node, ...request }), 'forbidden', 'auth');
  }
  expectRefusal(await stack.pubsub.refused('Publish', { actor: mallory, node, payload }), 'forbidden', 'auth');
  expectRefusal(await stack.pubsub.refused('Retract', { actor: mallory, node, item_id: 'one' }), 'forbidden', 'auth');
  // Nothing changed.
  const items = await stack.pubsub.ok<{ items: { id: string }[] }>('GetItems', { actor: alice, node });
  assert.deepEqual(items.items.map((i) => i.id), ['one']);
  const affiliations = await stack.pubsub.ok<{ affiliations: { jid: string; affiliation: string }[] }>('GetAffiliations', { actor: alice, node, as_owner: true });
  assert.deepEqual(affiliations.affiliations.map((a) => [a.jid, a.affiliation]), [['alice@localhost', 'owner']]);
});

test('a whitelist node refuses outsiders with not-allowed / closed-node, and admits members', async () => {
  const node = '/meal/2/participants';
  await stack.pubsub.ok('CreateNode', { actor: alice, node, configuration: form({ 'pubsub#access_model': 'whitelist' }) });
  expectRefusal(await stack.pubsub.refused('Subscribe', { actor: bob, node, jid: 'bob@localhost' }), 'not-allowed', 'cancel', 'closed-node');
  expectRefusal(await stack.pubsub.refused('GetItems', { actor: bob, node }), 'not-allowed', 'cancel', 'closed-node');
  await stack.pubsub.ok('SetAffiliations', { actor: alice, node, affiliations: [{ jid: 'bob@localhost', affiliation: 'member' }] });
  await stack.pubsub.ok('Subscribe', { actor: bob, node, jid: 'bob@localhost' });
  const mine = await stack.pubsub.ok<{ affiliations: { node: string; affiliation: string }[] }>('GetAffiliations', { actor: bob });
  assert.deepEqual(mine.affiliations.map((a) => [a.node, a.affiliation]), [[node, 'member']]);
});

test('unknown nodes give item-not-found; creating twice gives conflict; an instant node gets a generated name', async () => {
  for (const method of ['Subscribe', 'Publish', 'GetItems', 'ConfigureNode', 'DeleteNode', 'PurgeNode', 'Unsubscribe', 'GetNodeConfiguration'] as const) {
    expectRefusal(await stack.pubsub.refused(method, { actor: alice, node: '/no/such/node', jid: 'alice@localhost', payload }), 'item-not-found', 'cancel');
  }
  expectRefusal(await stack.pubsub.refused('GetItems', { actor: alice, node: '' }), 'bad-request', 'modify', 'nodeid-required');
  expectRefusal(await stack.pubsub.refused('CreateNode', { actor: '', node: '/no/actor' }), 'bad-request', 'modify');
  expectRefusal(await stack.pubsub.refused('CreateNode', { actor: alice, node: `/${'x'.repeat(1024)}` }), 'bad-request', 'modify');
  expectRefusal(await stack.pubsub.refused('Subscribe', { actor: alice, service: 'pubsub.elsewhere', node: '/x', jid: 'alice@localhost' }), 'item-not-found', 'cancel');
  await stack.pubsub.ok('CreateNode', { actor: alice, node: '/meal/3/participants' });
  expectRefusal(await stack.pubsub.refused('CreateNode', { actor: bob, node: '/meal/3/participants' }), 'conflict', 'cancel');
  const instant = await stack.pubsub.ok<{ node: string }>('CreateNode', { actor: alice, node: '' });
  // disco#items / disco#info on a node.
  const listed = await stack.pubsub.ok<{ nodes: { node: string; owners: string[] }[]; more: boolean }>('ListNodes', { actor: bob, max: 2 });
  assert.equal(listed.nodes.length, 2);
  assert.equal(listed.more, true);
  const next = await stack.pubsub.ok<{ nodes: { node: string }[] }>('ListNodes', { actor: bob, after: listed.nodes[1]!.node, max: 100 });
  assert.ok(next.nodes.length >= 2 && next.nodes.every((n) => n.node > listed.nodes[1]!.node));
  const one = await stack.pubsub.ok<{ nodes: { node: string; owners: string[]; access_model: string }[] }>('ListNodes', { actor: bob, node: '/meal/3/participants' });
  assert.deepEqual(one.nodes.map((n) => [n.node, n.owners, n.access_model]), [['/meal/3/participants', ['alice@localhost'], 'open']]);
  expectRefusal(await stack.pubsub.refused('ListNodes', { actor: bob, node: '/no/such/node' }), 'item-not-found', 'cancel');
  assert.match(instant.node, /^[0-9a-f-]{36}$/);
  const items = await stack.pubsub.ok<{ items: unknown[] }>('GetItems', { actor: alice, node: instant.node });
  assert.deepEqual(items.items, []);
});

test('invalid configuration values give not-acceptable with the reason; valid ones apply', async () => {
  const node = '/meal/4/participants';
  const created = await stack.pubsub.refused('CreateNode', { actor: alice, node, configuration: form({ 'pubsub#access_model': 'everyone' }) });
  expectRefusal(created, 'not-acceptable', 'modify');
  assert.match(created.text, /pubsub#access_model must be one of open, whitelist, presence, authorize/);
  await stack.pubsub.ok('CreateNode', { actor: alice, node });
  const configured = await stack.pubsub.refused('ConfigureNode', { actor: alice, node, configuration: form({ 'pubsub#max_items': 'lots' }) });
  expectRefusal(configured, 'not-acceptable', 'modify');
  assert.match(configured.text, /pubsub#max_items/);
  await stack.pubsub.ok('ConfigureNode', { actor: alice, node, configuration: form({ 'pubsub#max_items': '2', 'pubsub#notify_retract': '0' }) });
  const config = await stack.pubsub.ok<{ configuration: Record<string, { values: string[] }>; options: Record<string, { values: string[] }> }>(
    'GetNodeConfiguration', { actor: alice, node });
  assert.deepEqual(config.configuration['pubsub#max_items']!.values, ['2']);
  assert.deepEqual(config.configuration['pubsub#notify_retract']!.values, ['0']);
  assert.deepEqual(config.options['pubsub#send_last_published_item']!.values, ['never', 'on_sub', 'on_sub_and_presence']);
  for (const n of [1, 2, 3]) await stack.pubsub.ok('Publish', { actor: alice, node, item_id: `i${n}`, payload });
  const items = await stack.pubsub.ok<{ items: { id: string }[] }>('GetItems', { actor: alice, node });
  assert.deepEqual(items.items.map((i) => i.id), ['i2', 'i3'], 'max_items keeps the newest two');
  const newest = await stack.pubsub.ok<{ items: { id: string }[] }>('GetItems', { actor: alice, node, max_items: 1 });
  assert.deepEqual(newest.items.map((i) => i.id), ['i3']);
  const byId = await stack.pubsub.ok<{ items: { id: string }[] }>('GetItems', { actor: alice, node, item_ids: ['i2'] });
  assert.deepEqual(byId.items.map((i) => i.id), ['i2']);
});

test('publish-options preconditions, payload checks, subscription errors and subscription options', async () => {
  const node = '/meal/5/participants';
  await stack.pubsub.ok('CreateNode', { actor: alice, node });
  expectRefusal(await stack.pubsub.refused('Publish', { actor: alice, node, payload, publish_options: form({ 'pubsub#access_model': 'whitelist' }) }),
    'conflict', 'cancel', 'precondition-not-met');
  await stack.pubsub.ok('Publish', { actor: alice, node, payload, publish_options: form({ 'pubsub#access_model': 'open' }) });
  expectRefusal(await stack.pubsub.refused('Publish', { actor: alice, node, payload: '<unclosed xmlns="x">' }), 'bad-request', 'modify', 'invalid-payload');
  expectRefusal(await stack.pubsub.refused('Publish', { actor: alice, node, payload: '' }), 'bad-request', 'modify', 'payload-required');
  expectRefusal(await stack.pubsub.refused('Subscribe', { actor: bob, node, jid: 'alice@localhost' }), 'bad-request', 'modify', 'invalid-jid');
  expectRefusal(await stack.pubsub.refused('Unsubscribe', { actor: bob, node, jid: 'bob@localhost' }), 'unexpected-request', 'cancel', 'not-subscribed');
  expectRefusal(await stack.pubsub.refused('Subscribe', { actor: bob, node, jid: 'bob@localhost', options: form({ 'pubsub#digest': '1' }) }),
    'bad-request', 'modify', 'invalid-options');
  const { subscription } = await stack.pubsub.ok<{ subscription: { subid: string } }>('Subscribe', { actor: bob, node, jid: 'bob@localhost' });
  expectRefusal(await stack.pubsub.refused('Unsubscribe', { actor: bob, node, jid: 'bob@localhost', subid: 'not-mine' }), 'not-acceptable', 'modify', 'invalid-subid');
  await stack.pubsub.ok('SetSubscriptionOptions', { actor: bob, node, jid: 'bob@localhost', options: form({ 'pubsub#deliver': 'false' }) });
  const options = await stack.pubsub.ok<{ subid: string; options: Record<string, { values: string[] }> }>('GetSubscriptionOptions', { actor: bob, node, jid: 'bob@localhost' });
  assert.equal(options.subid, subscription.subid);
  assert.deepEqual(options.options['pubsub#deliver']!.values, ['0']);
  expectRefusal(await stack.pubsub.refused('GetSubscriptionOptions', { actor: mallory, node, jid: 'bob@localhost' }), 'forbidden', 'auth');
});

test('the owner bans an outcast: their subscription goes and they are refused', async () => {
  const node = '/meal/6/participants';
  await stack.pubsub.ok('CreateNode', { actor: alice, node });
  await stack.pubsub.ok('Subscribe', { actor: mallory, node, jid: 'mallory@localhost' });
  await stack.pubsub.ok('SetAffiliations', { actor: alice, node, affiliations: [{ jid: 'mallory@localhost', affiliation: 'outcast' }] });
  const subscriptions = await stack.pubsub.ok<{ subscriptions: { jid: string }[] }>('GetSubscriptions', { actor: alice, node, as_owner: true });
  assert.deepEqual(subscriptions.subscriptions.map((s) => s.jid), ['alice@localhost']);
  expectRefusal(await stack.pubsub.refused('Subscribe', { actor: mallory, node, jid: 'mallory@localhost' }), 'forbidden', 'auth');
  expectRefusal(await stack.pubsub.refused('SetAffiliations', { actor: alice, node, affiliations: [{ jid: 'alice@localhost', affiliation: 'none' }] }),
    'not-acceptable', 'modify');
});
