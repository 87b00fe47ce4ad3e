import type { C2SConnection } from '../stream/c2s-connection';
import type { Element } from '../xml/element';
import type { Jid } from '../xml/jid';

/**
 * A bound resource (RFC 6120 §7): the full JID, its connection, and the presence state RFC 6121
 * keeps per resource (§4.2 initial presence, §4.6 directed presence, §2.1.6 interested resource).
 */
export class Session {
  /** Sent initial presence and not yet unavailable: receives presence broadcasts and messages. */
  available = false;
  priority = 0;
  /** The last available presence broadcast, without addressing; answers probes. */
  presence: Element | null = null;
  /** Requested the roster, so receives roster pushes (RFC 6121 §2.1.6). */
  rosterInterested = false;
  /** Full or bare JIDs that got directed presence while not subscribed (RFC 6121 §4.6.3). */
  readonly directedPresence = new Set<string>();

  constructor(
    readonly jid: Jid,
    readonly connection: C2SConnection,
  ) {}

  send(stanza: Element): void {
    this.connection.send(stanza);
  }
}
