import { CompressionTypes, Partitioners, type Kafka, type Producer } from 'kafkajs';
import { encodeEvent, topicOf, type Envelope } from '@hearth/contracts';

export interface EventProducer {
  /**
   * Appends events to their topics and resolves once every in-sync replica has them
   * (acks = -1). Events are checked against their contracts first; one that breaks its
   * contract is refused with a ContractViolation and nothing of that call is sent.
   */
  publish(events: Envelope | Envelope[]): Promise<void>;
  disconnect(): Promise<void>;
}

interface Encoded {
  topic: string;
  message: { key: string; value: Buffer; headers: Record<string, string> };
}

/**
 * An idempotent producer: the broker drops a retried batch it already has, so a network
 * retry never appends an event twice. `maxInFlightRequests: 1` keeps per-partition order, so one
 * request is in flight at a time: calls made meanwhile are gathered into the next request
 * (group commit: one acks=-1 round trip and one broker fsync for many commands), each call
 * still resolved or rejected on its own, in call order.
 * The partitioner is named (Kafka's murmur2, as the Java client): every producer must map a key
 * to the same partition, since a chat's order is its partition's.
 */
export async function createEventProducer(kafka: Kafka): Promise<EventProducer> {
  const producer: Producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: true, createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  const queued: { encoded: Encoded[]; resolve: () => void; reject: (error: unknown) => void }[] = [];
  let sending = false;

  async function sendQueued(): Promise<void> {
    sending = true;
    while (queued.length > 0) {
      const calls = queued.splice(0, queued.length);
      const byTopic = new Map<string, Encoded['message'][]>();
      for (const { topic, message } of calls.flatMap((call) => call.encoded)) {
        const messages = byTopic.get(topic);
        if (messages) messages.push(message);
        else byTopic.set(topic, [message]);
      }
      try {
        await producer.sendBatch({
          acks: -1,
          compression: CompressionTypes.None,
          topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })),
        });
        for (const call of calls) call.resolve();
      } catch (error) {
        for (const call of calls) call.reject(error);
      }
    }
    sending = false;
  }

  return {
    publish(events) {
      const list = Array.isArray(events) ? events : [events];
      if (list.length === 0) return Promise.resolve();
      let encoded: Encoded[];
      try {
        encoded = list.map((event) => ({ topic: topicOf(event), message: { key: event.key, value: encodeEvent(event), headers: { 'hearth-event-type': event.type } } }));
      } catch (error) {
        return Promise.reject(error);
      }
      return new Promise<void>((resolve, reject) => {
        queued.push({ encoded, resolve, reject });
        if (!sending) void sendQueued();
      });
    },
    disconnect: () => producer.disconnect(),
  };
}
