/**
 * Why an archive request was refused, as a machine-readable condition. The names are the
 * XMPP stanza error conditions (RFC 6120 §8.3.3) the gateway answers with; gRPC and HTTP
 * translate them at their edges (archive-error.mapping.ts).
 */
export type ArchiveCondition = 'item-not-found' | 'bad-request' | 'forbidden' | 'not-authorized'
  /** A `wait` condition: the archive has not caught up with the log yet. */
  | 'resource-constraint';

export class ArchiveError extends Error {
  override readonly name = 'ArchiveError';
  constructor(readonly condition: ArchiveCondition, message: string) {
    super(message);
  }
}
