import { receivesPresenceFromContact, sendsPresenceToContact } from '../roster/roster-entry';
import type { SubscriptionType } from '../roster/subscription';
import type { Session } from '../sessions/session';
import { StanzaError } from '../stream/errors';
import { Element, xml } from '../xml/element';
import type { Jid } from '../xml/jid';
import { NS } from '../xml/namespaces';
import type { GatewayModule } from './module';

const SUBSCRIPTION_TYPES = new Set<string>(['subscribe', 'subscribed', 'unsubscribe', 'unsubscribed']);

/**
 * Presence (RFC 6121 §3, §4): subscription requests and answers, initial presence with its
 * broadcast and probes (§4.2), later broadcasts (§4.4), unavailable presence, also when a session
 * ends without saying so (§4.5.3.1), and directed presence (§4.6).
 */
export const presenceModule: GatewayModule = {
  name: 'presence',
  spec: 'https://www.rfc-editor.org/rfc/rfc6121#section-4',
  setup({ router, roster, sessions, accounts }) {
    router.hook('presence', async (session, stanza, to) => {
      const type = stanza.attr('type');
      if (type !== undefined && SUBSCRIPTION_TYPES.has(type)) {
        if (!to || !to.local) return true;
        if (!router.isLocalDomain(to.domain)) {
          router.bounce(stanza, new StanzaError('remote-server-not-found'));
          return true;
        }
        if (!(await accounts.find(to.bare.toString()))) {
          router.bounce(stanza, new StanzaError('service-unavailable'));
          return true;
        }
        if (to.bare.equals(session.jid.bare)) return true;
        await roster.subscription(session.jid.bare, to.bare, type as SubscriptionType, stanza);
        return true;
      }
      if (type === 'probe' || type === 'error') return true; // servers send probes, not clients (§4.3)
      if (type !== undefined && type !== 'unavailable') {
        router.bounce(stanza, new StanzaError('bad-request', 'unknown presence type'));
        return true;
      }
      if (to) {
        directed(session, stanza, to, type === 'unavailable');
        return true;
      }
      if (type === 'unavailable') await unavailable(session, stanza);
      else await available(session, stanza);
      return true;
    });

    router.onSessionEnded(async (session) => {
      if (session.available) await unavailable(session, xml('presence', NS.client, { type: 'unavailable', from: session.jid.toString() }));
    });

    /** §4.2 initial presence and §4.4 subsequent presence broadcasts. */
    async function available(session: Session, stanza: Element): Promise<void> {
      const initial = !session.available;
      const priority = Number.parseInt(stanza.childText('priority', NS.client) ?? '0', 10);
      session.priority = Number.isFinite(priority) ? Math.max(-128, Math.min(127, priority)) : 0;
      session.presence = stanza.withAttrs({ to: undefined, from: undefined });
      session.available = true;
      const account = session.jid.bare;
      const entries = await roster.entries(account);
      broadcast(session, entries.filter((e) => sendsPresenceToContact(e.subscription)).map((e) => e.contact), stanza);
      if (!initial) return;
      // Probes, answered locally: the contacts' current presence and the user's other resources.
      for (const entry of entries) {
        if (receivesPresenceFromContact(entry.subscription)) sendPresenceOf(entry.contact, session);
      }
      for (const other of sessions.available(account)) {
        if (other !== session && other.presence) session.send(other.presence.withAttrs({ from: other.jid.toString(), to: session.jid.toString() }));
      }
      // §3.1.3: subscription requests kept while the user was offline are delivered now.
      for (const entry of entries) {
        if (entry.pendingIn) session.send(xml('presence', NS.client, { type: 'subscribe', from: entry.contact, to: account.toString() }));
      }
    }

    async function unavailable(session: Session, stanza: Element): Promise<void> {
      if (!session.available) return;
      session.available = false;
      session.presence = null;
      const entries = await roster.entries(session.jid.bare);
      const recipients = entries.filter((e) => sendsPresenceToContact(e.subscription)).map((e) => e.contact);
      broadcast(session, recipients, stanza);
      for (const target of session.directedPresence) {
        deliverTo(sessions.get(target) ? [sessions.get(target)!] : sessions.available(target), stanza.withAttrs({ to: target }));
      }
      session.directedPresence.clear();
    }

    /** To each subscribed contact's available resources and to all of the user's own, itself included. */
    function broadcast(session: Session, contacts: string[], stanza: Element): void {
      const from = session.jid.toString();
      for (const contact of contacts) roster.deliverToAvailable(contact, stanza.withAttrs({ from, to: contact }));
      for (const own of sessions.available(session.jid.bare)) own.send(stanza.withAttrs({ from, to: own.jid.bare.toString() }));
      if (!session.available) session.send(stanza.withAttrs({ from, to: session.jid.bare.toString() }));
    }

    function sendPresenceOf(contact: string, to: Session): void {
      for (const resource of sessions.available(contact)) {
        if (resource.presence) to.send(resource.presence.withAttrs({ from: resource.jid.toString(), to: to.jid.toString() }));
      }
    }

    /** §4.6: presence to one JID, remembered so an unavailable follows when the session leaves. */
    function directed(session: Session, stanza: Element, to: Jid, unavailableNow: boolean): void {
      if (!router.isLocalDomain(to.domain) || !to.local) return;
      const targets = to.isBare ? sessions.available(to) : [sessions.get(to)].filter((s): s is Session => !!s);
      deliverTo(targets, stanza);
      if (unavailableNow) session.directedPresence.delete(to.toString());
      else session.directedPresence.add(to.toString());
    }
  },
};

function deliverTo(targets: Session[], stanza: Element): void {
  for (const target of targets) target.send(stanza);
}
