import type { Session } from '../../sessions/session';
import { Element, xml } from '../../xml/element';
import { NS } from '../../xml/namespaces';

/** XEP-0280 §4: the resources that enabled carbons (kept per session object, so a resumed session keeps it). */
export class CarbonsState {
  private readonly enabled = new WeakSet<Session>();

  enable(session: Session): void {
    this.enabled.add(session);
  }

  disable(session: Session): void {
    this.enabled.delete(session);
  }

  has(session: Session): boolean {
    return this.enabled.has(session);
  }
}

/** Payloads of instant messaging without a body (XEP-0280 §6: such messages are carbon-copied too). */
const IM_PAYLOADS: ReadonlyArray<readonly [string | undefined, string]> = [
  [undefined, NS.chatStates], ['request', NS.receipts], ['received', NS.receipts], [undefined, NS.chatMarkers],
];

/**
 * XEP-0280 §6 eligibility: chat messages, normal messages with a body, and body-less IM payloads
 * (chat states, receipts, markers); never one marked `<private/>` (§7) or XEP-0334 `<no-copy/>`.
 */
export function isCarbonEligible(stanza: Element): boolean {
  if (stanza.child('private', NS.carbons) || stanza.child('no-copy', NS.hints)) return false;
  const type = stanza.attr('type') ?? 'normal';
  if (type === 'chat') return true;
  if (type !== 'normal') return false;
  return stanza.child('body') !== undefined ||
    stanza.elements().some((c) => IM_PAYLOADS.some(([name, ns]) => c.ns === ns && (name === undefined || c.name === name)));
}

/**
 * XEP-0280 §7.2/§7.3 and XEP-0297: `<message from="owner" to="resource"><sent|received><forwarded>
 * <message …/></forwarded></sent|received></message>`, the wrapper from the owner's bare JID.
 */
export function carbonCopy(direction: 'sent' | 'received', owner: string, to: Session, message: Element): Element {
  return xml('message', NS.client, { from: owner, to: to.jid.toString(), type: message.attr('type') ?? 'normal' },
    xml(direction, NS.carbons, {}, xml('forwarded', NS.forward, {}, message)));
}
