import type { RosterEntry, Subscription } from './roster-entry';

/**
 * Subscription state transitions of RFC 6121 Appendix A as pure functions: given the entry on
 * one side and a subscription stanza, the new entry and what to do with the stanza. The presence
 * module applies them to both sides of a local subscription.
 */
export type SubscriptionType = 'subscribe' | 'subscribed' | 'unsubscribe' | 'unsubscribed';

export interface Transition {
  entry: RosterEntry;
  /** The state changed; listed entries are pushed to the owner's interested resources. */
  changed: boolean;
  /** Outbound: route the stanza to the contact. Inbound: deliver it to the owner's resources. */
  forward: boolean;
}

const withTo: Record<Subscription, Subscription> = { none: 'to', to: 'to', from: 'both', both: 'both' };
const withoutTo: Record<Subscription, Subscription> = { none: 'none', to: 'none', from: 'from', both: 'from' };
const withFrom: Record<Subscription, Subscription> = { none: 'from', to: 'both', from: 'from', both: 'both' };
const withoutFrom: Record<Subscription, Subscription> = { none: 'none', to: 'to', from: 'none', both: 'to' };

function result(before: RosterEntry, after: RosterEntry, forward: boolean): Transition {
  const changed = before.subscription !== after.subscription || before.askOut !== after.askOut ||
    before.pendingIn !== after.pendingIn || before.listed !== after.listed;
  return { entry: after, changed, forward };
}

/** The owner sends `type` to the contact (RFC 6121 §3.1.2, §3.1.5, §3.2.2, §3.3.2). */
export function outbound(entry: RosterEntry, type: SubscriptionType): Transition {
  switch (type) {
    case 'subscribe': {
      const hasTo = entry.subscription === 'to' || entry.subscription === 'both';
      return result(entry, { ...entry, listed: true, askOut: !hasTo }, true);
    }
    case 'subscribed':
      // Only an answer to a pending request changes anything; pre-approval is not offered.
      if (!entry.pendingIn) return result(entry, entry, false);
      return result(entry, { ...entry, listed: true, pendingIn: false, subscription: withFrom[entry.subscription] }, true);
    case 'unsubscribe':
      return result(entry, { ...entry, askOut: false, subscription: withoutTo[entry.subscription] }, true);
    case 'unsubscribed':
      return result(entry, { ...entry, pendingIn: false, subscription: withoutFrom[entry.subscription] }, true);
  }
}

/** The owner's server receives `type` from the contact (RFC 6121 §3.1.3, §3.1.6, §3.2.3, §3.3.3). */
export function inbound(entry: RosterEntry, type: SubscriptionType): Transition & { autoReply?: 'subscribed' } {
  switch (type) {
    case 'subscribe':
      if (entry.subscription === 'from' || entry.subscription === 'both') return { ...result(entry, entry, false), autoReply: 'subscribed' };
      return result(entry, { ...entry, pendingIn: true }, true);
    case 'subscribed':
      if (!entry.askOut) return result(entry, entry, false);
      return result(entry, { ...entry, askOut: false, subscription: withTo[entry.subscription] }, true);
    case 'unsubscribe': {
      const after = { ...entry, pendingIn: false, subscription: withoutFrom[entry.subscription] };
      return result(entry, after, entry.pendingIn || entry.subscription !== after.subscription);
    }
    case 'unsubscribed': {
      const after = { ...entry, askOut: false, subscription: withoutTo[entry.subscription] };
      return result(entry, after, entry.askOut || entry.subscription !== after.subscription);
    }
  }
}
