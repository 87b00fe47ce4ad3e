import type { IqHandler, IqRequest } from '../../router/router';
import { StanzaError } from '../../stream/errors';
import { readForm } from '../../xml/data-form';
import { xml, type Element } from '../../xml/element';
import { Jid } from '../../xml/jid';
import { NS } from '../../xml/namespaces';
import type { ReadStateCalls } from './read-state-calls';
import { checkPublishOptions, displayedItem, MDS_NODE, PubsubError, readDisplayed, unsupported } from './read-markers.xml';

/**
 * The part of PEP (XEP-0163) that XEP-0490 Message Displayed Synchronization needs, on the user's
 * own bare JID: publish to and retrieve items of the node `urn:xmpp:mds:displayed:0`, whose items
 * are read-state's pointers (item id = the chat's bare JID, payload = the pointer's stanza id).
 * There is no node storage here: a publish is a MoveReadPointer, a retrieval is
 * GetDisplayedItems. Notifications go out from read-markers.module.ts when the pointer moved.
 *
 * Other PEP nodes (avatars, bookmarks, OMEMO …) are not served yet: feature-not-implemented with
 * the pubsub `<unsupported/>` condition, so clients fall back as XEP-0060 §7.1.3.x lets them.
 */
export function mdsPepHandlers(readState: ReadStateCalls): { get: IqHandler; set: IqHandler } {
  return {
    set: async (request) => {
      const owner = pepOwner(request);
      const publish = only(request.payload, 'publish');
      if (publish.attr('node') !== MDS_NODE) throw unsupportedNode(publish);
      // XEP-0060 §7.1.3.6: one item per publish request on a node that keeps item ids.
      const items = publish.childrenNamed('item', NS.pubsub);
      if (items.length !== 1) throw new PubsubError('bad-request', 'invalid-payload', undefined, 'publish exactly one item');
      const item = items[0]!;
      const peer = Jid.parse(item.attr('id') ?? '');
      if (!peer || !peer.local || !peer.isBare) throw new PubsubError('bad-request', 'item-forbidden', undefined, 'the item id is the bare JID of the chat (XEP-0490 §4.1)');
      const payloads = item.elements();
      if (payloads.length !== 1 || !payloads[0]!.is('displayed', MDS_NODE)) throw new PubsubError('bad-request', 'invalid-payload', undefined, 'the payload is one <displayed/>');
      const state = readDisplayed(payloads[0]!);
      // §4.2: for 1:1 chats the stanza id is the one the user's own server stamped (by = the user).
      if (state.by !== owner.toString()) throw new StanzaError('bad-request', `stanza-id by must be ${owner.toString()} for a 1:1 chat`);
      const options = request.payload.child('publish-options', NS.pubsub);
      checkPublishOptions(options && readForm(options));
      // A stanza id not ahead of the pointer succeeds without effect: the item stays at the furthest point.
      await readState.move({ user: owner.toString(), peer: peer.toString(), stanza_id: state.stanzaId, moved_by: 'mds' });
      return xml('pubsub', NS.pubsub, {}, xml('publish', NS.pubsub, { node: MDS_NODE }, xml('item', NS.pubsub, { id: peer.toString() })));
    },

    get: async (request) => {
      const owner = pepOwner(request);
      const retrieve = only(request.payload, 'items');
      if (retrieve.attr('node') !== MDS_NODE) throw unsupportedNode(retrieve);
      const peers = retrieve.childrenNamed('item', NS.pubsub).map((i) => i.attr('id') ?? '').filter(Boolean);
      const maxItems = Number.parseInt(retrieve.attr('max_items') ?? '', 10);
      const { items } = await readState.displayedItems(owner.toString(), peers);
      const returned = Number.isFinite(maxItems) && maxItems >= 0 ? items.slice(0, maxItems) : items;
      return xml('pubsub', NS.pubsub, {}, xml('items', NS.pubsub, { node: MDS_NODE },
        ...returned.map((i) => displayedItem(NS.pubsub, i.peer, { stanzaId: i.stanza_id, by: i.by }))));
    },
  };
}

/**
 * XEP-0163 §3: the PEP service of an account is its bare JID; a request without `to` goes to the
 * sender's own. Another user's MDS node has the whitelist access model (XEP-0490 §7): refused
 * as XEP-0060 §6.5.9 asks for a node
 * whose whitelist does not include the requester.
 */
function pepOwner(request: IqRequest): Jid {
  const { session, stanza, target, payload } = request;
  if (target === 'self' || (target === 'server' && stanza.attr('to') === undefined)) return session.jid.bare;
  const node = payload.elements()[0]?.attr('node');
  if (target === 'account' && node === MDS_NODE) throw new PubsubError('not-allowed', 'closed-node', undefined, 'the node is private to its owner');
  if (target === 'account') throw unsupported('retrieve-items', 'this server serves only urn:xmpp:mds:displayed:0 over PEP');
  // Pubsub at the domain itself: the service lives at pubsub.<domain> (XEP-0060 §4.6.1).
  throw new StanzaError('feature-not-implemented', `pubsub is served at pubsub.${request.to.domain}`);
}

/** The one action element of a `<pubsub/>` request (XEP-0060 §7, §6). */
function only(pubsub: Element, expected: 'publish' | 'items'): Element {
  const actions = pubsub.elements().filter((e) => e.ns === NS.pubsub && e.name !== 'publish-options');
  const action = actions[0];
  if (actions.length !== 1 || !action) throw new StanzaError('bad-request', 'a pubsub request has one action');
  if (action.name !== expected) {
    // Subscribe, retract, create, configure … on the MDS node or any other: not served by this PEP.
    throw unsupported(FEATURE_OF_ACTION[action.name] ?? action.name, `PEP here serves only publish and items on ${MDS_NODE}`);
  }
  return action;
}

/** XEP-0060 §10 feature names of the actions a client might try. */
const FEATURE_OF_ACTION: Record<string, string> = {
  create: 'create-nodes', subscribe: 'subscribe', unsubscribe: 'subscribe', retract: 'retract-items',
  subscriptions: 'retrieve-subscriptions', affiliations: 'retrieve-affiliations', options: 'subscription-options',
  items: 'retrieve-items', publish: 'publish',
};

function unsupportedNode(action: Element): PubsubError {
  return unsupported(action.name === 'publish' ? 'publish' : 'retrieve-items', `PEP here serves only ${MDS_NODE}, not ${action.attr('node') ?? 'no node'}`);
}
