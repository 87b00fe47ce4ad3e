import type { ServiceClient } from '../../services/service-client';
import { STANZA_ERROR_TYPES, StanzaError, type StanzaErrorCondition, type StanzaErrorType } from '../../stream/errors';
import { xml, type Element } from '../../xml/element';
import { NS } from '../../xml/namespaces';

/**
 * The pubsub service's gRPC API as the gateway sees it (libs/contracts/proto/pubsub.proto, keepCase):
 * the message shapes the module reads, and `PubsubCalls.ok`, which turns a refusal into the
 * stanza error XEP-0060 asks for.
 */

/** A data form on the wire: field var → values (FORM_TYPE implied by the call). */
export type WireForm = Record<string, { values: string[] }>;
export interface WireItem { id: string; payload: string; publisher: string; published_at: string }
export interface WireSubscription { node: string; jid: string; subid: string; subscription: string }
export interface WireAffiliation { node: string; jid: string; affiliation: string }
export interface WireConfiguration { node: string; configuration: WireForm; options: WireForm }
export interface WireNodeSummary { node: string; title: string; access_model: string; owners: string[] }
export interface WireLastItem { node: string; item: WireItem; jid: string; subids: string[]; deliver_payload: boolean }
export interface WireSubscribed { subscription: WireSubscription; existing: boolean; last_items: WireItem[]; deliver_payload: boolean }
interface WireError { condition: string; type: string; pubsub_condition: string; feature: string; text: string }
/** Every response is `oneof outcome { ok; error }` (proto-loader with `oneofs: true` names the case). */
type Outcome<T> = { outcome: 'ok'; ok: T } | { outcome: 'error'; error: WireError } | { outcome?: undefined };

const ERROR_TYPES: ReadonlySet<string> = new Set<StanzaErrorType>(['auth', 'cancel', 'continue', 'modify', 'wait']);

/**
 * A stanza error with XEP-0060's application-specific condition (RFC 6120 §8.3.4), e.g.
 * `<invalid-subid xmlns='http://jabber.org/protocol/pubsub#errors'/>`, and for `unsupported` the
 * feature attribute (XEP-0060 §7.1.3, §14).
 */
export class PubsubStanzaError extends StanzaError {
  constructor(condition: StanzaErrorCondition, text: string | undefined, type: StanzaErrorType | undefined,
    readonly pubsubCondition: string | undefined, readonly feature?: string) {
    super(condition, text, type);
  }

  override replyTo(stanza: Element, from: string | undefined): Element {
    const reply = super.replyTo(stanza, from);
    if (this.pubsubCondition) reply.child('error', NS.client)!.append(xml(this.pubsubCondition, NS.pubsubErrors, { feature: this.feature }));
    return reply;
  }
}

/** The service's refusal, translated faithfully: its condition, type, pubsub#errors condition and text. */
function fromWire(error: WireError): StanzaError {
  const condition = error.condition in STANZA_ERROR_TYPES ? (error.condition as StanzaErrorCondition) : 'undefined-condition';
  const type = ERROR_TYPES.has(error.type) ? (error.type as StanzaErrorType) : undefined;
  return new PubsubStanzaError(condition, error.text || undefined, type, error.pubsub_condition || undefined, error.feature || undefined);
}

export class PubsubCalls {
  constructor(private readonly client: ServiceClient) {}

  /** Calls `method`; resolves with `ok`, throws the StanzaError to answer with otherwise. */
  async ok<T>(method: string, request: object): Promise<T> {
    // A failure of the service itself (unreachable, deadline, crash) is service-unavailable / internal-server-error.
    const response = await this.client.request<Outcome<T>>(method, request);
    if (response.outcome === 'error') throw fromWire(response.error);
    if (response.outcome !== 'ok') throw new StanzaError('internal-server-error', `the pubsub service answered ${method} with nothing`);
    return response.ok;
  }
}
