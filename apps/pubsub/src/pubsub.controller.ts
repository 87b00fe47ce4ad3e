import { Controller, Inject } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import { SERVICE_LOGGER } from '@hearth/nest-service';
import type { Logger } from '@hearth/runtime';
import {
  configurationForm, configurationOptions, PubsubError, subscriptionOptionsForm, type FormValues, type NodeConfig, type StoredItem,
  type SubscriptionRecord,
} from './domain';
import { PubsubService } from './pubsub.service';

/**
 * The gRPC edge (libs/contracts/proto/pubsub.proto): maps messages to domain commands and back;
 * a refusal (PubsubError) becomes the response's `error`, never a gRPC failure.
 */

type WireForm = Record<string, { values: string[] }>;
interface Base { actor: string; service: string; node: string }
type Outcome<T> = { ok: T } | { error: { condition: string; type: string; pubsub_condition: string; feature: string; text: string } };

const formIn = (form: WireForm | undefined): FormValues =>
  Object.fromEntries(Object.entries(form ?? {}).map(([field, { values }]) => [field, values.length === 1 ? values[0]! : values]));
const formOut = (form: Record<string, string | readonly string[]>): WireForm =>
  Object.fromEntries(Object.entries(form).map(([field, v]) => [field, { values: typeof v === 'string' ? [v] : [...v] }]));
const itemOut = (i: StoredItem) => ({ id: i.id, payload: i.payload, publisher: i.publisher, published_at: i.publishedAt });
const subscriptionOut = (node: string, s: SubscriptionRecord) => ({ node, jid: s.jid, subid: s.subid, subscription: s.state });
const configurationOut = (node: string, config: NodeConfig) => ({ node, configuration: formOut(configurationForm(config)), options: formOut(configurationOptions()) });
const ack = {};

@Controller()
export class PubsubController {
  constructor(private readonly pubsub: PubsubService, @Inject(SERVICE_LOGGER) private readonly logger: Logger) {}

  @GrpcMethod('Pubsub', 'CreateNode')
  createNode(r: Base & { configuration: WireForm }) {
    return this.answer('CreateNode', r, async () => {
      const { node, creatorSubscription } = await this.pubsub.createNode({ ...r, configuration: formIn(r.configuration) });
      return { node, ...(creatorSubscription ? { creator_subscription: subscriptionOut(node, creatorSubscription) } : {}) };
    });
  }

  @GrpcMethod('Pubsub', 'ConfigureNode')
  configureNode(r: Base & { configuration: WireForm }) {
    return this.answer('ConfigureNode', r, async () => (await this.pubsub.configureNode({ ...r, configuration: formIn(r.configuration) }), ack));
  }

  @GrpcMethod('Pubsub', 'GetNodeConfiguration')
  getNodeConfiguration(r: Base) {
    return this.answer('GetNodeConfiguration', r, async () => configurationOut(r.node, await this.pubsub.nodeConfiguration(r)));
  }

  @GrpcMethod('Pubsub', 'GetDefaultConfiguration')
  getDefaultConfiguration(r: Omit<Base, 'node'>) {
    return this.answer('GetDefaultConfiguration', r, async () => configurationOut('', this.pubsub.defaultConfiguration(r)));
  }

  @GrpcMethod('Pubsub', 'GetServiceFeatures')
  getServiceFeatures(r: Omit<Base, 'node'>) {
    return this.answer('GetServiceFeatures', r, async () => ({ multiple_subscriptions: this.pubsub.serviceFeatures(r).multipleSubscriptions }));
  }

  @GrpcMethod('Pubsub', 'DeleteNode')
  deleteNode(r: Base & { redirect: string }) {
    return this.answer('DeleteNode', r, async () => (await this.pubsub.deleteNode(r), ack));
  }

  @GrpcMethod('Pubsub', 'PurgeNode')
  purgeNode(r: Base) {
    return this.answer('PurgeNode', r, async () => (await this.pubsub.purgeNode(r), ack));
  }

  @GrpcMethod('Pubsub', 'Subscribe')
  subscribe(r: Base & { jid: string; options: WireForm; subscriber_available: boolean; actor_presence_subscriptions: string[] }) {
    return this.answer('Subscribe', r, async () => {
      const result = await this.pubsub.subscribe({ ...r, options: formIn(r.options), subscriberAvailable: r.subscriber_available,
        presenceSubscriptions: r.actor_presence_subscriptions ?? [] });
      return { subscription: subscriptionOut(r.node, result.subscription), existing: result.existing,
        last_items: result.lastItems.map(itemOut), deliver_payload: result.deliverPayload };
    });
  }

  @GrpcMethod('Pubsub', 'Unsubscribe')
  unsubscribe(r: Base & { jid: string; subid: string }) {
    return this.answer('Unsubscribe', r, async () => (await this.pubsub.unsubscribe(r), ack));
  }

  @GrpcMethod('Pubsub', 'GetSubscriptions')
  getSubscriptions(r: Base & { as_owner: boolean }) {
    return this.answer('GetSubscriptions', r, async () => ({
      subscriptions: (await this.pubsub.subscriptions({ ...r, asOwner: r.as_owner })).map((s) => subscriptionOut(s.node, s)),
    }));
  }

  @GrpcMethod('Pubsub', 'GetAffiliations')
  getAffiliations(r: Base & { as_owner: boolean }) {
    return this.answer('GetAffiliations', r, async () => ({ affiliations: await this.pubsub.affiliations({ ...r, asOwner: r.as_owner }) }));
  }

  @GrpcMethod('Pubsub', 'SetAffiliations')
  setAffiliations(r: Base & { affiliations: { jid: string; affiliation: string }[] }) {
    return this.answer('SetAffiliations', r, async () => (await this.pubsub.setAffiliations(r), ack));
  }

  @GrpcMethod('Pubsub', 'SetSubscriptions')
  setSubscriptions(r: Base & { subscriptions: { jid: string; subid: string; subscription: string }[] }) {
    return this.answer('SetSubscriptions', r, async () => (await this.pubsub.setSubscriptions(r), ack));
  }

  @GrpcMethod('Pubsub', 'GetSubscriptionOptions')
  getSubscriptionOptions(r: Base & { jid: string; subid: string; options: WireForm }) {
    return this.answer('GetSubscriptionOptions', r, async () => {
      const s = await this.pubsub.subscriptionOptions({ ...r, options: {} });
      return { node: r.node, jid: s.jid, subid: s.subid, options: formOut(subscriptionOptionsForm(s.options)) };
    });
  }

  @GrpcMethod('Pubsub', 'GetDefaultSubscriptionOptions')
  getDefaultSubscriptionOptions(r: Base) {
    return this.answer('GetDefaultSubscriptionOptions', r, async () => ({
      node: r.node, jid: '', subid: '', options: formOut(subscriptionOptionsForm(await this.pubsub.defaultSubscriptionOptions(r))),
    }));
  }

  @GrpcMethod('Pubsub', 'SetSubscriptionOptions')
  setSubscriptionOptions(r: Base & { jid: string; subid: string; options: WireForm }) {
    return this.answer('SetSubscriptionOptions', r, async () => (await this.pubsub.setSubscriptionOptions({ ...r, options: formIn(r.options) }), ack));
  }

  @GrpcMethod('Pubsub', 'Publish')
  publish(r: Base & { item_id: string; payload: string; publish_options: WireForm }) {
    return this.answer('Publish', r, async () => {
      const { itemId } = await this.pubsub.publish({ ...r, itemId: r.item_id, publishOptions: formIn(r.publish_options) });
      return { node: r.node, item_id: itemId };
    });
  }

  @GrpcMethod('Pubsub', 'Retract')
  retract(r: Base & { item_id: string; notify: boolean }) {
    return this.answer('Retract', r, async () => (await this.pubsub.retract({ ...r, itemId: r.item_id }), ack));
  }

  @GrpcMethod('Pubsub', 'GetItems')
  getItems(r: Base & { max_items: number; item_ids: string[]; subid: string; actor_presence_subscriptions: string[] }) {
    return this.answer('GetItems', r, async () => ({
      node: r.node,
      items: (await this.pubsub.items({ ...r, maxItems: r.max_items, itemIds: r.item_ids ?? [], presenceSubscriptions: r.actor_presence_subscriptions ?? [] })).map(itemOut),
    }));
  }

  @GrpcMethod('Pubsub', 'ListNodes')
  listNodes(r: Base & { after: string; max: number }) {
    return this.answer('ListNodes', r, async () => {
      const { nodes, more, count } = await this.pubsub.nodes(r);
      return {
        more, count,
        nodes: nodes.map((n) => ({ node: n.node, title: n.config.title, access_model: n.config.accessModel,
          owners: [...n.affiliations].filter(([, a]) => a === 'owner').map(([jid]) => jid) })),
      };
    });
  }

  @GrpcMethod('Pubsub', 'SubscriberBecameAvailable')
  subscriberBecameAvailable(r: Omit<Base, 'node'>) {
    return this.answer('SubscriberBecameAvailable', r, async () => ({
      items: (await this.pubsub.subscriberBecameAvailable(r)).map(({ node, jid, subids, item }) => ({
        node: node.node, jid, subids, item: itemOut(item), deliver_payload: node.config.deliverPayloads,
      })),
    }));
  }

  /** Runs a call; a PubsubError is the answer's `error` (logged at debug with why), anything else fails the call. */
  private async answer<T>(method: string, request: Partial<Base>, work: () => Promise<T>): Promise<Outcome<T>> {
    try {
      return { ok: await work() };
    } catch (error) {
      if (!(error instanceof PubsubError)) {
        this.logger.error({ err: error, method, actor: request.actor, node: request.node }, 'pubsub call failed');
        throw error;
      }
      this.logger.debug({ method, actor: request.actor, node: request.node, condition: error.condition, pubsubCondition: error.pubsubCondition,
        reason: error.text }, 'pubsub request refused');
      return { error: { condition: error.condition, type: error.type, pubsub_condition: error.pubsubCondition ?? '', feature: error.feature ?? '', text: error.text } };
    }
  }
}
