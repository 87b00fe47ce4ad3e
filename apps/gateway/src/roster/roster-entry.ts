import { createHash } from 'node:crypto';

/** RFC 6121 §2.1.2.5: whose presence flows where. "to": the owner receives the contact's presence. */
export type Subscription = 'none' | 'to' | 'from' | 'both';

/**
 * The owner's state about one contact: the roster item the owner sees (when `listed`) and the
 * subscription states of RFC 6121 Appendix A, including "Pending In", which exists even for
 * contacts the owner never added (RFC 6121 §3.1.3: the server keeps the request, not an item).
 */
export interface RosterEntry {
  contact: string;
  name?: string;
  groups: string[];
  subscription: Subscription;
  /** "Pending Out": the owner asked for the contact's presence (shown as ask='subscribe'). */
  askOut: boolean;
  /** "Pending In": the contact asked for the owner's presence and the owner has not answered. */
  pendingIn: boolean;
  /** Part of the roster the owner sees. */
  listed: boolean;
}

export function emptyEntry(contact: string): RosterEntry {
  return { contact, groups: [], subscription: 'none', askOut: false, pendingIn: false, listed: false };
}

/** Nothing left to remember: the row can go. */
export function isVacant(entry: RosterEntry): boolean {
  return !entry.listed && entry.subscription === 'none' && !entry.askOut && !entry.pendingIn;
}

export const receivesPresenceFromContact = (s: Subscription): boolean => s === 'to' || s === 'both';
export const sendsPresenceToContact = (s: Subscription): boolean => s === 'from' || s === 'both';

/**
 * The roster version (RFC 6121 §2.6): a digest of the roster as its owner sees it (the listed
 * items), so it changes exactly when what a roster get returns changes, whichever gateway changed
 * it, with nothing stored beside the roster. Groups are a set, so their order does not count.
 */
export function rosterVersion(entries: readonly RosterEntry[]): string {
  const visible = entries.filter((e) => e.listed)
    .map((e) => [e.contact, e.name ?? null, e.subscription, e.askOut, [...e.groups].sort()] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return createHash('sha256').update(JSON.stringify(visible)).digest('base64url').slice(0, 22);
}
