/**
 * Why a read-state command or query was refused, as a machine-readable condition. The names are
 * the XMPP stanza error conditions the gateway answers with (RFC 6120 §8.3.3); the HTTP and gRPC
 * edges translate them (see api/error-mapping.ts).
 */
export type ReadStateCondition =
  | 'item-not-found' // the message is not in that chat
  | 'bad-request' // the command is incomplete or contradictory
  | 'jid-malformed' // user or peer is not a bare JID
  | 'not-authorized' // HTTP: no valid credentials
  | 'forbidden' // HTTP: credentials for another user
  | 'resource-constraint'; // read-state is behind the log: retry later (XMPP error type "wait")

export class ReadStateError extends Error {
  override readonly name = 'ReadStateError';
  constructor(readonly condition: ReadStateCondition, message: string) {
    super(message);
  }
}
