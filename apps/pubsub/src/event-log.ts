import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { createEvent, pubsubKeyOf, type Envelope } from '@hearth/contracts';
import {
  PubsubAffiliationChanged, PubsubItemPublished, PubsubItemRetracted, PubsubNodeConfigured, PubsubNodeCreated, PubsubNodeDeleted,
  PubsubNodePurged, PubsubSubscriptionChanged, type EventContract,
} from '@hearth/contracts';
import { createEventProducer, createKafka, type EventProducer } from '@hearth/kafka';
import { Readiness, SERVICE_LOGGER } from '@hearth/nest-service';
import type { Logger } from '@hearth/runtime';
import { PUBSUB_CONFIG, type PubsubConfig } from './config';
import type { PubsubEvent } from './domain';

const CONTRACTS: { [T in PubsubEvent['type']]: EventContract<T, Extract<PubsubEvent, { type: T }>['payload']> } = {
  PubsubNodeCreated, PubsubNodeConfigured, PubsubNodeDeleted, PubsubNodePurged, PubsubAffiliationChanged,
  PubsubSubscriptionChanged, PubsubItemPublished, PubsubItemRetracted,
};

/** Appends the domain's events to hearth.pubsub (acks from all in-sync replicas), keyed by node. */
@Injectable()
export class PubsubEventLog implements OnModuleInit, OnModuleDestroy {
  private producer?: EventProducer;

  constructor(
    private readonly readiness: Readiness,
    @Inject(PUBSUB_CONFIG) private readonly config: PubsubConfig,
    @Inject(SERVICE_LOGGER) private readonly logger: Logger,
  ) {}

  async onModuleInit(): Promise<void> {
    this.producer = await createEventProducer(createKafka({ brokers: this.config.HEARTH_KAFKA_BROKERS, clientId: 'pubsub-commands', logger: this.logger }));
    this.readiness.register('producer', () => this.producer !== undefined);
  }

  /** Contract-checked envelopes, so their ids are known before they are appended. */
  envelopes(events: readonly PubsubEvent[], correlationId: string): Envelope[] {
    return events.map((e) => createEvent(CONTRACTS[e.type] as EventContract<string, unknown>, e.payload,
      { key: pubsubKeyOf(e.payload.service, e.payload.node), producer: 'pubsub', correlationId }));
  }

  /**
   * Appends (group commit: the producer gathers the events of commands arriving while a request
   * is in flight into the next one). Order is kept: a node's commands never overlap, and a
   * command's events keep their order.
   */
  append(envelopes: Envelope[]): Promise<void> {
    if (!this.producer) return Promise.reject(new Error('the event producer is not connected yet'));
    return this.producer.publish(envelopes);
  }

  async onModuleDestroy(): Promise<void> {
    await this.producer?.disconnect();
  }
}
