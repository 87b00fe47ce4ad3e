import type { MessageAccepted, PayloadOf } from '@hearth/contracts';
import { deliveryLagSeconds } from '../../metrics/gateway-metrics';
import type { Session } from '../../sessions/session';
import type { SessionRegistry } from '../../sessions/session-registry';
import { Jid } from '../../xml/jid';
import { carbonCopy, isCarbonEligible, type CarbonsState } from './carbons';
import { LoggedStanza, StanzaReader } from './stanza-reader';
import { withStanzaIdBy } from './stanza-ids';

type Accepted = PayloadOf<typeof MessageAccepted>;


/**
 * Delivery from the log: every gateway hears every MessageAccepted and delivers it to the sessions
 * IT holds, so a message reaches the recipient wherever the recipient is connected, in the order
 * of the chat's partition.
 *
 * RFC 6121 §8.5.3.1 full JID: that resource. §8.5.2.1 bare JID: every available resource with
 * non-negative priority (the "all resources" option the RFC allows for chat, normal and
 * headline). No offline queue (§8.5.2.2 "store offline" is the archive; a client syncs with MAM).
 * §8.5.3.2.1 (full JID of a resource that is gone → as if to the bare JID) is not applied: no
 * gateway knows whether another one holds that resource; the recipient's carbon-enabled
 * resources still get a `<received/>` copy, and the message is in the archive.
 * Carbons (XEP-0280 §7): `<received/>` to the recipient's carbon-enabled resources that did not
 * get it directly, `<sent/>` to the sender's other carbon-enabled resources.
 */
export class MessageDelivery {
  private readonly reader = new StanzaReader();

  constructor(
    private readonly sessions: SessionRegistry,
    private readonly carbons: CarbonsState,
  ) {}

  /** Called once per event id (the log drops a message appended again after an unconfirmed attempt). */
  deliver(message: Accepted): void {
    const self = message.sender === message.recipient;
    const recipients = this.sessions.resources(message.recipient);
    const senders = self ? [] : this.sessions.resources(message.sender);
    if (recipients.length === 0 && senders.length === 0) return; // the usual case on a gateway that holds neither side
    deliveryLagSeconds.observe(Math.max(0, Date.now() - Date.parse(message.acceptedAt)) / 1000);

    // Written as the log holds it; parsed only for a session with XEP-0198 or a carbon copy.
    const stanza = new LoggedStanza('message', message.stanza, this.reader);
    const to = Jid.parse(message.to);
    const direct: Session[] = to && !to.isBare
      ? recipients.filter((s) => s.jid.resource === to.resource)
      : recipients.filter((s) => s.available && s.priority >= 0);
    for (const session of direct) session.sendSerialized(stanza);
    if (self) return;

    const receivedCopies = recipients.filter((s) => this.carbons.has(s) && !direct.includes(s));
    const sentCopies = senders.filter((s) => this.carbons.has(s) && s.jid.toString() !== message.senderFullJid);
    if ((receivedCopies.length === 0 && sentCopies.length === 0) || !isCarbonEligible(stanza.element())) return;
    for (const session of receivedCopies) session.send(carbonCopy('received', message.recipient, session, stanza.element()));
    if (sentCopies.length === 0) return;
    const senderCopy = withStanzaIdBy(stanza.element(), message.recipient, message.sender);
    for (const session of sentCopies) session.send(carbonCopy('sent', message.sender, session, senderCopy));
  }
}
