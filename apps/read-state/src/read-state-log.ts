import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import type { Admin, Kafka } from 'kafkajs';
import type { Envelope } from '@hearth/contracts';
import { createEventProducer, createKafka, topicEndOffsets, type EventProducer } from '@hearth/kafka';
import { SERVICE_LOGGER } from '@hearth/nest-service';
import type { Logger } from '@hearth/runtime';
import { READ_STATE_CONFIG, type ReadStateConfig } from './config';

/** Read-state's connection to the log: one kafkajs client, the event producer and an admin client. */
@Injectable()
export class ReadStateLog implements OnModuleInit, OnModuleDestroy {
  readonly kafka: Kafka;
  private producer?: EventProducer;
  private admin?: Admin;

  constructor(@Inject(READ_STATE_CONFIG) config: ReadStateConfig, @Inject(SERVICE_LOGGER) logger: Logger) {
    this.kafka = createKafka({ brokers: config.HEARTH_KAFKA_BROKERS, clientId: 'read-state', logger });
  }

  async onModuleInit(): Promise<void> {
    this.admin = this.kafka.admin();
    [this.producer] = await Promise.all([createEventProducer(this.kafka), this.admin.connect()]);
  }

  /**
   * Appends events (acks from every in-sync replica) and resolves once they are in the log;
   * concurrent markers share one request (the producer gathers calls made while one is in flight).
   */
  publish(events: Envelope | Envelope[]): Promise<void> {
    return this.producer!.publish(events);
  }

  /** The next offset to be written, per partition of `topic`; empty if the topic does not exist yet. */
  endOffsets(topic: string): Promise<Map<number, bigint>> {
    return topicEndOffsets(this.admin!, topic);
  }

  async onModuleDestroy(): Promise<void> {
    await Promise.all([this.producer?.disconnect(), this.admin?.disconnect()]);
  }
}
