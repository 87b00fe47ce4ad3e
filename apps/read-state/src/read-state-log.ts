import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import type { Admin, Kafka } from 'kafkajs';
import type { Envelope } from '@hearth/contracts';
import { createEventProducer, createKafka, type EventProducer } from '@hearth/kafka';
import { SERVICE_LOGGER } from '@hearth/nest-service';
import type { Logger } from '@hearth/runtime';
import { READ_STATE_CONFIG, type ReadStateConfig } from './config';

/** Read-state's connection to the log: one kafkajs client, the event producer and an admin client. */
@Injectable()
export class ReadStateLog implements OnModuleInit, OnModuleDestroy {
  readonly kafka: Kafka;
  private producer?: EventProducer;
  private admin?: Admin;
  private pending: { events: Envelope[]; resolve: () => void; reject: (error: unknown) => void }[] = [];
  private sending = false;

  constructor(@Inject(READ_STATE_CONFIG) config: ReadStateConfig, @Inject(SERVICE_LOGGER) logger: Logger) {
    this.kafka = createKafka({ brokers: config.HEARTH_KAFKA_BROKERS, clientId: 'read-state', logger });
  }

  async onModuleInit(): Promise<void> {
    this.admin = this.kafka.admin();
    [this.producer] = await Promise.all([createEventProducer(this.kafka), this.admin.connect()]);
  }

  /**
   * Appends events (acks from every in-sync replica) and resolves once they are in the log.
   * The producer sends one request at a time (idempotent, in order), so calls made while one is
   * in flight are coalesced into the next request: concurrent markers share one append (and one
   * broker fsync) instead of queueing one by one.
   */
  publish(events: Envelope | Envelope[]): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pending.push({ events: Array.isArray(events) ? events : [events], resolve, reject });
      if (!this.sending) void this.sendPending();
    });
  }

  private async sendPending(): Promise<void> {
    this.sending = true;
    while (this.pending.length > 0) {
      const group = this.pending.splice(0, this.pending.length);
      try {
        await this.producer!.publish(group.flatMap((g) => g.events));
        for (const g of group) g.resolve();
      } catch (error) {
        for (const g of group) g.reject(error);
      }
    }
    this.sending = false;
  }

  /** The next offset to be written, per partition of `topic`; empty if the topic does not exist yet. */
  async endOffsets(topic: string): Promise<Map<number, bigint>> {
    // Asking for a topic that does not exist makes kafkajs retry for many seconds: look first.
    if (!(await this.admin!.listTopics()).includes(topic)) return new Map();
    const offsets = await this.admin!.fetchTopicOffsets(topic);
    return new Map(offsets.map(({ partition, high }) => [partition, BigInt(high)]));
  }

  async onModuleDestroy(): Promise<void> {
    await Promise.all([this.producer?.disconnect(), this.admin?.disconnect()]);
  }
}
