import { z } from 'zod';
import { env, loadConfigOrExit } from '@hearth/runtime';
import { ACCESS_MODELS, PUBLISH_MODELS, SEND_LAST_PUBLISHED_ITEM, type PubsubSettings } from './domain';

/**
 * The pubsub service's configuration. The HEARTH_PUBSUB_* defaults are the node configuration a
 * new node starts with (XEP-0060 §8.3 default configuration) and the service-wide rules.
 */
export const pubsubConfigSchema = z.object({
  DATABASE_URL: env.url(),
  HEARTH_KAFKA_BROKERS: env.list('127.0.0.1:9092'),
  HEARTH_HTTP_PORT: env.port(8083),
  HEARTH_GRPC_PORT: env.port(50053),
  /** The service is pubsub.<domain> for each of these domains. */
  HEARTH_DOMAINS: env.list('localhost'),
  HEARTH_PUBSUB_SEND_LAST_PUBLISHED_ITEM: z.enum(SEND_LAST_PUBLISHED_ITEM).default('never'),
  HEARTH_PUBSUB_MULTIPLE_SUBSCRIPTIONS: env.flag(false),
  HEARTH_PUBSUB_AUTO_SUBSCRIBE_CREATOR: env.flag(true),
  HEARTH_PUBSUB_MAX_ITEMS: env.int(10, 1),
  HEARTH_PUBSUB_MAX_ITEMS_LIMIT: env.int(1000, 1),
  HEARTH_PUBSUB_MAX_PAYLOAD_BYTES: env.int(64 * 1024, 1),
  HEARTH_PUBSUB_PERSIST_ITEMS: env.flag(true),
  HEARTH_PUBSUB_DELIVER_PAYLOADS: env.flag(true),
  HEARTH_PUBSUB_NOTIFY_RETRACT: env.flag(true),
  HEARTH_PUBSUB_NOTIFY_DELETE: env.flag(true),
  HEARTH_PUBSUB_ACCESS_MODEL: z.enum(ACCESS_MODELS).default('open'),
  HEARTH_PUBSUB_PUBLISH_MODEL: z.enum(PUBLISH_MODELS).default('publishers'),
  /** How long a command waits for its events to reach the projection before answering anyway. */
  HEARTH_PUBSUB_APPLY_TIMEOUT_MS: env.int(10_000, 1),
}).refine((c) => c.HEARTH_PUBSUB_MAX_ITEMS <= c.HEARTH_PUBSUB_MAX_ITEMS_LIMIT, {
  path: ['HEARTH_PUBSUB_MAX_ITEMS'], message: 'must not exceed HEARTH_PUBSUB_MAX_ITEMS_LIMIT',
});

export type PubsubConfig = z.infer<typeof pubsubConfigSchema>;
export const PUBSUB_CONFIG = Symbol('PUBSUB_CONFIG');

export const loadPubsubConfig = () => loadConfigOrExit(pubsubConfigSchema);

export function settingsOf(config: PubsubConfig): PubsubSettings {
  return {
    defaults: {
      title: '',
      sendLastPublishedItem: config.HEARTH_PUBSUB_SEND_LAST_PUBLISHED_ITEM,
      maxItems: config.HEARTH_PUBSUB_MAX_ITEMS,
      persistItems: config.HEARTH_PUBSUB_PERSIST_ITEMS,
      deliverPayloads: config.HEARTH_PUBSUB_DELIVER_PAYLOADS,
      notifyRetract: config.HEARTH_PUBSUB_NOTIFY_RETRACT,
      notifyDelete: config.HEARTH_PUBSUB_NOTIFY_DELETE,
      accessModel: config.HEARTH_PUBSUB_ACCESS_MODEL,
      publishModel: config.HEARTH_PUBSUB_PUBLISH_MODEL,
    },
    multipleSubscriptions: config.HEARTH_PUBSUB_MULTIPLE_SUBSCRIPTIONS,
    autoSubscribeCreator: config.HEARTH_PUBSUB_AUTO_SUBSCRIBE_CREATOR,
    maxItemsLimit: config.HEARTH_PUBSUB_MAX_ITEMS_LIMIT,
    maxPayloadBytes: config.HEARTH_PUBSUB_MAX_PAYLOAD_BYTES,
  };
}
