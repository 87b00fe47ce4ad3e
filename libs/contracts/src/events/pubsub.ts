import { z } from 'zod';
import { defineEvent } from '../registry';
import { topics } from '../topics';
import { anyJid, bareJid } from './fields';

const node = { service: anyJid, node: z.string().min(1).max(1024) };
/**
 * Node configuration as `pubsub#field` → value(s) (XEP-0060 §16.4.4 pubsub#node_config), already
 * validated by the pubsub service; always the complete configuration, never a partial update.
 */
const configuration = z.record(z.string(), z.union([z.string(), z.array(z.string())]));
/**
 * Who is notified: one entry per subscribed JID (never two), with every subid that JID holds on
 * the node, for the SHIM `SubID` headers of XEP-0060 §6.1.6 / §12.20. Empty: nobody is told.
 */
const recipients = z.array(z.object({ jid: anyJid, subids: z.array(z.string().min(1)).min(1) }));

/** The Kafka key of a node's events: one node, one partition, one order. */
export function pubsubKeyOf(service: string, nodeId: string): string {
  return `${service} ${nodeId}`;
}

export const PubsubNodeCreated = defineEvent('PubsubNodeCreated', 1, topics.pubsub,
  z.object({ ...node, owner: bareJid, configuration }));
export const PubsubNodeConfigured = defineEvent('PubsubNodeConfigured', 1, topics.pubsub, z.object({ ...node, configuration }));
/** XEP-0060 §8.4: subscribers are told (`<delete/>`, with the optional redirect) when pubsub#notify_delete is on. */
export const PubsubNodeDeleted = defineEvent('PubsubNodeDeleted', 1, topics.pubsub,
  z.object({ ...node, redirect: z.string().optional(), recipients }));
/** XEP-0060 §8.5: subscribers are told (`<purge/>`) when pubsub#notify_retract is on. */
export const PubsubNodePurged = defineEvent('PubsubNodePurged', 1, topics.pubsub, z.object({ ...node, recipients }));
export const PubsubAffiliationChanged = defineEvent('PubsubAffiliationChanged', 1, topics.pubsub,
  z.object({ ...node, jid: bareJid, affiliation: z.enum(['owner', 'publisher', 'publish-only', 'member', 'none', 'outcast']) }));
/** `subscription: 'none'` removes that subscription (subid). */
export const PubsubSubscriptionChanged = defineEvent('PubsubSubscriptionChanged', 1, topics.pubsub, z.object({
  ...node,
  jid: anyJid,
  subid: z.string().min(1),
  subscription: z.enum(['subscribed', 'pending', 'unconfigured', 'none']),
  /** XEP-0060 §6.3 subscription options (`pubsub#deliver` …), complete. */
  options: configuration.optional(),
}));
export const PubsubItemPublished = defineEvent('PubsubItemPublished', 1, topics.pubsub, z.object({
  ...node,
  itemId: z.string().min(1).max(1024),
  publisher: anyJid,
  /** The item's payload element as XML ('' for a notification-only item). */
  payload: z.string(),
  /** pubsub#deliver_payloads: whether notifications carry the payload or only the item id. */
  deliverPayload: z.boolean(),
  /** pubsub#persist_items: whether the item is stored (and retrievable, and the "last published item"). */
  persisted: z.boolean(),
  /** One entry per subscribed JID (never two), with all its subids (XEP-0060 §6.1.6 SHIM headers). */
  recipients,
}));
/** Recipients are empty unless pubsub#notify_retract is on or the retract asked to notify (XEP-0060 §7.2.2.1). */
export const PubsubItemRetracted = defineEvent('PubsubItemRetracted', 1, topics.pubsub, z.object({
  ...node,
  itemId: z.string().min(1).max(1024),
  recipients,
}));
