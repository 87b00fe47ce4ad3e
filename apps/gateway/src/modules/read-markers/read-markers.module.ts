import { UnreadChanged } from '@hearth/contracts';
import type { IqRequest } from '../../router/router';
import type { Session } from '../../sessions/session';
import { StanzaError } from '../../stream/errors';
import { xml, type Element } from '../../xml/element';
import type { Jid } from '../../xml/jid';
import { NS } from '../../xml/namespaces';
import type { GatewayModule } from '../module';
import { EntityCaps } from './entity-caps';
import { mdsPepHandlers } from './mds-pep';
import { ReadStateCalls } from './read-state-calls';
import {
  CHAT_MARKERS_NS, displayedItem, HEARTH_UNREAD_NS, MDS_NODE, MDS_NOTIFY, MDS_SERVER_ASSIST, PUBLISH_OPTIONS_FORM, readDisplayed, unreadElement,
} from './read-markers.xml';

/**
 * Read markers: the XMPP side of read-state (issue 7, apps/read-state/README.md). One read
 * pointer per user and chat, moved from any device, followed by every device:
 *
 * - XEP-0333 displayed markers: a `<displayed id=X/>` from U to P moves U's pointer in the chat
 *   with P before the marker is routed; a marker naming no message of that chat is refused with
 *   the stanza error read-state names, and not delivered. Which id: XEP-0333 §4 and XEP-0490 §4.5
 *   say a 1:1 marker carries the id the *sender* gave the message (its `id` / XEP-0359 origin-id),
 *   and that is what read-state looks up first, among the peer's messages (the latest with that
 *   id, as a retried send may reuse it); Hearth clients that know messages by stanza id (MAM, push
 *   payloads) may put the stanza id there instead, which read-state tries next.
 * - XEP-0490 MDS: the PEP node urn:xmpp:mds:displayed:0 (mds-pep.ts), its server assist (§4.5.2:
 *   `<displayed xmlns='urn:xmpp:mds:displayed:0'>` inside a message is stripped and applied), and
 *   `+notify` notifications to sessions whose XEP-0115 caps ask for them (entity-caps.ts).
 * - urn:hearth:unread:0: the counts by IQ, and pushed to sessions that enabled them.
 *
 * Notifications come from the log (UnreadChanged), so every gateway tells the sessions it holds,
 * whichever gateway or HTTP call moved the pointer. Placed before the presence module (its caps
 * hook watches presence and lets it through) and before message delivery (its message hook
 * acts first and returns false so the message is delivered as usual). Off without read-state.
 */
export const readMarkersModule: GatewayModule = {
  name: 'read-markers',
  spec: 'https://xmpp.org/extensions/xep-0490.html',
  setup({ router, services, sessions, log, logger }) {
    if (!services.readState) return;
    const readState = new ReadStateCalls(services.readState);
    const caps = new EntityCaps(router, logger);
    const unreadEnabled = new WeakSet<Session>();
    router.accountFeature(HEARTH_UNREAD_NS, MDS_SERVER_ASSIST, PUBLISH_OPTIONS_FORM);

    // XEP-0333 markers and XEP-0490 §4.5.2 server assist, before the message is routed.
    router.hook('message', async (session, stanza, to) => {
      const marker = stanza.child('displayed', CHAT_MARKERS_NS);
      const assisted = stanza.child('displayed', MDS_NODE);
      if (!marker && !assisted) return false;
      // 1:1 chats with another local account only; group chats (no MUC yet) and other servers are out of scope.
      const type = stanza.attr('type') ?? 'normal';
      if (!to || !to.local || !router.isLocalDomain(to.domain) || to.bare.equals(session.jid.bare) || type === 'groupchat' || type === 'error') return false;
      const user = session.jid.bare.toString();
      const peer = to.bare.toString();
      try {
        if (assisted) {
          // §6.2: stripped before archiving, carbons and delivery, so the peer never sees the user's stanza id.
          stanza.children.splice(stanza.children.indexOf(assisted), 1);
          const state = readDisplayed(assisted);
          if (state.by !== user) throw new StanzaError('bad-request', `stanza-id by must be ${user} for a 1:1 chat`);
          await readState.move({ user, peer, stanza_id: state.stanzaId, moved_by: 'mds' });
        }
        if (marker) {
          const id = marker.attr('id');
          if (!id) throw new StanzaError('bad-request', 'a displayed marker has the id of the message it marks (XEP-0333 §4)');
          await readState.move({ user, peer, message_id: id, moved_by: 'displayed-marker' });
        }
      } catch (error) {
        if (!(error instanceof StanzaError)) throw error;
        logger.debug({ jid: session.jid.toString(), peer, condition: error.condition }, 'displayed marker refused: it is not delivered');
        router.bounce(stanza, error);
        return true;
      }
      return false;
    });

    const pep = mdsPepHandlers(readState);
    router.iq('set', NS.pubsub, 'pubsub', pep.set);
    router.iq('get', NS.pubsub, 'pubsub', pep.get);

    // urn:hearth:unread:0 (apps/read-state/README.md): query, enable, disable.
    router.iq('get', HEARTH_UNREAD_NS, 'unread', async (request) => {
      const { total, chats } = await readState.unread(ownAccount(request).toString());
      return unreadElement(total, chats);
    });
    router.iq('set', HEARTH_UNREAD_NS, 'enable', (request) => {
      ownAccount(request);
      unreadEnabled.add(request.session);
    });
    router.iq('set', HEARTH_UNREAD_NS, 'disable', (request) => {
      ownAccount(request);
      unreadEnabled.delete(request.session);
    });

    // Every device follows: each gateway tells the sessions it holds (the log hands each event id over once).
    log.on(UnreadChanged, (event) => {
      const { user, peer, unread, total, pointer, reason } = event.payload;
      const targets = sessions.resources(user);
      if (targets.length === 0) return;
      const counts = unreadElement(total, [{ peer, unread, pointer }]);
      // XEP-0163 §4.3 / XEP-0490 §4.3: the node's new item, to resources whose caps include +notify.
      const mdsEvent = reason === 'pointer-moved' && pointer
        ? xml('event', NS.pubsubEvent, {}, xml('items', NS.pubsubEvent, { node: MDS_NODE }, displayedItem(NS.pubsubEvent, peer, { stanzaId: pointer, by: user })))
        : undefined;
      for (const session of targets) {
        if (unreadEnabled.has(session)) session.send(headline(session, event.id, counts));
        if (mdsEvent && caps.has(session, MDS_NOTIFY)) session.send(headline(session, `mds-${event.id}`, mdsEvent));
      }
    });
  },
};

/** The counts are the user's own: asked of their bare JID or with no `to`. */
function ownAccount({ session, stanza, target }: IqRequest): Jid {
  if (target === 'self' || (target === 'server' && stanza.attr('to') === undefined)) return session.jid.bare;
  throw new StanzaError('forbidden', 'unread counts are only given to their owner');
}

/** A notification from the user's account (XEP-0163 §4.3: `from` = the PEP service, the bare JID). */
function headline(session: Session, id: string, payload: Element): Element {
  return xml('message', NS.client, { from: session.jid.bare.toString(), to: session.jid.toString(), type: 'headline', id }, payload);
}
