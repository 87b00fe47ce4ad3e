/**
 * A refused pubsub request, carrying what the stanza error needs: the RFC 6120 §8.3.3 condition,
 * its type, and the XEP-0060 pubsub#errors condition (§7, §8 of the XEP list which goes with
 * which case). Translated into the gRPC `PubsubError` at the edge, and into XML by the gateway.
 */
export type StanzaErrorCondition =
  | 'item-not-found' | 'forbidden' | 'not-allowed' | 'not-authorized' | 'conflict' | 'bad-request'
  | 'not-acceptable' | 'unexpected-request' | 'feature-not-implemented' | 'jid-malformed' | 'policy-violation';
export type StanzaErrorType = 'cancel' | 'auth' | 'modify' | 'wait';
export type PubsubCondition =
  | 'closed-node' | 'invalid-jid' | 'invalid-subid' | 'subid-required' | 'not-subscribed' | 'precondition-not-met'
  | 'nodeid-required' | 'item-required' | 'invalid-options' | 'invalid-payload' | 'payload-required' | 'item-forbidden'
  | 'payload-too-big' | 'presence-subscription-required' | 'pending-subscription' | 'unsupported';

export class PubsubError extends Error {
  override readonly name = 'PubsubError';
  constructor(
    readonly condition: StanzaErrorCondition,
    readonly type: StanzaErrorType,
    readonly pubsubCondition: PubsubCondition | undefined,
    readonly text: string,
    readonly feature?: string,
  ) {
    super(`${condition}${pubsubCondition ? `/${pubsubCondition}` : ''}: ${text}`);
  }
}

/** The refusals of XEP-0060, named after the case they answer. */
export const refuse = {
  nodeNotFound: (node: string) => new PubsubError('item-not-found', 'cancel', undefined, `no node ${node}`),
  itemNotFound: (item: string) => new PubsubError('item-not-found', 'cancel', undefined, `no item ${item}`),
  nodeExists: (node: string) => new PubsubError('conflict', 'cancel', undefined, `node ${node} already exists`),
  notOwner: (what: string) => new PubsubError('forbidden', 'auth', undefined, `only an owner of the node may ${what}`),
  forbidden: (why: string) => new PubsubError('forbidden', 'auth', undefined, why),
  /** §6.1.3.4 whitelist: the requester is not on it. */
  closedNode: () => new PubsubError('not-allowed', 'cancel', 'closed-node', 'the node is whitelisted and you are not on the list'),
  /** §6.1.3.2 presence access model. */
  presenceRequired: () =>
    new PubsubError('not-authorized', 'auth', 'presence-subscription-required', "the node is only for contacts subscribed to its owner's presence"),
  /** §6.2.3.4 / §6.3.4.3: unsubscribing or asking for options without a subscription. */
  notSubscribed: (text = 'you are not subscribed to the node') => new PubsubError('unexpected-request', 'cancel', 'not-subscribed', text),
  /** §6.5.9 (retrieve-items errors), authorize access model: items only for approved subscribers. */
  notAuthorizedSubscriber: () => new PubsubError('not-authorized', 'auth', 'not-subscribed', 'the node needs an approved subscription'),
  /** §6.1.3.1 / §6.2.3.2: the jid attribute is not the requester's. */
  invalidJid: (jid: string) => new PubsubError('bad-request', 'modify', 'invalid-jid', `${jid} is not your JID`),
  subidRequired: () => new PubsubError('bad-request', 'modify', 'subid-required', 'you hold several subscriptions to this node: say which (subid)'),
  invalidSubid: (subid: string) => new PubsubError('not-acceptable', 'modify', 'invalid-subid', `no subscription ${subid}`),
  invalidOptions: (why: string) => new PubsubError('bad-request', 'modify', 'invalid-options', why),
  invalidConfiguration: (why: string) => new PubsubError('not-acceptable', 'modify', undefined, why),
  preconditionNotMet: (why: string) => new PubsubError('conflict', 'cancel', 'precondition-not-met', why),
  itemRequired: () => new PubsubError('bad-request', 'modify', 'item-required', 'say which item to retract'),
  nodeidRequired: () => new PubsubError('bad-request', 'modify', 'nodeid-required', 'this request needs a node'),
  invalidPayload: (why: string) => new PubsubError('bad-request', 'modify', 'invalid-payload', why),
  payloadRequired: () => new PubsubError('bad-request', 'modify', 'payload-required', 'the node stores or delivers payloads: the item needs one'),
  itemForbidden: () => new PubsubError('bad-request', 'modify', 'item-forbidden', 'the node neither stores nor delivers payloads'),
  payloadTooBig: (limit: number) => new PubsubError('not-acceptable', 'modify', 'payload-too-big', `the payload exceeds ${limit} bytes`),
  badRequest: (why: string) => new PubsubError('bad-request', 'modify', undefined, why),
  unknownService: (service: string) => new PubsubError('item-not-found', 'cancel', undefined, `${service} is not a pubsub service here`),
};
