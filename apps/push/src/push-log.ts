import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import type { Admin, Kafka } from 'kafkajs';
import type { Envelope } from '@hearth/contracts';
import { createEventProducer, createKafka, topicEndOffsets, type EventProducer } from '@hearth/kafka';
import { SERVICE_LOGGER } from '@hearth/nest-service';
import type { Logger } from '@hearth/runtime';
import { PUSH_CONFIG, type PushConfig } from './config';

/** The push service's connection to the log: one kafkajs client, the event producer, an admin client. */
@Injectable()
export class PushLog implements OnModuleInit, OnModuleDestroy {
  readonly kafka: Kafka;
  private producer?: EventProducer;
  private admin?: Admin;

  constructor(@Inject(PUSH_CONFIG) config: PushConfig, @Inject(SERVICE_LOGGER) logger: Logger) {
    this.kafka = createKafka({ brokers: config.HEARTH_KAFKA_BROKERS, clientId: 'push', logger });
  }

  async onModuleInit(): Promise<void> {
    this.admin = this.kafka.admin();
    [this.producer] = await Promise.all([createEventProducer(this.kafka), this.admin.connect()]);
  }

  /** Appends events (acks from every in-sync replica) and resolves once they are in the log. */
  publish(events: Envelope | Envelope[]): Promise<void> {
    return this.producer!.publish(events);
  }

  /**
   * Creates the input topics that do not exist yet, so the consumer subscribes to all of them
   * from the start (kafkajs only sees a topic created later at its next metadata refresh).
   */
  async ensureTopics(topics: readonly string[]): Promise<void> {
    const existing = new Set(await this.admin!.listTopics());
    const missing = topics.filter((t) => !existing.has(t));
    if (missing.length === 0) return;
    try {
      await this.admin!.createTopics({ topics: missing.map((topic) => ({ topic })), waitForLeaders: true });
    } catch (error) {
      // Another service created one first: harmless.
      if (!/already exists/i.test((error as Error).message)) throw error;
    }
  }

  /** The next offset to be written, per partition of `topic`; empty if the topic does not exist yet. */
  endOffsets(topic: string): Promise<Map<number, bigint>> {
    return topicEndOffsets(this.admin!, topic);
  }

  async onModuleDestroy(): Promise<void> {
    await Promise.all([this.producer?.disconnect(), this.admin?.disconnect()]);
  }
}
