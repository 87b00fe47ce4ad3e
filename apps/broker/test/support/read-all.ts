/** Reads a whole topic (every partition up to its current end) with a fresh kafkajs consumer. */
import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';

export interface ReadRecord {
  partition: number;
  offset: number;
  value: string;
}

export async function readAll(kafka: Kafka, topic: string, timeoutMs = 20_000): Promise<ReadRecord[]> {
  const admin = kafka.admin();
  await admin.connect();
  const ends = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  const total = ends.reduce((n, e) => n + Number(e.high) - Number(e.low), 0);
  const records: ReadRecord[] = [];
  if (total === 0) return records;
  const consumer = kafka.consumer({ groupId: `read-all-${randomUUID()}`, maxWaitTimeInMs: 100, sessionTimeout: 5000, heartbeatInterval: 500 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`read ${records.length} of ${total} records of ${topic}`)), timeoutMs);
      void consumer.run({
        eachMessage: async ({ partition, message }) => {
          records.push({ partition, offset: Number(message.offset), value: message.value!.toString() });
          if (records.length === total) {
            clearTimeout(timer);
            resolve();
          }
        },
      });
    });
  } finally {
    await consumer.disconnect();
  }
  return records;
}
