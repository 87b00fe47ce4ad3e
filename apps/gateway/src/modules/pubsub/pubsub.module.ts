import {
  PubsubItemPublished, PubsubItemRetracted, PubsubNodeDeleted, PubsubNodePurged, type EventContract,
} from '@hearth/contracts';
import type { Session } from '../../sessions/session';
import { xml, type Element } from '../../xml/element';
import { NS } from '../../xml/namespaces';
import type { GatewayModule } from '../module';
import { PubsubCalls, type WireLastItem } from './pubsub-calls';
import { pubsubIqHandler } from './pubsub-iq';
import { eventMessage, itemElement, sessionsFor } from './pubsub-notifications';

type Recipients = { recipients: { jid: string; subids: string[] }[]; service: string };

/**
 * XEP-0060 Publish-Subscribe at pubsub.<domain> for every hosted domain: IQs go to the pubsub
 * service (apps/pubsub) over gRPC; its events on the log come back here as notifications for the
 * sessions this gateway holds (each gateway delivers to its own). Off when HEARTH_PUBSUB_GRPC_URL
 * is not set.
 *
 * Placed before the presence module in MODULES: its presence hook only watches for initial
 * presence (§12.8 on_sub_and_presence) and lets the presence module handle the stanza.
 */
export const pubsubModule: GatewayModule = {
  name: 'pubsub',
  spec: 'https://xmpp.org/extensions/xep-0060.html',
  setup({ router, services, sessions, roster, config, log, logger }) {
    if (!services.pubsub) return;
    const calls = new PubsubCalls(services.pubsub);
    const pubsubServices = config.HEARTH_DOMAINS.map((domain) => `pubsub.${domain.toLowerCase()}`);
    const handler = pubsubIqHandler({ calls, roster, logger });
    for (const service of pubsubServices) router.service(service, handler);

    // §7.1.2, §7.2.2, §8.4.2, §8.5.2: one message per recipient JID, whatever its number of subids;
    // several subids are listed as SHIM headers (§12.20).
    function notify<T extends string, P extends Recipients>(contract: EventContract<T, P>, content: (payload: P) => Element): void {
      log.on(contract, (event) => {
        const payload = event.payload;
        if (payload.recipients.length === 0) return;
        let built: Element | undefined;
        for (const recipient of payload.recipients) {
          const targets = sessionsFor(sessions, recipient.jid);
          if (targets.length === 0) continue; // offline, or on another gateway: push or that gateway delivers
          built ??= content(payload);
          const message = eventMessage({
            service: payload.service, to: recipient.jid, id: event.id, content: built, subids: recipient.subids.length > 1 ? recipient.subids : [],
          });
          for (const target of targets) target.send(message);
        }
      });
    }
    notify(PubsubItemPublished, (p) =>
      xml('items', NS.pubsubEvent, { node: p.node }, itemElement(NS.pubsubEvent, { id: p.itemId, payload: p.payload, publisher: p.publisher }, p.deliverPayload)));
    notify(PubsubItemRetracted, (p) => xml('items', NS.pubsubEvent, { node: p.node }, xml('retract', NS.pubsubEvent, { id: p.itemId })));
    notify(PubsubNodePurged, (p) => xml('purge', NS.pubsubEvent, { node: p.node }));
    notify(PubsubNodeDeleted, (p) =>
      xml('delete', NS.pubsubEvent, { node: p.node }, p.redirect && xml('redirect', NS.pubsubEvent, { uri: p.redirect })));

    // §12.8 on_sub_and_presence: a subscriber's initial presence brings the last published items.
    router.hook('presence', (session, stanza, to) => {
      if (!to && stanza.attr('type') === undefined && !session.available) void lastItemsOnPresence(session);
      return false;
    });

    async function lastItemsOnPresence(session: Session): Promise<void> {
      for (const service of pubsubServices) {
        try {
          const { items } = await calls.ok<{ items: WireLastItem[] }>('SubscriberBecameAvailable', { actor: session.jid.toString(), service });
          for (const last of items) {
            session.send(eventMessage({
              service, to: session.jid.toString(), id: `last-${last.subids[0] ?? ''}-${last.item.id}`,
              content: xml('items', NS.pubsubEvent, { node: last.node }, itemElement(NS.pubsubEvent, last.item, last.deliver_payload)),
              subids: last.subids, publishedAt: last.item.published_at || undefined,
            }));
          }
        } catch (error) {
          logger.warn({ err: error, jid: session.jid.toString(), service }, 'no last published items on presence: the pubsub service failed');
        }
      }
    }
  },
};
