import type { Logger } from '@hearth/runtime';
import type { IqHandler, IqRequest } from '../../router/router';
import { receivesPresenceFromContact } from '../../roster/roster-entry';
import type { RosterService } from '../../roster/roster.service';
import { StanzaError } from '../../stream/errors';
import { xml, type Element } from '../../xml/element';
import { Jid } from '../../xml/jid';
import { NS } from '../../xml/namespaces';
import {
  PubsubStanzaError, type PubsubCalls, type WireAffiliation, type WireConfiguration, type WireForm, type WireItem,
  type WireNodeSummary, type WireSubscribed, type WireSubscription,
} from './pubsub-calls';
import { FORM_TYPES, formToWire, isCancelled, wireToForm } from './pubsub-forms';
import { eventMessage, itemElement } from './pubsub-notifications';

/**
 * The service at pubsub.<domain> (XEP-0060): each IQ maps onto one call of the pubsub service
 * (apps/pubsub, which decides everything) and its answer back into XML. `actor` is always the
 * session's full JID, never anything from the stanza.
 */

/** XEP-0060 §10 features this service has, advertised in disco#info (`http://jabber.org/protocol/pubsub#<feature>`). */
export const PUBSUB_FEATURES = [
  'access-authorize', 'access-open', 'access-presence', 'access-whitelist', 'config-node', 'create-and-configure', 'create-nodes',
  'delete-items', 'delete-nodes', 'instant-nodes', 'item-ids', 'last-published', 'manage-subscriptions', 'meta-data',
  'modify-affiliations', 'persistent-items', 'publish', 'publish-options', 'purge-nodes', 'retract-items', 'retrieve-affiliations',
  'retrieve-default', 'retrieve-default-sub', 'retrieve-items', 'retrieve-subscriptions', 'subscribe', 'subscription-options',
];

/** §6.1.6: advertised only when the service lets one JID hold several subscriptions to a node (its setting, asked per disco#info). */
const MULTI_SUBSCRIBE = 'multi-subscribe';

/** disco#items of the service: largest page when the client gives no RSM max (the pubsub service caps it too). */
const DISCO_ITEMS_PAGE = 100;

interface Context {
  request: IqRequest;
  /** The action element: `<create/>`, `<subscribe/>`, … */
  action: Element;
  /** The `<pubsub/>` element holding it (and its companions: `<configure/>`, `<options/>`, `<publish-options/>`). */
  pubsub: Element;
  actor: string;
  service: string;
  node: string;
}
type Action = (context: Context) => Promise<Element | void>;

export interface PubsubServiceDependencies {
  calls: PubsubCalls;
  roster: RosterService;
  logger: Logger;
}

export function pubsubIqHandler({ calls, roster, logger }: PubsubServiceDependencies): IqHandler {
  const pubsubResult = (ns: string, ...children: Element[]) => xml('pubsub', ns, {}, ...children);

  /** Bare JIDs whose presence the requester receives: the presence access model's question (§4.5). */
  const presenceSubscriptions = async (session: IqRequest['session']) =>
    (await roster.entries(session.jid.bare)).filter((e) => receivesPresenceFromContact(e.subscription)).map((e) => e.contact);

  const subscriptionElement = (ns: string, s: WireSubscription, withNode: boolean) =>
    xml('subscription', ns, { node: withNode ? s.node : undefined, jid: s.jid, subid: s.subid || undefined, subscription: s.subscription });

  /** §6.1.7 / §12.8: the last published item, to the subscribing resource, after the subscription result. */
  function sendLastItems({ request, service, node }: Context, subscribed: WireSubscribed): void {
    if (subscribed.last_items.length === 0) return;
    // The router sends the IQ result when this handler returns; the notification follows it.
    setImmediate(() => {
      for (const item of subscribed.last_items) {
        request.session.send(eventMessage({
          service, to: request.session.jid.toString(), id: `last-${subscribed.subscription.subid}-${item.id}`,
          content: xml('items', NS.pubsubEvent, { node }, itemElement(NS.pubsubEvent, item, subscribed.deliver_payload)),
          subids: [subscribed.subscription.subid], publishedAt: item.published_at || undefined,
        }));
      }
    });
  }

  const userActions: Record<string, Action> = {
    // §8.1.1 named and §8.1.2 instant nodes, §8.1.3 create-and-configure.
    'set create': async (c) => {
      const configure = c.pubsub.child('configure', NS.pubsub);
      const created = await calls.ok<{ node: string }>('CreateNode', {
        actor: c.actor, service: c.service, node: c.node, configuration: formToWire(configure, FORM_TYPES.nodeConfig),
      });
      if (!c.node) return pubsubResult(NS.pubsub, xml('create', NS.pubsub, { node: created.node }));
    },
    // §6.1 subscribe (§6.3.7 with options).
    'set subscribe': async (c) => {
      const subscribed = await calls.ok<WireSubscribed>('Subscribe', {
        actor: c.actor, service: c.service, node: c.node, jid: jidAttribute(c.action),
        options: formToWire(c.pubsub.child('options', NS.pubsub), FORM_TYPES.subscribeOptions),
        subscriber_available: c.request.session.available, actor_presence_subscriptions: await presenceSubscriptions(c.request.session),
      });
      sendLastItems(c, subscribed);
      return pubsubResult(NS.pubsub, subscriptionElement(NS.pubsub, { ...subscribed.subscription, node: c.node }, true));
    },
    // §6.2 unsubscribe.
    'set unsubscribe': async (c) => {
      await calls.ok('Unsubscribe', { actor: c.actor, service: c.service, node: c.node, jid: jidAttribute(c.action), subid: c.action.attr('subid') ?? '' });
    },
    // §6.3.2 request subscription options.
    'get options': async (c) => {
      const options = await calls.ok<{ node: string; jid: string; subid: string; options: Record<string, { values: string[] }> }>('GetSubscriptionOptions', {
        actor: c.actor, service: c.service, node: c.node, jid: jidAttribute(c.action), subid: c.action.attr('subid') ?? '',
      });
      return pubsubResult(NS.pubsub, xml('options', NS.pubsub, { node: c.node, jid: options.jid, subid: options.subid || undefined },
        wireToForm(FORM_TYPES.subscribeOptions, options.options)));
    },
    // §6.3.5 submit subscription options.
    'set options': async (c) => {
      if (isCancelled(c.action)) return;
      await calls.ok('SetSubscriptionOptions', {
        actor: c.actor, service: c.service, node: c.node, jid: jidAttribute(c.action), subid: c.action.attr('subid') ?? '',
        options: formToWire(c.action, FORM_TYPES.subscribeOptions),
      });
    },
    // §5.6 the requester's subscriptions.
    'get subscriptions': async (c) => {
      const { subscriptions } = await calls.ok<{ subscriptions: WireSubscription[] }>('GetSubscriptions', { actor: c.actor, service: c.service, node: c.node });
      return pubsubResult(NS.pubsub, xml('subscriptions', NS.pubsub, { node: c.node || undefined },
        ...subscriptions.map((s) => subscriptionElement(NS.pubsub, s, true))));
    },
    // §5.7 the requester's affiliations.
    'get affiliations': async (c) => {
      const { affiliations } = await calls.ok<{ affiliations: WireAffiliation[] }>('GetAffiliations', { actor: c.actor, service: c.service, node: c.node });
      return pubsubResult(NS.pubsub, xml('affiliations', NS.pubsub, { node: c.node || undefined },
        ...affiliations.map((a) => xml('affiliation', NS.pubsub, { node: a.node, affiliation: a.affiliation }))));
    },
    // §7.1 publish (§7.1.5 publish-options).
    'set publish': async (c) => {
      const items = c.action.childrenNamed('item', NS.pubsub);
      if (items.length > 1) throw new StanzaError('bad-request', 'publish one item at a time');
      const item = items[0];
      const published = await calls.ok<{ node: string; item_id: string }>('Publish', {
        actor: c.actor, service: c.service, node: c.node, item_id: item?.attr('id') ?? '',
        // Every child goes to the service, which refuses anything but one namespaced element (§7.1.3.5 invalid-payload).
        payload: item?.elements().map((child) => child.toString()).join('') ?? '',
        publish_options: formToWire(c.pubsub.child('publish-options', NS.pubsub), FORM_TYPES.publishOptions),
      });
      return pubsubResult(NS.pubsub, xml('publish', NS.pubsub, { node: published.node }, xml('item', NS.pubsub, { id: published.item_id })));
    },
    // §7.2 retract.
    'set retract': async (c) => {
      const item = c.action.child('item', NS.pubsub);
      await calls.ok('Retract', {
        actor: c.actor, service: c.service, node: c.node, item_id: item?.attr('id') ?? '', notify: isTrue(c.action.attr('notify')),
      });
    },
    // §6.5 retrieve items: all, the newest max_items (§6.5.7), or by id (§6.5.8).
    'get items': async (c) => {
      const max = c.action.attr('max_items');
      if (max !== undefined && !/^[1-9]\d{0,8}$/.test(max)) throw new StanzaError('bad-request', 'max_items is a positive integer');
      const { items } = await calls.ok<{ items: WireItem[] }>('GetItems', {
        actor: c.actor, service: c.service, node: c.node, max_items: max === undefined ? 0 : Number(max),
        item_ids: c.action.childrenNamed('item', NS.pubsub).map((item) => item.attr('id') ?? '').filter((id) => id !== ''),
        subid: c.action.attr('subid') ?? '', actor_presence_subscriptions: await presenceSubscriptions(c.request.session),
      });
      return pubsubResult(NS.pubsub, xml('items', NS.pubsub, { node: c.node }, ...items.map((item) => itemElement(NS.pubsub, item, true))));
    },
    // §6.4 default subscription options, of the service (§6.4.1) or of a node (§6.4.2).
    'get default': async (c) => {
      const defaults = await calls.ok<{ options: WireForm }>('GetDefaultSubscriptionOptions', { actor: c.actor, service: c.service, node: c.node });
      return pubsubResult(NS.pubsub, xml('default', NS.pubsub, { node: c.node || undefined }, wireToForm(FORM_TYPES.subscribeOptions, defaults.options)));
    },
  };

  const configurationForm = (configuration: WireConfiguration) =>
    wireToForm(FORM_TYPES.nodeConfig, configuration.configuration, configuration.options);

  const ownerActions: Record<string, Action> = {
    // §8.2 configure.
    'get configure': async (c) => {
      const configuration = await calls.ok<WireConfiguration>('GetNodeConfiguration', { actor: c.actor, service: c.service, node: c.node });
      return pubsubResult(NS.pubsubOwner, xml('configure', NS.pubsubOwner, { node: c.node }, configurationForm(configuration)));
    },
    'set configure': async (c) => {
      if (isCancelled(c.action)) return; // §8.2.5: the owner cancelled
      if (!c.action.child('x', 'jabber:x:data')) throw new StanzaError('bad-request', 'configure carries a data form');
      await calls.ok('ConfigureNode', {
        actor: c.actor, service: c.service, node: c.node, configuration: formToWire(c.action, FORM_TYPES.nodeConfig),
      });
    },
    // §8.3 default node configuration.
    'get default': async (c) => {
      const configuration = await calls.ok<WireConfiguration>('GetDefaultConfiguration', { actor: c.actor, service: c.service });
      return pubsubResult(NS.pubsubOwner, xml('default', NS.pubsubOwner, {}, configurationForm(configuration)));
    },
    // §8.4 delete (with §8.4.1 redirect).
    'set delete': async (c) => {
      await calls.ok('DeleteNode', {
        actor: c.actor, service: c.service, node: c.node, redirect: c.action.child('redirect', NS.pubsubOwner)?.attr('uri') ?? '',
      });
    },
    // §8.5 purge.
    'set purge': async (c) => {
      await calls.ok('PurgeNode', { actor: c.actor, service: c.service, node: c.node });
    },
    // §8.8.1 / §8.8.2 manage subscriptions.
    'get subscriptions': async (c) => {
      const { subscriptions } = await calls.ok<{ subscriptions: WireSubscription[] }>('GetSubscriptions', {
        actor: c.actor, service: c.service, node: c.node, as_owner: true,
      });
      return pubsubResult(NS.pubsubOwner, xml('subscriptions', NS.pubsubOwner, { node: c.node },
        ...subscriptions.map((s) => subscriptionElement(NS.pubsubOwner, s, false))));
    },
    'set subscriptions': async (c) => {
      const subscriptions = c.action.childrenNamed('subscription', NS.pubsubOwner).map((s) => ({
        node: c.node, jid: jidAttribute(s), subid: s.attr('subid') ?? '', subscription: s.attr('subscription') ?? '',
      }));
      await calls.ok('SetSubscriptions', { actor: c.actor, service: c.service, node: c.node, subscriptions });
    },
    // §8.9.1 / §8.9.2 manage affiliations.
    'get affiliations': async (c) => {
      const { affiliations } = await calls.ok<{ affiliations: WireAffiliation[] }>('GetAffiliations', {
        actor: c.actor, service: c.service, node: c.node, as_owner: true,
      });
      return pubsubResult(NS.pubsubOwner, xml('affiliations', NS.pubsubOwner, { node: c.node },
        ...affiliations.map((a) => xml('affiliation', NS.pubsubOwner, { jid: a.jid, affiliation: a.affiliation }))));
    },
    'set affiliations': async (c) => {
      const affiliations = c.action.childrenNamed('affiliation', NS.pubsubOwner).map((a) => ({
        node: c.node, jid: bareJidAttribute(a), affiliation: a.attr('affiliation') ?? '',
      }));
      await calls.ok('SetAffiliations', { actor: c.actor, service: c.service, node: c.node, affiliations });
    },
  };

  /** XEP-0030 on the service (§5.1–§5.3) and on its nodes (§5.4, §5.5). */
  async function discoInfo(request: IqRequest, service: string): Promise<Element> {
    const node = request.payload.attr('node');
    const actor = request.session.jid.toString();
    const [{ multiple_subscriptions: multipleSubscriptions }, listed] = await Promise.all([
      calls.ok<{ multiple_subscriptions: boolean }>('GetServiceFeatures', { actor, service }),
      node === undefined ? undefined : calls.ok<{ nodes: WireNodeSummary[] }>('ListNodes', { actor, service, node }),
    ]);
    const pubsubFeatures = multipleSubscriptions ? [...PUBSUB_FEATURES, MULTI_SUBSCRIBE] : PUBSUB_FEATURES;
    const features = [NS.discoInfo, NS.discoItems, NS.pubsub, ...pubsubFeatures.map((f) => `${NS.pubsub}#${f}`)]
      .map((feature) => xml('feature', NS.discoInfo, { var: feature }));
    if (!listed) {
      return xml('query', NS.discoInfo, {}, xml('identity', NS.discoInfo, { category: 'pubsub', type: 'service', name: 'Hearth publish-subscribe' }), ...features);
    }
    const { nodes } = listed;
    const summary = nodes[0];
    if (!summary) throw new StanzaError('item-not-found');
    return xml('query', NS.discoInfo, { node },
      xml('identity', NS.discoInfo, { category: 'pubsub', type: 'leaf', name: summary.title || undefined }),
      ...features,
      // §5.4 pubsub#meta-data.
      xml('x', 'jabber:x:data', { type: 'result' },
        xml('field', 'jabber:x:data', { var: 'FORM_TYPE', type: 'hidden' }, xml('value', 'jabber:x:data', {}, FORM_TYPES.metaData)),
        xml('field', 'jabber:x:data', { var: 'pubsub#title', type: 'text-single' }, xml('value', 'jabber:x:data', {}, summary.title)),
        xml('field', 'jabber:x:data', { var: 'pubsub#owner', type: 'jid-multi' }, ...summary.owners.map((o) => xml('value', 'jabber:x:data', {}, o))),
        xml('field', 'jabber:x:data', { var: 'pubsub#access_model', type: 'list-single' }, xml('value', 'jabber:x:data', {}, summary.access_model))));
  }

  async function discoItems(request: IqRequest, service: string): Promise<Element> {
    const actor = request.session.jid.toString();
    const node = request.payload.attr('node');
    if (node !== undefined) {
      // §5.5: a leaf node's items, named by id.
      const { items } = await calls.ok<{ items: WireItem[] }>('GetItems', {
        actor, service, node, max_items: 0, item_ids: [], subid: '', actor_presence_subscriptions: await presenceSubscriptions(request.session),
      });
      return xml('query', NS.discoItems, { node }, ...items.map((item) => xml('item', NS.discoItems, { jid: service, name: item.id })));
    }
    // §5.2 the nodes, paged by name with XEP-0059 (after, max), with the total count (§2.6).
    const rsm = request.payload.child('set', NS.rsm);
    const max = Number(rsm?.childText('max', NS.rsm) ?? DISCO_ITEMS_PAGE);
    if (!Number.isInteger(max) || max < 0) throw new StanzaError('bad-request', 'RSM max is a non-negative integer');
    const { nodes, more, count } = await calls.ok<{ nodes: WireNodeSummary[]; more: boolean; count: number }>('ListNodes', {
      // max 0 asks only for the count: one node is the smallest page the service loads (its 0 means "its page size").
      actor, service, after: rsm?.childText('after', NS.rsm) ?? '', max: Math.min(Math.max(max, 1), DISCO_ITEMS_PAGE),
    });
    const page = max === 0 ? [] : nodes;
    return xml('query', NS.discoItems, {},
      ...page.map((n) => xml('item', NS.discoItems, { jid: service, node: n.node, name: n.title || undefined })),
      (rsm || more) && xml('set', NS.rsm, {},
        page.length > 0 && xml('first', NS.rsm, {}, page[0]!.node),
        page.length > 0 && xml('last', NS.rsm, {}, page.at(-1)!.node),
        xml('count', NS.rsm, {}, String(count))));
  }

  return async (request) => {
    const { payload, stanza, session } = request;
    const type = stanza.attr('type') as 'get' | 'set';
    const service = request.to.toString();
    if (payload.is('query', NS.discoInfo) && type === 'get') return discoInfo(request, service);
    if (payload.is('query', NS.discoItems) && type === 'get') return discoItems(request, service);
    const actions = payload.is('pubsub', NS.pubsub) ? userActions : payload.is('pubsub', NS.pubsubOwner) ? ownerActions : undefined;
    // RFC 6120 §8.4: a payload the service does not understand.
    if (!actions) throw new StanzaError('service-unavailable');
    const action = payload.elements()[0];
    if (!action || action.ns !== payload.ns) throw new StanzaError('bad-request', 'the pubsub element holds one action');
    const run = actions[`${type} ${action.name}`];
    if (!run) {
      logger.debug({ jid: session.jid.toString(), action: action.name, type }, 'pubsub request not offered');
      throw new StanzaError('feature-not-implemented', `${type} ${action.name} is not a pubsub request here`);
    }
    return run({ request, action, pubsub: payload, actor: session.jid.toString(), service, node: action.attr('node') ?? '' });
  };
}

/** The `jid` attribute, normalised (RFC 7622) for the service; '' when absent (the service refuses with invalid-jid). */
function jidAttribute(element: Element): string {
  const raw = element.attr('jid');
  if (raw === undefined) return '';
  const jid = Jid.parse(raw);
  if (!jid) throw new PubsubStanzaError('jid-malformed', `${raw} is not a JID`, undefined, 'invalid-jid');
  return jid.toString();
}

/** Affiliations are held by bare JIDs (§4.1). */
function bareJidAttribute(element: Element): string {
  const jid = jidAttribute(element);
  return jid === '' ? '' : Jid.parse(jid)!.bare.toString();
}

/** XEP-0060 boolean attributes (`notify`) are xs:boolean. */
function isTrue(value: string | undefined): boolean {
  return value === 'true' || value === '1';
}
