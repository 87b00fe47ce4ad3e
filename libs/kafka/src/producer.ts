import { CompressionTypes, Partitioners, type Kafka, type Producer } from 'kafkajs';
import { encodeEvent, topicOf, type Envelope } from '@hearth/contracts';

export interface EventProducer {
  /**
   * Appends events to their topics and resolves once every in-sync replica has them
   * (acks = -1). Events are checked against their contracts first; one that breaks its
   * contract is refused with a ContractViolation and nothing is sent.
   */
  publish(events: Envelope | Envelope[]): Promise<void>;
  disconnect(): Promise<void>;
}

/**
 * An idempotent producer: the broker drops a retried batch it already has, so a network
 * retry never appends an event twice. `maxInFlightRequests: 1` keeps per-partition order.
 * The partitioner is named (Kafka's murmur2, as the Java client): every producer must map a key
 * to the same partition, since a chat's order is its partition's.
 */
export async function createEventProducer(kafka: Kafka): Promise<EventProducer> {
  const producer: Producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: true, createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  return {
    async publish(events) {
      const list = Array.isArray(events) ? events : [events];
      if (list.length === 0) return;
      const byTopic = new Map<string, { key: string; value: Buffer; headers: Record<string, string> }[]>();
      for (const event of list) {
        const topic = topicOf(event);
        const messages = byTopic.get(topic) ?? [];
        messages.push({ key: event.key, value: encodeEvent(event), headers: { 'hearth-event-type': event.type } });
        byTopic.set(topic, messages);
      }
      await producer.sendBatch({
        acks: -1,
        compression: CompressionTypes.None,
        topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })),
      });
    },
    disconnect: () => producer.disconnect(),
  };
}
