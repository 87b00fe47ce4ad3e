import { SaslFailure } from '../stream/errors';
import { Jid } from '../xml/jid';

/** One step's outcome: send a challenge, or authenticate `jid` (with optional additional data, RFC 6120 §6.3.10). */
export type SaslStep = { kind: 'challenge'; data: Buffer } | { kind: 'success'; jid: Jid; data?: Buffer };

/**
 * Called by a mechanism as soon as it knows which account the client names, before checking any
 * credential: failures are counted against that name, and a name over its limit is refused here.
 */
export type AdmitAccount = (username: string) => void;

/** A running exchange for one `<auth/>`. Problems are thrown as SaslFailure. */
export interface SaslExchange {
  step(input: Buffer, admit: AdmitAccount): Promise<SaslStep>;
}

/** A SASL mechanism (RFC 4422) as the server runs it. */
export interface SaslMechanism {
  readonly name: string;
  /** Whether to offer it on a connection (e.g. PLAIN and bearer tokens only under TLS). */
  offered(secure: boolean): boolean;
  start(domain: string): SaslExchange;
}

/**
 * The account an authentication identity names on `domain`: a localpart (what most clients
 * send) or a bare JID of that domain. Unparseable names fail like a wrong password.
 */
export function accountJid(authcid: string, domain: string): Jid {
  const jid = authcid.includes('@') ? Jid.parse(authcid) : Jid.of(authcid, domain);
  if (!jid || !jid.local || !jid.isBare || jid.domain !== domain) throw new SaslFailure('not-authorized');
  return jid;
}

/** An authorization identity, if given, must be the authenticated account itself (no proxy login). */
export function checkAuthzid(authzid: string, jid: Jid): void {
  if (authzid === '') return;
  const requested = Jid.parse(authzid);
  if (!requested || requested.toString() !== jid.toString()) throw new SaslFailure('invalid-authzid');
}
