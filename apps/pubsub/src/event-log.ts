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
  private readonly queued: { envelopes: Envelope[]; resolve: () => void; reject: (error: unknown) => void }[] = [];
  private sending = false;

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
   * Appends, group-commit style: while one produce request is in flight, the events of commands
   * that arrive meanwhile gather and go together in the next one (one acks=-1 round trip and one
   * broker fsync for many commands). Order is kept: a node's commands never overlap, and a
   * request's events keep their order.
   */
  append(envelopes: Envelope[]): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queued.push({ envelopes, resolve, reject });
      if (!this.sending) void this.flush();
    });
  }

  private async flush(): Promise<void> {
    this.sending = true;
    while (this.queued.length > 0) {
      const batch = this.queued.splice(0, this.queued.length);
      try {
        if (!this.producer) throw new Error('the event producer is not connected yet');
        await this.producer.publish(batch.flatMap((b) => b.envelopes));
        for (const b of batch) b.resolve();
      } catch (error) {
        for (const b of batch) b.reject(error);
      }
    }
    this.sending = false;
  }

  async onModuleDestroy(): Promise<void> {
    await this.producer?.disconnect();
  }
}
