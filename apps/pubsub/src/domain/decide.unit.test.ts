import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  decideConfigureNode, decideCreateNode, decideDeleteNode, decidePublish, decidePurgeNode, decideRetract, decideSetAffiliations,
  decideSetSubscriptionOptions, decideSetSubscriptions, decideSubscribe, decideUnsubscribe, lastItemsOnAvailability, requireItemAccess,
  type Decision, type IdSource,
} from './decide';
import type { NodeConfig, PubsubSettings } from './node-config';
import { evolve, type NodeState, type PubsubEvent } from './node-state';
import { PubsubError } from './pubsub-error';

// Given events → state, When a command → Then events / result / refusal (Emmett style).

const SERVICE = 'pubsub.localhost';
const NODE = '/meal/42/participants';
const ALICE = 'alice@localhost/phone';
const BOB = 'bob@localhost/web';
const CAROL = 'carol@localhost/ios';

const defaults: NodeConfig = {
  title: '', sendLastPublishedItem: 'never', maxItems: 10, persistItems: true, deliverPayloads: true, notifyRetract: true,
  notifyDelete: true, accessModel: 'open', publishModel: 'publishers',
};
const settingsWith = (overrides: Partial<PubsubSettings> = {}, config: Partial<NodeConfig> = {}): PubsubSettings => ({
  defaults: { ...defaults, ...config }, multipleSubscriptions: false, autoSubscribeCreator: true, maxItemsLimit: 100, maxPayloadBytes: 1024, ...overrides,
});

function counter(prefix = 'id'): IdSource {
  let n = 0;
  return { next: () => `${prefix}-${++n}` };
}

/** A node's history: apply each decision's events as the projection would. */
class Given {
  state: NodeState | undefined;
  readonly ids = counter();
  constructor(readonly settings: PubsubSettings) {}
  then<R>(decide: (state: NodeState | undefined) => Decision<R>): R {
    const { events, result } = decide(this.state);
    this.apply(events);
    return result;
  }
  apply(events: PubsubEvent[]): void {
    for (const event of events) this.state = evolve(this.state, event, this.settings);
  }
}

const join = (who: string) => `<joined xmlns='urn:example:meal' who='${who}'/>`;
const address = (actor: string) => ({ actor, service: SERVICE, node: NODE });
const create = (given: Given, configuration: Record<string, string> = {}) =>
  given.then((s) => decideCreateNode({ ...address(ALICE), configuration }, s, given.settings, given.ids));
const subscribe = (given: Given, actor: string, extra: { subscriberAvailable?: boolean } = {}) =>
  given.then((s) => decideSubscribe({ ...address(actor), jid: actor.split('/')[0]!, options: {}, subscriberAvailable: extra.subscriberAvailable ?? true,
    presenceSubscriptions: [] }, s, given.settings, given.ids));
const publish = (given: Given, actor: string, payload: string) =>
  decidePublish({ ...address(actor), itemId: '', payload, publishOptions: {} }, given.state, given.settings, given.ids);

function refusal(work: () => unknown, condition: string, pubsubCondition?: string): PubsubError {
  try {
    work();
  } catch (error) {
    assert.ok(error instanceof PubsubError, `a PubsubError, not ${String(error)}`);
    assert.equal(error.condition, condition, error.message);
    assert.equal(error.pubsubCondition, pubsubCondition, error.message);
    return error;
  }
  assert.fail(`expected ${condition}${pubsubCondition ? `/${pubsubCondition}` : ''}`);
}

describe('the product scenario: a meal\'s participants node', () => {
  test('A creates the node and is subscribed automatically; B joins; with send_last_published_item=never B is not told of its own join', () => {
    const given = new Given(settingsWith());
    const created = create(given);
    assert.equal(created.node, NODE);
    assert.deepEqual(created.creatorSubscription && { jid: created.creatorSubscription.jid, state: created.creatorSubscription.state },
      { jid: 'alice@localhost', state: 'subscribed' });

    // A publishes "B joined", then B subscribes.
    const published = publish(given, ALICE, join('bob'));
    assert.deepEqual(published.events[0]!.type === 'PubsubItemPublished' && published.events[0].payload.recipients,
      [{ jid: 'alice@localhost', subids: [created.creatorSubscription!.subid] }]);
    given.apply(published.events);
    const bob = subscribe(given, BOB);
    assert.equal(bob.subscription.state, 'subscribed');
    assert.deepEqual(bob.lastItems, [], 'never: B receives nothing on subscribe');
  });

  test('with send_last_published_item=on_sub B receives "B joined" upon subscribing', () => {
    const given = new Given(settingsWith({}, { sendLastPublishedItem: 'on_sub' }));
    create(given);
    given.apply(publish(given, ALICE, join('bob')).events);
    const bob = subscribe(given, BOB);
    assert.deepEqual(bob.lastItems.map((i) => i.payload), [join('bob')]);
    assert.equal(bob.deliverPayload, true);
  });

  test('a node configured on_sub overrides a server default of never', () => {
    const given = new Given(settingsWith());
    create(given, { 'pubsub#send_last_published_item': 'on_sub' });
    given.apply(publish(given, ALICE, join('bob')).events);
    assert.equal(subscribe(given, BOB).lastItems.length, 1);
  });

  test('on_sub_and_presence: the last item goes now to an available subscriber, else when its presence arrives', () => {
    const given = new Given(settingsWith({}, { sendLastPublishedItem: 'on_sub_and_presence' }));
    create(given);
    given.apply(publish(given, ALICE, join('bob')).events);
    const bob = subscribe(given, BOB, { subscriberAvailable: false });
    assert.deepEqual(bob.lastItems, []);
    const onPresence = lastItemsOnAvailability(BOB, [given.state!]);
    assert.deepEqual(onPresence.map((x) => ({ jid: x.jid, subids: x.subids, payload: x.item.payload })),
      [{ jid: 'bob@localhost', subids: [bob.subscription.subid], payload: join('bob') }]);
    assert.deepEqual(lastItemsOnAvailability(CAROL, [given.state!]), [], 'not for someone not subscribed');
    assert.equal(subscribe(given, CAROL, { subscriberAvailable: true }).lastItems.length, 1);
  });

  test('C joins: A and B each are recipients exactly once', () => {
    const given = new Given(settingsWith());
    create(given);
    subscribe(given, BOB);
    const published = publish(given, ALICE, join('carol'));
    const event = published.events[0]!;
    assert.equal(event.type, 'PubsubItemPublished');
    assert.deepEqual(event.type === 'PubsubItemPublished' && event.payload.recipients.map((r) => r.jid), ['alice@localhost', 'bob@localhost']);
  });

  test('multiple subscriptions off: a second subscribe makes no second subscription, and unsubscribe needs no subid', () => {
    const given = new Given(settingsWith({ multipleSubscriptions: false }));
    create(given);
    const first = subscribe(given, BOB);
    const second = subscribe(given, BOB);
    assert.equal(second.existing, true);
    assert.equal(second.subscription.subid, first.subscription.subid);
    assert.equal(given.state!.subscriptions.filter((s) => s.jid === 'bob@localhost').length, 1);
    given.then((s) => decideUnsubscribe({ ...address(BOB), jid: 'bob@localhost', subid: '' }, s));
    assert.equal(given.state!.subscriptions.some((s) => s.jid === 'bob@localhost'), false);
  });

  test('multiple subscriptions on: two subscriptions, one recipient entry with both subids; unsubscribe then needs the subid', () => {
    const given = new Given(settingsWith({ multipleSubscriptions: true }));
    create(given);
    const first = subscribe(given, BOB);
    const second = subscribe(given, BOB);
    assert.notEqual(first.subscription.subid, second.subscription.subid);
    const event = publish(given, ALICE, join('carol')).events[0]!;
    assert.deepEqual(event.type === 'PubsubItemPublished' && event.payload.recipients, [
      { jid: 'alice@localhost', subids: ['id-1'] },
      { jid: 'bob@localhost', subids: [first.subscription.subid, second.subscription.subid] },
    ]);
    refusal(() => decideUnsubscribe({ ...address(BOB), jid: 'bob@localhost', subid: '' }, given.state), 'bad-request', 'subid-required');
    refusal(() => decideUnsubscribe({ ...address(BOB), jid: 'bob@localhost', subid: 'nope' }, given.state), 'not-acceptable', 'invalid-subid');
    given.then((s) => decideUnsubscribe({ ...address(BOB), jid: 'bob@localhost', subid: first.subscription.subid }, s));
    assert.deepEqual(given.state!.subscriptions.map((s) => s.subid), ['id-1', second.subscription.subid]);
  });

  test('a subscription with pubsub#deliver=0 is not a recipient', () => {
    const given = new Given(settingsWith());
    create(given);
    const bob = subscribe(given, BOB);
    given.then((s) => decideSetSubscriptionOptions({ ...address(BOB), jid: 'bob@localhost', subid: bob.subscription.subid, options: { 'pubsub#deliver': '0' } }, s));
    const event = publish(given, ALICE, join('x')).events[0]!;
    assert.deepEqual(event.type === 'PubsubItemPublished' && event.payload.recipients.map((r) => r.jid), ['alice@localhost']);
    refusal(() => decideSetSubscriptionOptions({ ...address(BOB), jid: 'bob@localhost', subid: '', options: { 'pubsub#digest': '1' } }, given.state),
      'bad-request', 'invalid-options');
  });
});

describe('node configuration', () => {
  test('invalid values and unknown fields are refused with not-acceptable and a reason', () => {
    const given = new Given(settingsWith());
    const e1 = refusal(() => create(given, { 'pubsub#max_items': '-3' }), 'not-acceptable');
    assert.match(e1.text, /pubsub#max_items must be an integer from 1 to 100/);
    assert.match(refusal(() => create(given, { 'pubsub#send_last_published_item': 'always' }), 'not-acceptable').text, /one of never, on_sub, on_sub_and_presence/);
    assert.match(refusal(() => create(given, { 'pubsub#colour': 'blue' }), 'not-acceptable').text, /unsupported configuration field pubsub#colour/);
    assert.match(refusal(() => create(given, { 'pubsub#persist_items': 'yes' }), 'not-acceptable').text, /boolean/);
    assert.equal(given.state, undefined, 'nothing was created');
  });

  test('only owners configure, purge and delete; configure keeps fields not in the form; lowering max_items drops the oldest', () => {
    const given = new Given(settingsWith());
    create(given, { 'pubsub#title': 'Participants' });
    for (const who of ['bob', 'carol', 'dave']) given.apply(publish(given, ALICE, join(who)).events);
    refusal(() => decideConfigureNode({ ...address(BOB), configuration: { 'pubsub#max_items': '1' } }, given.state, given.settings), 'forbidden');
    refusal(() => decidePurgeNode(address(BOB), given.state), 'forbidden');
    refusal(() => decideDeleteNode({ ...address(BOB), redirect: '' }, given.state), 'forbidden');
    given.then((s) => decideConfigureNode({ ...address(ALICE), configuration: { 'pubsub#max_items': '2', FORM_TYPE: 'http://jabber.org/protocol/pubsub#node_config' } }, s, given.settings));
    assert.equal(given.state!.config.title, 'Participants');
    assert.deepEqual(given.state!.items.map((i) => i.payload), [join('carol'), join('dave')]);
  });

  test('unknown nodes give item-not-found; creating an existing node gives conflict; an instant node gets a name', () => {
    const given = new Given(settingsWith());
    refusal(() => subscribe(given, BOB), 'item-not-found');
    refusal(() => publish(given, ALICE, join('x')), 'item-not-found');
    create(given);
    refusal(() => create(given), 'conflict');
    const instant = decideCreateNode({ actor: ALICE, service: SERVICE, node: '', configuration: {} }, undefined, given.settings, counter('instant'));
    assert.equal(instant.result.node, 'instant-1');
  });

  test('delete notifies subscribers when notify_delete is on, with the redirect', () => {
    const given = new Given(settingsWith());
    create(given);
    subscribe(given, BOB);
    const { events } = decideDeleteNode({ ...address(ALICE), redirect: 'xmpp:pubsub.localhost?;node=/meal/43' }, given.state);
    assert.deepEqual(events[0]!.type === 'PubsubNodeDeleted' && events[0].payload.recipients.map((r) => r.jid), ['alice@localhost', 'bob@localhost']);
    given.apply(events);
    assert.equal(given.state, undefined);
  });
});

describe('access and publish models', () => {
  test('a whitelist node refuses outsiders (not-allowed / closed-node) until the owner adds them as members', () => {
    const given = new Given(settingsWith());
    create(given, { 'pubsub#access_model': 'whitelist' });
    refusal(() => subscribe(given, BOB), 'not-allowed', 'closed-node');
    refusal(() => requireItemAccess({ ...address(BOB), presenceSubscriptions: [] }, given.state), 'not-allowed', 'closed-node');
    given.then((s) => decideSetAffiliations({ ...address(ALICE), affiliations: [{ jid: 'bob@localhost', affiliation: 'member' }] }, s));
    assert.equal(subscribe(given, BOB).subscription.state, 'subscribed');
    // Taken off the whitelist: the subscription goes too.
    given.then((s) => decideSetAffiliations({ ...address(ALICE), affiliations: [{ jid: 'bob@localhost', affiliation: 'none' }] }, s));
    assert.equal(given.state!.subscriptions.some((s) => s.jid === 'bob@localhost'), false);
  });

  test('presence and authorize access models', () => {
    const presence = new Given(settingsWith());
    create(presence, { 'pubsub#access_model': 'presence' });
    refusal(() => subscribe(presence, BOB), 'not-authorized', 'presence-subscription-required');
    const ok = decideSubscribe({ ...address(BOB), jid: 'bob@localhost', options: {}, subscriberAvailable: true, presenceSubscriptions: ['alice@localhost'] },
      presence.state, presence.settings, presence.ids);
    assert.equal(ok.result.subscription.state, 'subscribed');

    const authorize = new Given(settingsWith());
    create(authorize, { 'pubsub#access_model': 'authorize' });
    const pending = subscribe(authorize, BOB);
    assert.equal(pending.subscription.state, 'pending');
    refusal(() => requireItemAccess({ ...address(BOB), presenceSubscriptions: [] }, authorize.state), 'not-authorized', 'not-subscribed');
    authorize.then((s) => decideSetSubscriptions({ ...address(ALICE), subscriptions: [{ jid: 'bob@localhost', subid: pending.subscription.subid, subscription: 'subscribed' }] },
      s, authorize.settings, authorize.ids));
    assert.equal(requireItemAccess({ ...address(BOB), presenceSubscriptions: [] }, authorize.state).node, NODE);
  });

  test('outcasts are refused and lose their subscriptions; the last owner cannot be removed; subscribing for someone else is refused', () => {
    const given = new Given(settingsWith());
    create(given);
    subscribe(given, BOB);
    given.then((s) => decideSetAffiliations({ ...address(ALICE), affiliations: [{ jid: 'bob@localhost', affiliation: 'outcast' }] }, s));
    assert.equal(given.state!.subscriptions.some((s) => s.jid === 'bob@localhost'), false);
    refusal(() => subscribe(given, BOB), 'forbidden');
    refusal(() => decideSetAffiliations({ ...address(ALICE), affiliations: [{ jid: 'alice@localhost', affiliation: 'none' }] }, given.state), 'not-acceptable');
    refusal(() => decideSetAffiliations({ ...address(BOB), affiliations: [] }, given.state), 'forbidden');
    refusal(() => decideSubscribe({ ...address(CAROL), jid: 'mallory@localhost', options: {}, subscriberAvailable: true, presenceSubscriptions: [] },
      given.state, given.settings, given.ids), 'bad-request', 'invalid-jid');
    refusal(() => decideUnsubscribe({ ...address(CAROL), jid: 'alice@localhost', subid: '' }, given.state), 'forbidden');
    refusal(() => decideUnsubscribe({ ...address(CAROL), jid: 'carol@localhost', subid: '' }, given.state), 'unexpected-request', 'not-subscribed');
  });

  test('publish models: publishers only by default; subscribers; open', () => {
    const given = new Given(settingsWith());
    create(given);
    subscribe(given, BOB);
    refusal(() => publish(given, BOB, join('x')), 'forbidden');
    given.then((s) => decideConfigureNode({ ...address(ALICE), configuration: { 'pubsub#publish_model': 'subscribers' } }, s, given.settings));
    assert.equal(publish(given, BOB, join('x')).events.length, 1);
    refusal(() => publish(given, CAROL, join('x')), 'forbidden');
    given.then((s) => decideConfigureNode({ ...address(ALICE), configuration: { 'pubsub#publish_model': 'open' } }, s, given.settings));
    assert.equal(publish(given, CAROL, join('x')).events.length, 1);
  });
});

describe('items', () => {
  test('payload checks: well-formed, one namespaced element, within the size limit; payload-required', () => {
    const given = new Given(settingsWith());
    create(given);
    refusal(() => publish(given, ALICE, '<a xmlns="x">'), 'bad-request', 'invalid-payload');
    refusal(() => publish(given, ALICE, '<a xmlns="x"/><b xmlns="x"/>'), 'bad-request', 'invalid-payload');
    refusal(() => publish(given, ALICE, '<a/>'), 'bad-request', 'invalid-payload');
    refusal(() => publish(given, ALICE, `<a xmlns="x">${'y'.repeat(2000)}</a>`), 'not-acceptable', 'payload-too-big');
    refusal(() => publish(given, ALICE, ''), 'bad-request', 'payload-required');
  });

  test('publish-options are preconditions: conflict / precondition-not-met when the node differs', () => {
    const given = new Given(settingsWith());
    create(given);
    const withOptions = (publishOptions: Record<string, string>) =>
      decidePublish({ ...address(ALICE), itemId: 'i', payload: join('x'), publishOptions }, given.state, given.settings, given.ids);
    assert.equal(withOptions({ 'pubsub#access_model': 'open', 'pubsub#persist_items': 'true' }).result.itemId, 'i');
    refusal(() => withOptions({ 'pubsub#access_model': 'whitelist' }), 'conflict', 'precondition-not-met');
    refusal(() => withOptions({ 'pubsub#unknown': '1' }), 'conflict', 'precondition-not-met');
  });

  test('publish with an id replaces the item; retract by owner or own publisher only, notifying per notify_retract', () => {
    const given = new Given(settingsWith({}, { publishModel: 'open', notifyRetract: false }));
    create(given);
    given.apply(decidePublish({ ...address(BOB), itemId: 'b1', payload: join('bob'), publishOptions: {} }, given.state, given.settings, given.ids).events);
    given.apply(decidePublish({ ...address(ALICE), itemId: 'a1', payload: join('alice'), publishOptions: {} }, given.state, given.settings, given.ids).events);
    given.apply(decidePublish({ ...address(BOB), itemId: 'b1', payload: join('bob2'), publishOptions: {} }, given.state, given.settings, given.ids).events);
    assert.deepEqual(given.state!.items.map((i) => i.id), ['a1', 'b1']);
    refusal(() => decideRetract({ ...address(BOB), itemId: 'a1', notify: false }, given.state), 'forbidden');
    refusal(() => decideRetract({ ...address(BOB), itemId: '', notify: false }, given.state), 'bad-request', 'item-required');
    refusal(() => decideRetract({ ...address(BOB), itemId: 'zz', notify: false }, given.state), 'item-not-found');
    const quiet = decideRetract({ ...address(BOB), itemId: 'b1', notify: false }, given.state).events[0]!;
    assert.deepEqual(quiet.type === 'PubsubItemRetracted' && quiet.payload.recipients, []);
    const loud = decideRetract({ ...address(ALICE), itemId: 'b1', notify: true }, given.state).events[0]!;
    assert.deepEqual(loud.type === 'PubsubItemRetracted' && loud.payload.recipients.map((r) => r.jid), ['alice@localhost']);
  });
});
