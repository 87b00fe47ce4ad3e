/**
 * Issue 8 through the real protocol: XEP-0060 at pubsub.localhost, the gateway's pubsub module in
 * front of the pubsub service, notifications from the log. The server runs as shipped for this
 * product: send_last_published_item defaults to never, one subscription per JID, creators
 * subscribed. "Nothing more arrived" is shown with a later notification on the same node: a
 * node's events are one partition, delivered in order, so once the later one is in, an earlier
 * one that was going to arrive has arrived.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { xml, type TestXmppClient } from '@hearth/testing';
import { startStack, type Stack } from './support/stack';
import {
  EVENT, form, formValues, joined, NODE_CONFIG, notifications, OWNER, owner, publish, PUBSUB, pubsub, refusal, SERVICE, subscribe, waitForItem,
} from './support/pubsub-client';

/** An IQ round trip: what the gateway wrote to this client before answering has arrived. */
const pingServer = (client: TestXmppClient) => client.iq('get', xml('ping', { xmlns: 'urn:xmpp:ping' }), 'localhost');

const RSM = 'http://jabber.org/protocol/rsm';

const USERS = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace', 'heidi', 'ivan', 'judy', 'mallory'].map((u) => `${u}@localhost`);

describe('pubsub at pubsub.localhost (XEP-0060, issue 8)', () => {
  let stack: Stack;
  const clients: TestXmppClient[] = [];
  /** Logs in and sends initial presence (notifications go to available resources). */
  const online = async (user: string, resource = 'phone', presence = true) => {
    const client = await stack.connect(`${user}@localhost`, { resource });
    clients.push(client);
    if (presence) await client.send(xml('presence'));
    return client;
  };

  before(async () => {
    stack = await startStack({
      services: ['pubsub'], users: USERS,
      serviceEnv: { pubsub: { HEARTH_PUBSUB_SEND_LAST_PUBLISHED_ITEM: 'never', HEARTH_PUBSUB_MULTIPLE_SUBSCRIPTIONS: 'false', HEARTH_PUBSUB_AUTO_SUBSCRIBE_CREATOR: 'true' } },
    });
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.stop()));
    await stack?.stop();
  });

  test('alice creates /meal/42/participants and is subscribed; bob joins and is not told of his own join; carol joins and alice and bob are each told once', async () => {
    const node = '/meal/42/participants';
    const [alice, bob, carol] = [await online('alice'), await online('bob'), await online('carol')];

    await alice.iq('set', pubsub(xml('create', { node }), xml('configure', {}, form(NODE_CONFIG, { 'pubsub#title': 'Participants of meal 42' }))), SERVICE);
    const mine = await alice.iq('get', pubsub(xml('subscriptions', { node })), SERVICE);
    const aliceSubscriptions = mine.getChild('pubsub', PUBSUB)!.getChild('subscriptions', PUBSUB)!.getChildren('subscription', PUBSUB);
    assert.deepEqual(aliceSubscriptions.map((s) => [s.attrs.node, s.attrs.jid, s.attrs.subscription]), [[node, 'alice@localhost', 'subscribed']],
      'the creator is subscribed');

    // bob joins: alice publishes "bob joined", then bob subscribes
    await publish(alice, node, 'bob', joined('bob'));
    const bobSubscription = await subscribe(bob, node);
    assert.equal(bobSubscription.attrs.subscription, 'subscribed');
    assert.ok(bobSubscription.attrs.subid, 'the subscription has an id');
    const toAlice = await waitForItem(alice, node, 'bob');
    assert.equal(toAlice.attrs.from, SERVICE);
    assert.equal(toAlice.getChild('event', EVENT)!.getChild('items', EVENT)!.getChild('item', EVENT)!.getChild('joined', 'urn:example:meal')?.getChildText('who'), 'bob',
      'the notification carries the payload');
    assert.equal(toAlice.getChild('headers', 'http://jabber.org/protocol/shim'), undefined, 'one subscription: no SubID header');

    // carol joins
    await publish(alice, node, 'carol', joined('carol'));
    await subscribe(carol, node);
    await waitForItem(alice, node, 'carol');
    await waitForItem(bob, node, 'carol');

    // a later item, so that anything else about bob's and carol's joins would have arrived by now
    await publish(alice, node, 'dessert', xml('course', { xmlns: 'urn:example:meal' }, 'dessert'));
    await Promise.all([alice, bob, carol].map((c) => waitForItem(c, node, 'dessert')));
    assert.equal(notifications(bob, node, 'bob').length, 0, 'bob is not told of his own join (send_last_published_item = never)');
    assert.equal(notifications(carol, node, 'carol').length, 0, 'nor is carol of hers');
    assert.equal(notifications(alice, node, 'bob').length, 1, 'alice is told once that bob joined');
    assert.equal(notifications(alice, node, 'carol').length, 1, 'alice is told once that carol joined');
    assert.equal(notifications(bob, node, 'carol').length, 1, 'bob is told once that carol joined');
  });

  test('with send_last_published_item = on_sub, bob is told of his own join when he subscribes', async () => {
    const node = '/meal/43/participants';
    const [alice, bob] = [await online('alice', 'tablet'), await online('bob', 'tablet')];
    await alice.iq('set', pubsub(xml('create', { node }), xml('configure', {}, form(NODE_CONFIG, { 'pubsub#send_last_published_item': 'on_sub' }))), SERVICE);
    await publish(alice, node, 'bob', joined('bob'));
    const subscription = await subscribe(bob, node);
    const last = await waitForItem(bob, node, 'bob');
    assert.equal(last.getChild('event', EVENT)!.getChild('items', EVENT)!.getChild('item', EVENT)!.getChild('joined', 'urn:example:meal')?.getChildText('who'), 'bob');
    assert.ok(last.getChild('delay', 'urn:xmpp:delay')?.attrs.stamp, 'the last published item carries its publication time (XEP-0203)');
    assert.deepEqual(last.getChild('headers', 'http://jabber.org/protocol/shim')?.getChildren('header').map((h) => h.text()), [subscription.attrs.subid]);
    const index = (s: typeof last) => bob.received.indexOf(s);
    assert.ok(index(last) > bob.received.findIndex((s) => s.is('iq') && s.getChild('pubsub', PUBSUB)?.getChild('subscription', PUBSUB)?.attrs.node === node),
      'the last item follows the subscription result');
  });

  test('multiple subscriptions off: bob\'s second subscribe makes no second subscription; he unsubscribes without a subid', async () => {
    const node = '/meal/44/participants';
    const [alice, bob] = [await online('alice', 'laptop'), await online('bob', 'laptop')];
    await alice.iq('set', pubsub(xml('create', { node })), SERVICE);
    const first = await subscribe(bob, node);
    const second = await subscribe(bob, node);
    assert.equal(second.attrs.subid, first.attrs.subid, 'the second subscribe answers with the existing subscription');

    const listed = await alice.iq('get', owner(xml('subscriptions', { node })), SERVICE);
    const entries = listed.getChild('pubsub', OWNER)!.getChild('subscriptions', OWNER)!.getChildren('subscription', OWNER);
    assert.deepEqual(entries.filter((s) => s.attrs.jid === 'bob@localhost').map((s) => s.attrs.subid), [first.attrs.subid], 'bob holds one subscription');

    await publish(alice, node, 'starter', xml('course', { xmlns: 'urn:example:meal' }, 'starter'));
    await waitForItem(bob, node, 'starter');
    await bob.iq('set', pubsub(xml('unsubscribe', { node, jid: 'bob@localhost' })), SERVICE);
    const left = await bob.iq('get', pubsub(xml('subscriptions', { node })), SERVICE);
    assert.equal(left.getChild('pubsub', PUBSUB)!.getChild('subscriptions', PUBSUB)!.getChildren('subscription', PUBSUB).length, 0);

    await publish(alice, node, 'main', xml('course', { xmlns: 'urn:example:meal' }, 'main'));
    await waitForItem(alice, node, 'main');
    // alice's notification of "main" is in, so bob's would have been written in the same pass, before this answer
    await pingServer(bob);
    assert.equal(notifications(bob, node, 'starter').length, 1, 'bob was told once while subscribed');
    assert.equal(notifications(bob, node, 'main').length, 0, 'and not after unsubscribing');
  });

  test('on_sub_and_presence: dave, subscribed while not yet available, gets the last item when his initial presence arrives', async () => {
    const node = '/meal/45/participants';
    const alice = await online('alice', 'desk');
    await alice.iq('set', pubsub(xml('create', { node }), xml('configure', {}, form(NODE_CONFIG, { 'pubsub#send_last_published_item': 'on_sub_and_presence' }))), SERVICE);
    await publish(alice, node, 'dave', joined('dave'));

    const dave = await online('dave', 'phone', false);
    await subscribe(dave, node);
    await pingServer(dave); // anything sent for the subscribe would come before this answer
    assert.equal(notifications(dave, node).length, 0, 'nothing on subscribing: dave is not available yet');
    await dave.send(xml('presence'));
    const last = await waitForItem(dave, node, 'dave');
    assert.equal(last.attrs.to, dave.jid);
    await pingServer(dave);
    assert.equal(notifications(dave, node, 'dave').length, 1, 'once');
  });

  test('alice manages her node: configuration form, affiliations, items by count and id, retract, purge, delete with redirect', async () => {
    const node = '/meal/46/participants';
    const [alice, erin] = [await online('alice', 'owner'), await online('erin')];
    await alice.iq('set', pubsub(xml('create', { node })), SERVICE);

    const configuration = await alice.iq('get', owner(xml('configure', { node })), SERVICE);
    const x = configuration.getChild('pubsub', OWNER)!.getChild('configure', OWNER)!.getChild('x', 'jabber:x:data')!;
    assert.equal(x.attrs.type, 'form');
    const values = formValues(x);
    assert.deepEqual(values.FORM_TYPE, [NODE_CONFIG]);
    assert.deepEqual(values['pubsub#send_last_published_item'], ['never'], 'the server default');
    const sendLast = x.getChildren('field', 'jabber:x:data').find((f) => f.attrs.var === 'pubsub#send_last_published_item')!;
    assert.equal(sendLast.attrs.type, 'list-single');
    assert.deepEqual(sendLast.getChildren('option', 'jabber:x:data').map((o) => o.getChildText('value')), ['never', 'on_sub', 'on_sub_and_presence']);
    await alice.iq('set', owner(xml('configure', { node }, form(NODE_CONFIG, { 'pubsub#max_items': '3', 'pubsub#title': 'Meal 46' }))), SERVICE);
    const reread = formValues((await alice.iq('get', owner(xml('configure', { node })), SERVICE)).getChild('pubsub', OWNER)!.getChild('configure', OWNER)!.getChild('x', 'jabber:x:data'));
    assert.deepEqual([reread['pubsub#max_items'], reread['pubsub#title']], [['3'], ['Meal 46']]);

    // erin may publish once alice makes her a publisher
    assert.equal((await refusal(publish(erin, node, undefined, joined('erin')))).condition, 'forbidden');
    await alice.iq('set', owner(xml('affiliations', { node }, xml('affiliation', { jid: 'erin@localhost', affiliation: 'publisher' }))), SERVICE);
    const affiliations = await alice.iq('get', owner(xml('affiliations', { node })), SERVICE);
    assert.deepEqual(affiliations.getChild('pubsub', OWNER)!.getChild('affiliations', OWNER)!.getChildren('affiliation', OWNER).map((a) => [a.attrs.jid, a.attrs.affiliation]).sort(),
      [['alice@localhost', 'owner'], ['erin@localhost', 'publisher']]);
    const mineErin = await erin.iq('get', pubsub(xml('affiliations')), SERVICE);
    assert.deepEqual(mineErin.getChild('pubsub', PUBSUB)!.getChild('affiliations', PUBSUB)!.getChildren('affiliation', PUBSUB).map((a) => [a.attrs.node, a.attrs.affiliation]),
      [[node, 'publisher']]);
    const generated = await publish(erin, node, undefined, joined('erin'));
    assert.ok(generated.length > 0, 'the service makes up an item id');
    const toAlice = await waitForItem(alice, node, generated);
    assert.equal(toAlice.getChild('event', EVENT)!.getChild('items', EVENT)!.getChild('item', EVENT)!.attrs.publisher, 'erin@localhost');

    for (const id of ['a', 'b', 'c']) await publish(alice, node, id, xml('course', { xmlns: 'urn:example:meal' }, id));
    const itemIds = async (items: ReturnType<typeof xml>) =>
      (await alice.iq('get', pubsub(items), SERVICE)).getChild('pubsub', PUBSUB)!.getChild('items', PUBSUB)!.getChildren('item', PUBSUB).map((i) => i.attrs.id);
    assert.deepEqual(await itemIds(xml('items', { node })), ['a', 'b', 'c'], 'pubsub#max_items = 3 keeps the newest three');
    assert.deepEqual(await itemIds(xml('items', { node, max_items: '2' })), ['b', 'c']);
    assert.deepEqual(await itemIds(xml('items', { node }, xml('item', { id: 'a' }))), ['a']);

    await alice.iq('set', pubsub(xml('retract', { node, notify: 'true' }, xml('item', { id: 'a' }))), SERVICE);
    await alice.waitFor((s) => s.getChild('event', EVENT)?.getChild('items', EVENT)?.getChild('retract', EVENT)?.attrs.id === 'a', 'the retraction');
    await alice.iq('set', owner(xml('purge', { node })), SERVICE);
    await alice.waitFor((s) => s.getChild('event', EVENT)?.getChild('purge', EVENT)?.attrs.node === node, 'the purge');
    assert.deepEqual(await itemIds(xml('items', { node })), []);

    await alice.iq('set', owner(xml('delete', { node }, xml('redirect', { uri: `xmpp:${SERVICE}?;node=/meal/47/participants` }))), SERVICE);
    const deleted = await alice.waitFor((s) => s.getChild('event', EVENT)?.getChild('delete', EVENT)?.attrs.node === node, 'the deletion');
    assert.equal(deleted.getChild('event', EVENT)!.getChild('delete', EVENT)!.getChild('redirect', EVENT)?.attrs.uri, `xmpp:${SERVICE}?;node=/meal/47/participants`);
    assert.equal((await refusal(alice.iq('get', pubsub(xml('items', { node })), SERVICE))).condition, 'item-not-found');
  });

  test('instant nodes, publish-options preconditions, and discovery of the service and its nodes', async () => {
    const frank = await online('frank');
    const created = await frank.iq('set', pubsub(xml('create')), SERVICE);
    const instant = created.getChild('pubsub', PUBSUB)!.getChild('create', PUBSUB)!.attrs.node!;
    assert.ok(instant, 'the service names an instant node');

    const publishOptions = (fields: Record<string, string>) => xml('publish-options', {}, form(`${PUBSUB}#publish-options`, fields));
    await publish(frank, instant, 'kept', joined('frank'), publishOptions({ 'pubsub#persist_items': 'true', 'pubsub#access_model': 'open' }));
    const unmet = await refusal(publish(frank, instant, 'refused', joined('frank'), publishOptions({ 'pubsub#access_model': 'whitelist' })));
    assert.deepEqual([unmet.condition, unmet.pubsub], ['conflict', 'precondition-not-met']);

    const server = await frank.iq('get', xml('query', { xmlns: 'http://jabber.org/protocol/disco#items' }), 'localhost');
    assert.ok(server.getChild('query')!.getChildren('item').some((i) => i.attrs.jid === SERVICE), 'the server lists its pubsub service');
    const info = (await frank.iq('get', xml('query', { xmlns: 'http://jabber.org/protocol/disco#info' }), SERVICE)).getChild('query')!;
    assert.deepEqual(info.getChild('identity')!.attrs.category + '/' + info.getChild('identity')!.attrs.type, 'pubsub/service');
    const features = info.getChildren('feature').map((f) => f.attrs.var);
    for (const feature of ['', '#create-nodes', '#instant-nodes', '#publish', '#publish-options', '#subscribe', '#retrieve-items', '#config-node', '#last-published',
      '#retrieve-default-sub']) {
      assert.ok(features.includes(`${PUBSUB}${feature}`), `feature ${PUBSUB}${feature}`);
    }
    assert.ok(!features.includes(`${PUBSUB}#multi-subscribe`), 'one subscription per JID here: no multi-subscribe (XEP-0060 §6.1.6)');
    const nodeInfo = (await frank.iq('get', xml('query', { xmlns: 'http://jabber.org/protocol/disco#info', node: instant }), SERVICE)).getChild('query')!;
    assert.equal(nodeInfo.getChild('identity')!.attrs.type, 'leaf');
    assert.deepEqual(formValues(nodeInfo.getChild('x', 'jabber:x:data'))['pubsub#owner'], ['frank@localhost']);
    const nodes = (await frank.iq('get', xml('query', { xmlns: 'http://jabber.org/protocol/disco#items' }), SERVICE)).getChild('query')!;
    assert.ok(nodes.getChildren('item').some((i) => i.attrs.node === instant && i.attrs.jid === SERVICE));

    // XEP-0059 §2.6: max 0 asks for the number of nodes only; every page carries the count too.
    const discoItems = (rsm: ReturnType<typeof xml>) =>
      frank.iq('get', xml('query', { xmlns: 'http://jabber.org/protocol/disco#items' }, rsm), SERVICE).then((r) => r.getChild('query')!);
    const countOnly = await discoItems(xml('set', { xmlns: RSM }, xml('max', {}, '0')));
    assert.equal(countOnly.getChildren('item').length, 0, 'max 0: no items');
    const count = Number(countOnly.getChild('set', RSM)!.getChildText('count', RSM));
    assert.ok(count >= 1, 'frank\'s node at least');
    const all = await discoItems(xml('set', { xmlns: RSM }, xml('max', {}, '100')));
    assert.equal(all.getChildren('item').length, count, 'the count is the number of nodes listed');
    const firstPage = await discoItems(xml('set', { xmlns: RSM }, xml('max', {}, '1')));
    assert.deepEqual([firstPage.getChildren('item').length, firstPage.getChild('set', RSM)!.getChildText('count', RSM)], [1, String(count)],
      'a page of one still counts all nodes');
    const unknownNode = await refusal(frank.iq('get', xml('query', { xmlns: 'http://jabber.org/protocol/disco#info', node: '/nowhere' }), SERVICE));
    assert.equal(unknownNode.condition, 'item-not-found');
  });

  test('heidi asks for the default subscription options of the service and of a node (XEP-0060 §6.4)', async () => {
    const node = '/meal/49/participants';
    const heidi = await online('heidi');
    await heidi.iq('set', pubsub(xml('create', { node })), SERVICE);
    for (const request of [xml('default'), xml('default', { node })]) {
      const answer = (await heidi.iq('get', pubsub(request), SERVICE)).getChild('pubsub', PUBSUB)!.getChild('default', PUBSUB)!;
      assert.equal(answer.attrs.node, request.attrs.node, 'the node, when asked about one');
      const x = answer.getChild('x', 'jabber:x:data')!;
      assert.equal(x.attrs.type, 'form');
      assert.deepEqual(formValues(x), { FORM_TYPE: [`${PUBSUB}#subscribe_options`], 'pubsub#deliver': ['1'] });
    }
    const unknown = await refusal(heidi.iq('get', pubsub(xml('default', { node: '/meal/0/participants' })), SERVICE));
    assert.equal(unknown.condition, 'item-not-found', 'XEP-0060 §6.4.3');
  });

  test('refusals: whitelist outsiders, unknown nodes, non-owners, bad subids, bad configuration values', async () => {
    const node = '/meal/48/participants';
    const [grace, mallory] = [await online('grace'), await online('mallory')];
    await grace.iq('set', pubsub(xml('create', { node }), xml('configure', {}, form(NODE_CONFIG, { 'pubsub#access_model': 'whitelist' }))), SERVICE);

    const outsiderPublishes = await refusal(publish(mallory, node, undefined, joined('mallory')));
    assert.equal(outsiderPublishes.condition, 'forbidden', 'a non-member may not publish to a whitelist node');
    const outsiderSubscribes = await refusal(subscribe(mallory, node));
    assert.deepEqual([outsiderSubscribes.condition, outsiderSubscribes.pubsub], ['not-allowed', 'closed-node'], 'XEP-0060 §6.1.3.4');
    const outsiderReads = await refusal(mallory.iq('get', pubsub(xml('items', { node })), SERVICE));
    assert.deepEqual([outsiderReads.condition, outsiderReads.pubsub], ['not-allowed', 'closed-node']);

    const unknown = await refusal(subscribe(mallory, '/meal/0/participants'));
    assert.equal(unknown.condition, 'item-not-found');
    assert.equal((await refusal(publish(grace, '/meal/0/participants', 'x', joined('grace')))).condition, 'item-not-found');

    for (const request of [owner(xml('configure', { node })), owner(xml('configure', { node }, form(NODE_CONFIG, { 'pubsub#title': 'mine' })))]) {
      assert.equal((await refusal(mallory.iq(request.getChild('configure')!.getChild('x') ? 'set' : 'get', request, SERVICE))).condition, 'forbidden', 'configure by a non-owner');
    }
    assert.equal((await refusal(mallory.iq('set', owner(xml('purge', { node })), SERVICE))).condition, 'forbidden', 'purge by a non-owner');
    assert.equal((await refusal(mallory.iq('set', owner(xml('delete', { node })), SERVICE))).condition, 'forbidden', 'delete by a non-owner');

    const badValue = await refusal(grace.iq('set', owner(xml('configure', { node }, form(NODE_CONFIG, { 'pubsub#max_items': 'lots' }))), SERVICE));
    assert.equal(badValue.condition, 'not-acceptable');
    assert.match(badValue.text ?? '', /pubsub#max_items/, 'the reason names the field');

    await grace.iq('set', owner(xml('affiliations', { node }, xml('affiliation', { jid: 'mallory@localhost', affiliation: 'member' }))), SERVICE);
    const membership = await subscribe(mallory, node);
    assert.equal(membership.attrs.subscription, 'subscribed', 'a member may subscribe');
    const badSubid = await refusal(mallory.iq('get', pubsub(xml('options', { node, jid: 'mallory@localhost', subid: 'no-such-subid' })), SERVICE));
    assert.deepEqual([badSubid.condition, badSubid.pubsub], ['not-acceptable', 'invalid-subid']);
    const options = await mallory.iq('get', pubsub(xml('options', { node, jid: 'mallory@localhost', subid: membership.attrs.subid })), SERVICE);
    assert.deepEqual(formValues(options.getChild('pubsub', PUBSUB)!.getChild('options', PUBSUB)!.getChild('x', 'jabber:x:data'))['pubsub#deliver'], ['1']);
    const notMine = await refusal(mallory.iq('set', pubsub(xml('unsubscribe', { node, jid: 'grace@localhost' })), SERVICE));
    assert.equal(notMine.condition, 'forbidden', 'XEP-0060 §6.2.3.3: unsubscribing someone else');
    const forSomeoneElse = await refusal(mallory.iq('set', pubsub(xml('subscribe', { node, jid: 'grace@localhost' })), SERVICE));
    assert.deepEqual([forSomeoneElse.condition, forSomeoneElse.pubsub], ['bad-request', 'invalid-jid'], 'XEP-0060 §6.1.3.1');
  });
});
