/** Machine-readable conditions (XMPP stanza error names, RFC 6120 §8.3.3), mapped to gRPC and HTTP at the edges. */
export type PushCondition = 'bad-request' | 'jid-malformed' | 'not-authorized' | 'forbidden' | 'item-not-found' | 'service-unavailable';

export class PushError extends Error {
  override readonly name = 'PushError';
  constructor(readonly condition: PushCondition, message: string) {
    super(message);
  }
}
