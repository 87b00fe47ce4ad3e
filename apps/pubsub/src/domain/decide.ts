import { bareOf, isBareJid, isJid } from './jid';
import {
  applyConfigurationForm, applySubscriptionOptionsForm, checkPublishPreconditions, configurationForm, DEFAULT_SUBSCRIPTION_OPTIONS,
  subscriptionOptionsForm, type FormValues, type NodeConfig, type PubsubSettings,
} from './node-config';
import type { Affiliation, NodeState, PubsubEvent, StoredItem, SubscriptionRecord, SubscriptionState } from './node-state';
import { checkPayload } from './payload';
import { refuse } from './pubsub-error';

/**
 * XEP-0060 commands decided against a node's state: each returns the events to append and the
 * answer, or throws a PubsubError with the XEP's condition. Pure: ids come from `ids`.
 * https://xmpp.org/extensions/xep-0060.html
 */

/** Longest node name and item id (the event contracts' bound). */
export const MAX_NODE_NAME_LENGTH = 1024;
export const MAX_ITEM_ID_LENGTH = 1024;

export interface IdSource {
  /** A new unique id (subids, generated item ids and instant node names). */
  next(): string;
}

export interface Decision<R> {
  events: PubsubEvent[];
  result: R;
}

interface NodeAddress {
  actor: string;
  service: string;
  node: string;
}

/** Who is told about a change: one entry per subscribed JID with all its delivering subids (§6.1.6, §12.20). */
export type Recipients = { jid: string; subids: string[] }[];

export function recipientsOf(state: Pick<NodeState, 'subscriptions'>): Recipients {
  const byJid = new Map<string, string[]>();
  for (const s of state.subscriptions) {
    if (s.state !== 'subscribed' || !s.options.deliver) continue;
    const subids = byJid.get(s.jid) ?? [];
    subids.push(s.subid);
    byJid.set(s.jid, subids);
  }
  return [...byJid].map(([jid, subids]) => ({ jid, subids }));
}

export const affiliationOf = (state: Pick<NodeState, 'affiliations'>, jid: string): Affiliation => state.affiliations.get(bareOf(jid)) ?? 'none';

function existing(state: NodeState | undefined, node: string): NodeState {
  if (!node) throw refuse.nodeidRequired();
  if (!state) throw refuse.nodeNotFound(node);
  return state;
}

export function requireOwner(state: NodeState | undefined, address: NodeAddress, what: string): NodeState {
  const node = existing(state, address.node);
  if (affiliationOf(node, address.actor) !== 'owner') throw refuse.notOwner(what);
  return node;
}

const isSubscribed = (state: NodeState, actor: string) =>
  state.subscriptions.some((s) => s.state === 'subscribed' && bareOf(s.jid) === bareOf(actor));

/**
 * Access to a node's content (subscribe, retrieve items), by affiliation then access model
 * (§4.1 affiliation table, §4.5 access models). `presenceSubscriptions`: the bare JIDs whose
 * presence the actor receives, from its roster (the gateway knows it).
 * Returns 'pending' when an authorize node needs the owner's approval first.
 */
export function accessOf(state: NodeState, actor: string, presenceSubscriptions: readonly string[], purpose: 'subscribe' | 'retrieve'): 'granted' | 'pending' {
  const affiliation = affiliationOf(state, actor);
  if (affiliation === 'outcast') throw refuse.forbidden('you are banned from this node');
  if (affiliation === 'owner' || affiliation === 'publisher' || affiliation === 'member') return 'granted';
  if (affiliation === 'publish-only') throw refuse.forbidden('publish-only affiliates may not subscribe or retrieve items');
  switch (state.config.accessModel) {
    case 'open':
      return 'granted';
    case 'whitelist':
      throw refuse.closedNode();
    case 'presence': {
      const owners = [...state.affiliations].filter(([, a]) => a === 'owner').map(([jid]) => jid);
      if (owners.some((owner) => presenceSubscriptions.includes(owner))) return 'granted';
      throw refuse.presenceRequired();
    }
    case 'authorize':
      if (purpose === 'subscribe') return 'pending';
      if (isSubscribed(state, actor)) return 'granted';
      throw refuse.notAuthorizedSubscriber();
  }
}

/** The subscription a request means: by subid, or the JID's only one (§6.2.3). */
function targetSubscription(state: NodeState, jid: string, subid: string): SubscriptionRecord {
  const held = state.subscriptions.filter((s) => s.jid === jid);
  if (subid) {
    const found = held.find((s) => s.subid === subid);
    if (!found) throw held.length === 0 ? refuse.notSubscribed() : refuse.invalidSubid(subid);
    return found;
  }
  if (held.length === 0) throw refuse.notSubscribed();
  if (held.length > 1) throw refuse.subidRequired();
  return held[0]!;
}

/** A request about `jid` made by `actor`: allowed for the actor's own JIDs and for owners (§6.2.3.2). */
function requireSelfOrOwner(state: NodeState, actor: string, jid: string): void {
  if (bareOf(jid) !== bareOf(actor) && affiliationOf(state, actor) !== 'owner') throw refuse.forbidden(`you may not act for ${jid}`);
}

const subscriptionChanged = (state: { service: string; node: string }, s: Pick<SubscriptionRecord, 'jid' | 'subid'>, subscription: SubscriptionState, options?: SubscriptionRecord['options']): PubsubEvent => ({
  type: 'PubsubSubscriptionChanged',
  payload: { service: state.service, node: state.node, jid: s.jid, subid: s.subid, subscription,
    ...(options ? { options: subscriptionOptionsForm(options) } : {}) },
});

// ---- §8.1 create, §8.2 configure, §8.4 delete, §8.5 purge -------------------------------------

export interface CreateNode extends NodeAddress {
  configuration: FormValues;
}

export function decideCreateNode(cmd: CreateNode, state: NodeState | undefined, settings: PubsubSettings, ids: IdSource):
  Decision<{ node: string; creatorSubscription?: SubscriptionRecord }> {
  if (state) throw refuse.nodeExists(cmd.node);
  if (cmd.node.length > MAX_NODE_NAME_LENGTH) throw refuse.badRequest(`node names are at most ${MAX_NODE_NAME_LENGTH} characters`);
  // §8.1.2 instant node: the service names it.
  const node = cmd.node || ids.next();
  const config = applyConfigurationForm(settings.defaults, cmd.configuration, settings);
  const owner = bareOf(cmd.actor);
  const events: PubsubEvent[] = [{ type: 'PubsubNodeCreated', payload: { service: cmd.service, node, owner, configuration: configurationForm(config) } }];
  if (!settings.autoSubscribeCreator) return { events, result: { node } };
  const creatorSubscription: SubscriptionRecord = { jid: owner, subid: ids.next(), state: 'subscribed', options: DEFAULT_SUBSCRIPTION_OPTIONS };
  events.push(subscriptionChanged({ service: cmd.service, node }, creatorSubscription, 'subscribed', creatorSubscription.options));
  return { events, result: { node, creatorSubscription } };
}

export function decideConfigureNode(cmd: CreateNode, state: NodeState | undefined, settings: PubsubSettings): Decision<NodeConfig> {
  const node = requireOwner(state, cmd, 'configure it');
  const config = applyConfigurationForm(node.config, cmd.configuration, settings);
  return { events: [{ type: 'PubsubNodeConfigured', payload: { service: node.service, node: node.node, configuration: configurationForm(config) } }], result: config };
}

export function decideDeleteNode(cmd: NodeAddress & { redirect: string }, state: NodeState | undefined): Decision<void> {
  const node = requireOwner(state, cmd, 'delete it');
  const recipients = node.config.notifyDelete ? recipientsOf(node) : [];
  return { events: [{ type: 'PubsubNodeDeleted', payload: { service: node.service, node: node.node, recipients, ...(cmd.redirect ? { redirect: cmd.redirect } : {}) } }], result: undefined };
}

export function decidePurgeNode(cmd: NodeAddress, state: NodeState | undefined): Decision<void> {
  const node = requireOwner(state, cmd, 'purge it');
  const recipients = node.config.notifyRetract ? recipientsOf(node) : [];
  return { events: [{ type: 'PubsubNodePurged', payload: { service: node.service, node: node.node, recipients } }], result: undefined };
}

// ---- §6.1 subscribe, §6.2 unsubscribe, §6.3 options -------------------------------------------

export interface Subscribe extends NodeAddress {
  jid: string;
  options: FormValues;
  subscriberAvailable: boolean;
  presenceSubscriptions: readonly string[];
}

export interface SubscribeResult {
  subscription: SubscriptionRecord;
  /** The JID already held a subscription and multiple subscriptions are off: nothing new was made. */
  existing: boolean;
  /** What the gateway sends the subscriber now (pubsub#send_last_published_item), newest last. */
  lastItems: StoredItem[];
  /** pubsub#deliver_payloads: whether those notifications carry the payload. */
  deliverPayload: boolean;
}

/**
 * §6.1. Whether the new subscriber gets the last published item is decided here, from
 * pubsub#send_last_published_item (§12.8 / §16.4.4): never → nothing, so the newest participant
 * is not told of their own join; on_sub → the newest item now; on_sub_and_presence → now if the
 * subscribing session is available, otherwise at SubscriberBecameAvailable.
 */
export function decideSubscribe(cmd: Subscribe, state: NodeState | undefined, settings: PubsubSettings, ids: IdSource): Decision<SubscribeResult> {
  const node = existing(state, cmd.node);
  if (!isJid(cmd.jid) || bareOf(cmd.jid) !== bareOf(cmd.actor)) throw refuse.invalidJid(cmd.jid);
  const access = accessOf(node, cmd.actor, cmd.presenceSubscriptions, 'subscribe');
  const options = applySubscriptionOptionsForm(DEFAULT_SUBSCRIPTION_OPTIONS, cmd.options);
  const held = node.subscriptions.filter((s) => s.jid === cmd.jid);
  if (held.length > 0 && !settings.multipleSubscriptions) {
    // §6.1.6: without multiple subscriptions a repeated subscribe answers with the one that exists.
    return { events: [], result: { subscription: held[0]!, existing: true, lastItems: [], deliverPayload: node.config.deliverPayloads } };
  }
  const subscription: SubscriptionRecord = { jid: cmd.jid, subid: ids.next(), state: access === 'pending' ? 'pending' : 'subscribed', options };
  return {
    events: [subscriptionChanged(node, subscription, subscription.state, options)],
    result: { subscription, existing: false, lastItems: lastItemsOnSubscribe(node, subscription, cmd.subscriberAvailable),
      deliverPayload: node.config.deliverPayloads },
  };
}

function lastItemsOnSubscribe(node: NodeState, subscription: SubscriptionRecord, subscriberAvailable: boolean): StoredItem[] {
  if (subscription.state !== 'subscribed' || !subscription.options.deliver) return [];
  const last = node.items.at(-1);
  if (!last) return [];
  switch (node.config.sendLastPublishedItem) {
    case 'never':
      return [];
    case 'on_sub':
      return [last];
    case 'on_sub_and_presence':
      return subscriberAvailable ? [last] : [];
  }
}

/**
 * The session of `actor` (a full JID) became available: for each node configured with
 * on_sub_and_presence whose subscriptions include the actor's bare or full JID, the newest item,
 * addressed to that subscription JID once with all its subids.
 */
export function lastItemsOnAvailability(actor: string, nodes: readonly NodeState[]): { node: NodeState; jid: string; subids: string[]; item: StoredItem }[] {
  return nodes.flatMap((node) => {
    const last = node.items.at(-1);
    if (node.config.sendLastPublishedItem !== 'on_sub_and_presence' || !last) return [];
    return recipientsOf(node)
      .filter((r) => r.jid === actor || r.jid === bareOf(actor))
      .map((r) => ({ node, jid: r.jid, subids: r.subids, item: last }));
  });
}

export function decideUnsubscribe(cmd: NodeAddress & { jid: string; subid: string }, state: NodeState | undefined): Decision<void> {
  const node = existing(state, cmd.node);
  requireSelfOrOwner(node, cmd.actor, cmd.jid);
  const target = targetSubscription(node, cmd.jid, cmd.subid);
  return { events: [subscriptionChanged(node, target, 'none')], result: undefined };
}

export interface SubscriptionOptionsCommand extends NodeAddress {
  jid: string;
  subid: string;
  options: FormValues;
}

/** §6.3.2: the subscription whose options are asked for. */
export function subscriptionOptionsOf(cmd: SubscriptionOptionsCommand, state: NodeState | undefined): SubscriptionRecord {
  const node = existing(state, cmd.node);
  requireSelfOrOwner(node, cmd.actor, cmd.jid);
  return targetSubscription(node, cmd.jid, cmd.subid);
}

/** §6.3.5: submitting options also completes an "unconfigured" subscription. */
export function decideSetSubscriptionOptions(cmd: SubscriptionOptionsCommand, state: NodeState | undefined): Decision<SubscriptionRecord> {
  const node = existing(state, cmd.node);
  const target = subscriptionOptionsOf(cmd, node);
  const options = applySubscriptionOptionsForm(target.options, cmd.options);
  const subscription = target.state === 'unconfigured' ? 'subscribed' : target.state;
  return { events: [subscriptionChanged(node, target, subscription, options)], result: { ...target, state: subscription, options } };
}

// ---- §8.8 / §8.9 owner management ----------------------------------------------------------

const AFFILIATIONS: readonly Affiliation[] = ['owner', 'publisher', 'publish-only', 'member', 'none', 'outcast'];

export function decideSetAffiliations(cmd: NodeAddress & { affiliations: { jid: string; affiliation: string }[] }, state: NodeState | undefined): Decision<void> {
  const node = requireOwner(state, cmd, 'manage affiliations');
  const after = new Map(node.affiliations);
  const events: PubsubEvent[] = [];
  for (const { jid, affiliation } of cmd.affiliations) {
    if (!isBareJid(jid)) throw refuse.badRequest(`${jid} is not a bare JID`);
    if (!AFFILIATIONS.includes(affiliation as Affiliation)) throw refuse.badRequest(`unknown affiliation ${affiliation}`);
    const value = affiliation as Affiliation;
    if ((after.get(jid) ?? 'none') === value) continue;
    if (value === 'none') after.delete(jid);
    else after.set(jid, value);
    events.push({ type: 'PubsubAffiliationChanged', payload: { service: node.service, node: node.node, jid, affiliation: value } });
    // An outcast, or someone taken off a whitelist, loses their subscriptions (§8.9.2, §4.5).
    const losesAccess = value === 'outcast' || (value === 'none' && node.config.accessModel === 'whitelist');
    if (losesAccess) {
      for (const s of node.subscriptions.filter((s) => bareOf(s.jid) === jid)) events.push(subscriptionChanged(node, s, 'none'));
    }
  }
  // §8.9.2.4: a node never loses its last owner.
  if (![...after.values()].includes('owner')) throw refuse.invalidConfiguration('the node must keep at least one owner');
  return { events, result: undefined };
}

const SUBSCRIPTION_STATES: readonly SubscriptionState[] = ['subscribed', 'pending', 'unconfigured', 'none'];

export function decideSetSubscriptions(cmd: NodeAddress & { subscriptions: { jid: string; subid: string; subscription: string }[] }, state: NodeState | undefined, settings: PubsubSettings, ids: IdSource): Decision<void> {
  const node = requireOwner(state, cmd, 'manage subscriptions');
  const events: PubsubEvent[] = [];
  for (const { jid, subid, subscription } of cmd.subscriptions) {
    if (!isJid(jid)) throw refuse.badRequest(`${jid} is not a JID`);
    if (!SUBSCRIPTION_STATES.includes(subscription as SubscriptionState)) throw refuse.badRequest(`unknown subscription state ${subscription}`);
    const value = subscription as SubscriptionState;
    const held = node.subscriptions.filter((s) => s.jid === jid && (!subid || s.subid === subid));
    if (subid && held.length === 0) throw refuse.invalidSubid(subid);
    if (held.length === 0) {
      if (value !== 'none') events.push(subscriptionChanged(node, { jid, subid: ids.next() }, value, DEFAULT_SUBSCRIPTION_OPTIONS));
      continue;
    }
    const targets = settings.multipleSubscriptions || value === 'none' ? held : held.slice(0, 1);
    for (const s of targets) if (s.state !== value) events.push(subscriptionChanged(node, s, value, value === 'none' ? undefined : s.options));
  }
  return { events, result: undefined };
}

// ---- §7.1 publish, §7.2 retract, §6.5 items --------------------------------------------------

export interface Publish extends NodeAddress {
  itemId: string;
  payload: string;
  publishOptions: FormValues;
}

function mayPublish(node: NodeState, actor: string): boolean {
  const affiliation = affiliationOf(node, actor);
  if (affiliation === 'outcast') return false;
  if (affiliation === 'owner' || affiliation === 'publisher' || affiliation === 'publish-only') return true;
  switch (node.config.publishModel) {
    case 'publishers':
      return false;
    case 'subscribers':
      return isSubscribed(node, actor);
    case 'open':
      return true;
  }
}

/** §7.1: one PubsubItemPublished whose recipients name each subscribed JID once (§6.1.6). */
export function decidePublish(cmd: Publish, state: NodeState | undefined, settings: PubsubSettings, ids: IdSource): Decision<{ itemId: string }> {
  const node = existing(state, cmd.node);
  if (cmd.itemId.length > MAX_ITEM_ID_LENGTH) throw refuse.badRequest(`item ids are at most ${MAX_ITEM_ID_LENGTH} characters`);
  if (!mayPublish(node, cmd.actor)) throw refuse.forbidden('you may not publish to this node');
  checkPublishPreconditions(node.config, cmd.publishOptions, settings);
  const { persistItems, deliverPayloads } = node.config;
  if (cmd.payload) {
    if (!persistItems && !deliverPayloads) throw refuse.itemForbidden();
    checkPayload(cmd.payload, settings.maxPayloadBytes);
  } else if (persistItems || deliverPayloads) {
    throw refuse.payloadRequired();
  }
  const itemId = cmd.itemId || ids.next();
  return {
    events: [{
      type: 'PubsubItemPublished',
      payload: { service: node.service, node: node.node, itemId, publisher: bareOf(cmd.actor), payload: cmd.payload,
        deliverPayload: deliverPayloads, persisted: persistItems, recipients: recipientsOf(node) },
    }],
    result: { itemId },
  };
}

export function decideRetract(cmd: NodeAddress & { itemId: string; notify: boolean }, state: NodeState | undefined): Decision<void> {
  const node = existing(state, cmd.node);
  if (!cmd.itemId) throw refuse.itemRequired();
  const affiliation = affiliationOf(node, cmd.actor);
  const item = node.items.find((i) => i.id === cmd.itemId);
  if (affiliation === 'outcast') throw refuse.forbidden('you are banned from this node');
  if (!item) throw refuse.itemNotFound(cmd.itemId);
  // §7.2.3.1: owners and publishers retract any item, others only their own.
  if (affiliation !== 'owner' && affiliation !== 'publisher' && bareOf(item.publisher) !== bareOf(cmd.actor)) {
    throw refuse.forbidden('you may only retract your own items');
  }
  const recipients = node.config.notifyRetract || cmd.notify ? recipientsOf(node) : [];
  return { events: [{ type: 'PubsubItemRetracted', payload: { service: node.service, node: node.node, itemId: cmd.itemId, recipients } }], result: undefined };
}

/** §6.5: may the actor read the node's items? Throws the XEP's refusal otherwise. */
export function requireItemAccess(cmd: NodeAddress & { presenceSubscriptions: readonly string[] }, state: NodeState | undefined): NodeState {
  const node = existing(state, cmd.node);
  accessOf(node, cmd.actor, cmd.presenceSubscriptions, 'retrieve');
  return node;
}
