import type { C2SConnection } from '../stream/c2s-connection';
import type { StreamErrorCondition } from '../stream/errors';
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
  /** Requested it with a version (RFC 6121 §2.6), so its roster pushes carry one. */
  rosterVersioning = false;
  /** Full or bare JIDs that got directed presence while not subscribed (RFC 6121 §4.6.3). */
  readonly directedPresence = new Set<string>();

  /** Names the session in session events; kept across XEP-0198 resumption. */
  readonly id: string;
  /**
   * XEP-0198 §5: the connection broke and the session waits for resumption. It stays registered
   * (addressable, presence unchanged); what is sent to it is queued, not written; nobody pings it.
   */
  hibernated = false;
  /** Sees every stanza sent to the session before its connection does (XEP-0198 §4 counts and keeps it until acknowledged). */
  outbound: ((stanza: Element) => void) | null = null;

  constructor(
    readonly jid: Jid,
    /** The stream carrying the session; XEP-0198 resumption moves the session to a new one. */
    public connection: C2SConnection,
  ) {
    this.id = connection.id;
  }

  send(stanza: Element): void {
    this.outbound?.(stanza);
    if (!this.hibernated) this.connection.send(stanza);
  }

  /** Sends a stanza that is already text, parsing it only if XEP-0198 needs to keep the element. */
  sendSerialized(stanza: SerializedStanza): void {
    if (this.outbound) this.send(stanza.element());
    else if (!this.hibernated) this.connection.sendSerialized(stanza);
  }
}

/** A stanza held as text (see LoggedStanza), with its element on demand. */
export interface SerializedStanza {
  readonly name: string;
  element(): Element;
  /** The text to write in a stream whose content namespace is `streamNs`, if it can be written as is. */
  text(streamNs: string): string | undefined;
}

/** Why a session ended, as SessionClosed records it (libs/contracts events/sessions.ts). */
export type SessionEndReason = 'client-closed' | 'replaced' | 'timeout' | 'resumption-expired' | 'error' | 'shutdown' | 'kicked';

/** The reason for a session whose connection closed: `condition` is C2SConnection.closeCondition. */
export function endReasonOf(condition: StreamErrorCondition | 'stream-closed' | null): SessionEndReason {
  switch (condition) {
    case 'stream-closed': return 'client-closed';
    case 'conflict': return 'replaced';
    case 'connection-timeout': return 'timeout';
    case 'system-shutdown': return 'shutdown';
    case 'not-authorized': return 'kicked';
    default: return 'error'; // the transport dropped (null) or another stream error
  }
}
