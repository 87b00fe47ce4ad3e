import { randomBytes } from 'node:crypto';
import type { Logger } from '@hearth/runtime';
import type { Session } from '../sessions/session';
import type { SessionRegistry } from '../sessions/session-registry';
import { Element, xml } from '../xml/element';
import type { Jid } from '../xml/jid';
import { NS } from '../xml/namespaces';
import { emptyEntry, isVacant, rosterVersion, type RosterEntry } from './roster-entry';
import type { RosterStore } from './roster-store';
import { inbound, outbound, type SubscriptionType } from './subscription';

/**
 * Roster state and presence subscriptions between local accounts (RFC 6121 §2, §3): stores
 * entries, sends roster pushes, and applies a subscription stanza to both sides, delivering what
 * each side's server would deliver. Both the roster and the presence module use it.
 */
export class RosterService {
  constructor(
    private readonly store: RosterStore,
    private readonly sessions: SessionRegistry,
    private readonly logger: Logger,
  ) {}

  entries(owner: Jid): Promise<RosterEntry[]> {
    return this.store.entries(owner.toString());
  }

  /** The roster its owner sees (the listed items) and its version (RFC 6121 §2.6). */
  async roster(owner: Jid | string): Promise<{ items: RosterEntry[]; version: string }> {
    const entries = await this.store.entries(owner.toString());
    return { items: entries.filter((e) => e.listed), version: rosterVersion(entries) };
  }

  async entry(owner: Jid, contact: Jid): Promise<RosterEntry> {
    return (await this.store.entry(owner.toString(), contact.toString())) ?? emptyEntry(contact.toString());
  }

  /** Saves an entry (or drops it once vacant) and pushes it when it is, or was, on the roster. */
  async save(owner: Jid, before: RosterEntry | null, after: RosterEntry): Promise<void> {
    if (isVacant(after)) await this.store.remove(owner.toString(), after.contact);
    else await this.store.put(owner.toString(), after);
    if (after.listed) await this.push(owner, itemElement(after));
    else if (before?.listed) await this.push(owner, xml('item', NS.roster, { jid: after.contact, subscription: 'remove' }));
  }

  /**
   * Roster push (RFC 6121 §2.1.6) to every interested resource of the owner, with the roster's
   * new version for those that asked with one (§2.6.3). Sent before the caller goes on, so a push
   * precedes the presence that follows the same change.
   */
  async push(owner: Jid | string, item: Element): Promise<void> {
    const interested = this.sessions.resources(owner).filter((s) => s.rosterInterested);
    if (interested.length === 0) return;
    const version = interested.some((s) => s.rosterVersioning) ? (await this.roster(owner)).version : undefined;
    for (const session of interested) {
      session.send(xml('iq', NS.client, { type: 'set', id: `push-${randomBytes(6).toString('hex')}`, to: session.jid.toString() },
        xml('query', NS.roster, { ver: session.rosterVersioning ? version : undefined }, item)));
    }
  }

  /**
   * `user` sends a subscription stanza of `type` to local `contact` (both bare JIDs): the user's
   * server side (outbound, RFC 6121 Appendix A.2) and the contact's (inbound, A.3), with the
   * presence RFC 6121 says follows approvals and cancellations.
   */
  async subscription(user: Jid, contact: Jid, type: SubscriptionType, stanza: Element): Promise<void> {
    const userBefore = await this.entry(user, contact);
    const out = outbound(userBefore, type);
    if (out.changed) await this.save(user, userBefore, out.entry);
    if (!out.forward) return;

    const contactBefore = await this.entry(contact, user);
    const into = inbound(contactBefore, type);
    if (into.changed) await this.save(contact, contactBefore, into.entry);
    const addressed = stanza.withAttrs({ from: user.toString(), to: contact.toString(), id: stanza.attr('id') });
    if (into.forward) this.deliverToAvailable(contact, addressed);
    this.logger.debug({ jid: user.toString(), contact: contact.toString(), type, forwarded: into.forward }, 'subscription stanza processed');

    if (into.autoReply) {
      // RFC 6121 §3.1.3: already approved, so the contact's server answers on the contact's behalf.
      const reply = xml('presence', NS.client, { type: 'subscribed', from: contact.toString(), to: user.toString() });
      const userNow = await this.entry(user, contact);
      const back = inbound(userNow, 'subscribed');
      if (back.changed) await this.save(user, userNow, back.entry);
      if (back.forward) this.deliverToAvailable(user, reply);
      this.sendCurrentPresence(contact, user);
    } else if (type === 'subscribed' && into.forward) {
      this.sendCurrentPresence(user, contact); // §3.1.5: the approver's presence goes to the new subscriber
    } else if ((type === 'unsubscribe' || type === 'unsubscribed') && into.forward) {
      // §3.2.2, §3.3.2: the side that stops sending presence says "unavailable" from each resource.
      const [sender, receiver] = type === 'unsubscribe' ? [contact, user] : [user, contact];
      for (const session of this.sessions.available(sender)) {
        this.deliverToAvailable(receiver, xml('presence', NS.client, { type: 'unavailable', from: session.jid.toString(), to: receiver.toString() }));
      }
    }
  }

  /** RFC 6121 §2.5: removing an item cancels the subscriptions in both directions first. */
  async remove(owner: Jid, contact: Jid): Promise<boolean> {
    const entry = await this.store.entry(owner.toString(), contact.toString());
    if (!entry) return false;
    const cancel = (type: SubscriptionType) => xml('presence', NS.client, { type });
    if (entry.subscription === 'to' || entry.subscription === 'both' || entry.askOut) await this.subscription(owner, contact, 'unsubscribe', cancel('unsubscribe'));
    if (entry.subscription === 'from' || entry.subscription === 'both' || entry.pendingIn) await this.subscription(owner, contact, 'unsubscribed', cancel('unsubscribed'));
    await this.store.remove(owner.toString(), contact.toString());
    await this.push(owner, xml('item', NS.roster, { jid: contact.toString(), subscription: 'remove' }));
    return true;
  }

  /** An account was deleted: its contacts lose it from their rosters. */
  async forgetAccount(account: Jid): Promise<void> {
    const losing: string[] = [];
    for (const entry of await this.store.entries(account.toString())) {
      const theirs = await this.store.entry(entry.contact, account.toString());
      if (!theirs?.listed) continue;
      losing.push(entry.contact);
      for (const session of this.sessions.resources(entry.contact)) {
        if (session.available) session.send(xml('presence', NS.client, { type: 'unavailable', from: account.toString(), to: entry.contact }));
      }
    }
    await this.store.removeAccount(account.toString());
    // After the removal, so that each push carries the version of the roster without the account.
    for (const contact of losing) await this.push(contact, xml('item', NS.roster, { jid: account.toString(), subscription: 'remove' }));
  }

  /** Delivers a stanza addressed to an account's bare JID to all its available resources (RFC 6121 §8.5.2.1). */
  deliverToAvailable(account: Jid | string, stanza: Element): Session[] {
    const targets = this.sessions.available(account);
    for (const session of targets) session.send(stanza);
    return targets;
  }

  /** Each available resource of `from` sends its current presence to `to`'s available resources. */
  sendCurrentPresence(from: Jid, to: Jid): void {
    for (const session of this.sessions.available(from)) {
      if (session.presence) this.deliverToAvailable(to, session.presence.withAttrs({ from: session.jid.toString(), to: to.toString() }));
    }
  }
}

/** `<item/>` as a roster result or push shows it (RFC 6121 §2.1.2). */
export function itemElement(entry: RosterEntry): Element {
  return xml('item', NS.roster, { jid: entry.contact, name: entry.name, subscription: entry.subscription, ask: entry.askOut ? 'subscribe' : undefined },
    ...entry.groups.map((group) => xml('group', NS.roster, {}, group)));
}
