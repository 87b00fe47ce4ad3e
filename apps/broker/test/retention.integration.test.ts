/**
 * Retention by size and by time deletes whole old segments (never the active one); the log
 * start offset moves up and consumers start from it. The default keeps everything.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { startBroker, type RunningBroker } from '@hearth/testing';

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';

async function fill(broker: RunningBroker, topic: string, batches: number, configs: { name: string; value: string }[] = []) {
  const kafka = new Kafka({ brokers: broker.brokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 1, configEntries: configs }] });
  const producer = kafka.producer();
  await producer.connect();
  for (let i = 0; i < batches; i++) {
    await producer.send({ topic, acks: -1, messages: Array.from({ length: 10 }, (_, j) => ({ value: Buffer.alloc(1000, 97 + (j % 26)) })) });
  }
  await producer.disconnect();
  return { kafka, admin };
}

const segments = (broker: RunningBroker, topic: string) =>
  fs.readdirSync(path.join(broker.dataDir, 'topics', topic, '0')).filter((f) => f.endsWith('.log')).sort();

async function until(condition: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('retention', () => {
  const brokers: RunningBroker[] = [];
  after(async () => {
    for (const b of brokers) await b.dispose();
  });

  it('keeps every segment by default', async () => {
    const broker = await startBroker({ env: { HEARTH_BROKER_SEGMENT_BYTES: '20000', HEARTH_BROKER_RETENTION_CHECK_MS: '50' } });
    brokers.push(broker);
    const { admin } = await fill(broker, 'history', 12);
    await new Promise((r) => setTimeout(r, 300));
    assert.ok(segments(broker, 'history').length >= 5);
    const [offsets] = await admin.fetchTopicOffsets('history');
    assert.equal(offsets!.low, '0');
    await admin.disconnect();
  });

  it('deletes old segments beyond retention.bytes, and consumers start at the new log start', async () => {
    const broker = await startBroker({ env: { HEARTH_BROKER_SEGMENT_BYTES: '20000', HEARTH_BROKER_RETENTION_CHECK_MS: '50' } });
    brokers.push(broker);
    const { kafka, admin } = await fill(broker, 'presence-pings', 12, [{ name: 'retention.bytes', value: '40000' }]);
    // Batches of ~10 KB, one per 20 KB segment: 40 KB of retention keeps the last four segments.
    await until(async () => (await admin.fetchTopicOffsets('presence-pings'))[0]!.low === '80');
    await until(async () => segments(broker, 'presence-pings').length === 4);
    const [offsets] = await admin.fetchTopicOffsets('presence-pings');
    assert.equal(offsets!.high, '120');
    const low = Number(offsets!.low);
    const consumer = kafka.consumer({ groupId: 'late-reader', maxWaitTimeInMs: 100 });
    await consumer.connect();
    await consumer.subscribe({ topic: 'presence-pings', fromBeginning: true });
    const first = await new Promise<number>((resolve) => void consumer.run({ eachMessage: async ({ message }) => resolve(Number(message.offset)) }));
    assert.equal(first, low);
    await consumer.disconnect();
    await admin.disconnect();
  });

  it('deletes segments older than HEARTH_BROKER_RETENTION_MS', async () => {
    const broker = await startBroker({
      env: { HEARTH_BROKER_SEGMENT_BYTES: '20000', HEARTH_BROKER_RETENTION_CHECK_MS: '50', HEARTH_BROKER_RETENTION_MS: '500' },
    });
    brokers.push(broker);
    const { admin } = await fill(broker, 'typing-events', 8);
    await until(async () => segments(broker, 'typing-events').length === 1);
    const [offsets] = await admin.fetchTopicOffsets('typing-events');
    assert.equal(offsets!.high, '80');
    assert.ok(Number(offsets!.low) > 0 && Number(offsets!.low) <= 80);
    await admin.disconnect();
  });
});
