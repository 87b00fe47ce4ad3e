import { Element, xml } from '../xml/element';
import { NS } from '../xml/namespaces';

/** Stream error conditions, RFC 6120 §4.9.3. A stream error is unrecoverable: the stream closes after it. */
export type StreamErrorCondition =
  | 'bad-format'
  | 'bad-namespace-prefix'
  | 'conflict'
  | 'connection-timeout'
  | 'host-gone'
  | 'host-unknown'
  | 'improper-addressing'
  | 'internal-server-error'
  | 'invalid-from'
  | 'invalid-namespace'
  | 'invalid-xml'
  | 'not-authorized'
  | 'not-well-formed'
  | 'policy-violation'
  | 'remote-connection-failed'
  | 'reset'
  | 'resource-constraint'
  | 'restricted-xml'
  | 'see-other-host'
  | 'system-shutdown'
  | 'undefined-condition'
  | 'unsupported-encoding'
  | 'unsupported-feature'
  | 'unsupported-stanza-type'
  | 'unsupported-version';

export class StreamError extends Error {
  override readonly name = 'StreamError';
  constructor(
    readonly condition: StreamErrorCondition,
    readonly text?: string,
  ) {
    super(text ? `${condition}: ${text}` : condition);
  }

  /** `<stream:error>` (RFC 6120 §4.9.2); the caller serialises it with the stream prefix in scope. */
  toElement(): Element {
    return xml('error', NS.stream, {}, xml(this.condition, NS.streams), this.text && xml('text', NS.streams, { 'xml:lang': 'en' }, this.text));
  }
}

/** Stanza error conditions and their default types, RFC 6120 §8.3.3. */
export const STANZA_ERROR_TYPES = {
  'bad-request': 'modify',
  conflict: 'cancel',
  'feature-not-implemented': 'cancel',
  forbidden: 'auth',
  gone: 'cancel',
  'internal-server-error': 'cancel',
  'item-not-found': 'cancel',
  'jid-malformed': 'modify',
  'not-acceptable': 'modify',
  'not-allowed': 'cancel',
  'not-authorized': 'auth',
  'policy-violation': 'modify',
  'recipient-unavailable': 'wait',
  redirect: 'modify',
  'registration-required': 'auth',
  'remote-server-not-found': 'cancel',
  'remote-server-timeout': 'wait',
  'resource-constraint': 'wait',
  'service-unavailable': 'cancel',
  'subscription-required': 'auth',
  'undefined-condition': 'cancel',
  'unexpected-request': 'wait',
} as const;
export type StanzaErrorCondition = keyof typeof STANZA_ERROR_TYPES;
export type StanzaErrorType = 'auth' | 'cancel' | 'continue' | 'modify' | 'wait';

export class StanzaError extends Error {
  override readonly name = 'StanzaError';
  readonly type: StanzaErrorType;
  constructor(
    readonly condition: StanzaErrorCondition,
    readonly text?: string,
    type?: StanzaErrorType,
  ) {
    super(text ? `${condition}: ${text}` : condition);
    this.type = type ?? STANZA_ERROR_TYPES[condition];
  }

  /**
   * The error reply to `stanza` (RFC 6120 §8.3.1): same name and id, type "error", addresses
   * swapped. `from` is the entity that refuses (the server or the addressed JID).
   */
  replyTo(stanza: Element, from: string | undefined): Element {
    return xml(stanza.name, NS.client, { type: 'error', id: stanza.attr('id'), from, to: stanza.attr('from') },
      xml('error', NS.client, { type: this.type },
        xml(this.condition, NS.stanzas),
        this.text && xml('text', NS.stanzas, { 'xml:lang': 'en' }, this.text)));
  }
}

/** SASL failure conditions, RFC 6120 §6.5. */
export type SaslFailureCondition =
  | 'aborted'
  | 'account-disabled'
  | 'credentials-expired'
  | 'encryption-required'
  | 'incorrect-encoding'
  | 'invalid-authzid'
  | 'invalid-mechanism'
  | 'malformed-request'
  | 'mechanism-too-weak'
  | 'not-authorized'
  | 'temporary-auth-failure';

export class SaslFailure extends Error {
  override readonly name = 'SaslFailure';
  constructor(
    readonly condition: SaslFailureCondition,
    readonly text?: string,
  ) {
    super(text ? `${condition}: ${text}` : condition);
  }

  toElement(): Element {
    return xml('failure', NS.sasl, {}, xml(this.condition, NS.sasl), this.text && xml('text', NS.sasl, { 'xml:lang': 'en' }, this.text));
  }
}
