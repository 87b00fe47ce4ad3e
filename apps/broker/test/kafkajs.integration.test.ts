/**
 * kafkajs 2.x against the broker, end to end: admin, producer, consumer.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CompressionTypes, Kafka, logLevel, type Admin, type Consumer, type Producer } from 'kafkajs';
import { startBroker, type RunningBroker } from '@hearth/testing';

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';

describe('kafkajs against the broker', () => {
  let broker: RunningBroker;
  let kafka: Kafka;
  let admin: Admin;
  let producer: Producer;
  const consumers: Consumer[] = [];

  before(async () => {
    broker = await startBroker({ env: { HEARTH_BROKER_DEFAULT_PARTITIONS: '2' } });
    kafka = new Kafka({ clientId: 'kafkajs-test', brokers: broker.brokers, logLevel: logLevel.NOTHING });
    admin = kafka.admin();
    await admin.connect();
    producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
  });
  after(async () => {
    for (const c of consumers) await c.disconnect().catch(() => undefined);
    await producer?.disconnect().catch(() => undefined);
    await admin?.disconnect().catch(() => undefined);
    await broker?.dispose();
  });

  // A short max-wait keeps disconnects quick (kafkajs waits for the fetch under way).
  const consumer = (groupId: string, maxWaitTimeInMs = 300) => {
    const c = kafka.consumer({ groupId, sessionTimeout: 3000, rebalanceTimeout: 3000, heartbeatInterval: 300, maxWaitTimeInMs });
    consumers.push(c);
    return c;
  };

  it('creates, lists, describes and deletes topics with the admin client', async () => {
    assert.equal(await admin.createTopics({ topics: [{ topic: 'admin-a', numPartitions: 3 }, { topic: 'admin-b' }] }), true);
    assert.equal(await admin.createTopics({ topics: [{ topic: 'admin-a', numPartitions: 3 }] }), false, 'already exists');
    const topics = await admin.listTopics();
    assert.ok(topics.includes('admin-a') && topics.includes('admin-b'));
    const meta = await admin.fetchTopicMetadata({ topics: ['admin-a'] });
    assert.deepEqual(meta.topics[0]!.partitions.map((p) => p.partitionId).sort(), [0, 1, 2]);
    assert.equal(meta.topics[0]!.partitions[0]!.leader, 1);

    const configs = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: 2, name: 'admin-a' }] });
    const entries = configs.resources[0]!.configEntries;
    assert.equal(entries.find((e) => e.configName === 'cleanup.policy')?.configValue, 'delete');
    assert.equal(entries.find((e) => e.configName === 'retention.ms')?.configValue, '-1', 'keeps everything by default');

    const refusal = (error: unknown) => (error as { errors?: { type: string }[] }).errors?.[0]?.type;
    await assert.rejects(
      admin.createTopics({ topics: [{ topic: 'replicated', numPartitions: 1, replicationFactor: 3 }] }),
      (error) => refusal(error) === 'INVALID_REPLICATION_FACTOR',
    );
    await assert.rejects(
      admin.createTopics({ topics: [{ topic: 'bad name!' }] }),
      (error) => refusal(error) === 'INVALID_TOPIC_EXCEPTION',
    );

    await admin.createPartitions({ topicPartitions: [{ topic: 'admin-a', count: 5 }] });
    const grown = await admin.fetchTopicMetadata({ topics: ['admin-a'] });
    assert.equal(grown.topics[0]!.partitions.length, 5);
    await assert.rejects(admin.createPartitions({ topicPartitions: [{ topic: 'admin-a', count: 2 }] }), /partitions/i);

    await admin.deleteTopics({ topics: ['admin-b'] });
    assert.ok(!(await admin.listTopics()).includes('admin-b'));
  });

  it('produces with acks=-1 and consumes every record in order per partition, keys and headers intact', async () => {
    await admin.createTopics({ topics: [{ topic: 'orders', numPartitions: 3 }] });
    const sent = Array.from({ length: 300 }, (_, i) => ({ key: `k${i % 7}`, value: `order-${i}`, headers: { n: String(i) } }));
    for (let i = 0; i < sent.length; i += 50) {
      await producer.send({ topic: 'orders', acks: -1, messages: sent.slice(i, i + 50) });
    }
    await producer.send({ topic: 'orders', acks: -1, compression: CompressionTypes.GZIP, messages: [{ key: 'gz', value: 'zipped' }] });

    const c = consumer('orders-readers');
    await c.connect();
    await c.subscribe({ topic: 'orders', fromBeginning: true });
    const received: { partition: number; offset: number; key: string; value: string; n?: string }[] = [];
    await new Promise<void>((resolve) => {
      void c.run({
        eachMessage: async ({ partition, message }) => {
          received.push({
            partition, offset: Number(message.offset), key: message.key!.toString(), value: message.value!.toString(),
            n: message.headers?.n?.toString(),
          });
          if (received.length === sent.length + 1) resolve();
        },
      });
    });
    assert.deepEqual(new Set(received.map((r) => r.value)), new Set([...sent.map((s) => s.value), 'zipped']));
    for (const r of received.filter((r) => r.key !== 'gz')) assert.equal(r.value, `order-${r.n}`);
    // The same key always lands on the same partition, and offsets within a partition increase.
    const partitionOfKey = new Map<string, number>();
    for (const r of received) {
      assert.equal(partitionOfKey.get(r.key) ?? r.partition, r.partition);
      partitionOfKey.set(r.key, r.partition);
    }
    for (const p of [0, 1, 2]) {
      const offsets = received.filter((r) => r.partition === p).map((r) => r.offset);
      assert.deepEqual(offsets, offsets.map((_, i) => i));
    }
  });

  it('wakes a waiting consumer within milliseconds of a produce (long poll), not at max-wait', async () => {
    await admin.createTopics({ topics: [{ topic: 'live', numPartitions: 1 }] });
    const c = consumer('live-readers', 3000);
    await c.connect();
    await c.subscribe({ topic: 'live', fromBeginning: true });
    let sentAt = 0;
    const latency = new Promise<number>((resolve) => {
      void c.run({ eachMessage: async () => resolve(Date.now() - sentAt) });
    });
    // Wait until the consumer is parked in a fetch (joined and fetching), then produce.
    await new Promise<void>((resolve) => c.on(c.events.FETCH_START, () => resolve()));
    await new Promise((r) => setTimeout(r, 200));
    sentAt = Date.now();
    await producer.send({ topic: 'live', acks: -1, messages: [{ value: 'now' }] });
    const ms = await latency;
    assert.ok(ms < 1000, `consumer saw the record after ${ms} ms (max-wait is 3000 ms)`);
  });

  it('answers ListOffsets for earliest, latest and by timestamp', async () => {
    await admin.createTopics({ topics: [{ topic: 'timeline', numPartitions: 1 }] });
    const t0 = Date.now();
    await producer.send({
      topic: 'timeline', acks: -1,
      messages: [0, 1, 2, 3].map((i) => ({ value: `v${i}`, timestamp: String(t0 + i * 1000) })),
    });
    const [latest] = await admin.fetchTopicOffsets('timeline');
    assert.deepEqual({ low: latest!.low, high: latest!.high }, { low: '0', high: '4' });
    const [byTime] = await admin.fetchTopicOffsetsByTimestamp('timeline', t0 + 1500);
    assert.equal(byTime!.offset, '2');
    const [future] = await admin.fetchTopicOffsetsByTimestamp('timeline', t0 + 60_000);
    assert.equal(future!.offset, '4', 'no record at or after the time: kafkajs falls back to the end');
  });

  it('commits and fetches offsets through a group, and lists and describes groups', async () => {
    await admin.createTopics({ topics: [{ topic: 'ledger', numPartitions: 1 }] });
    await producer.send({ topic: 'ledger', acks: -1, messages: [{ value: 'a' }, { value: 'b' }, { value: 'c' }] });
    const c = consumer('ledger-readers');
    await c.connect();
    await c.subscribe({ topic: 'ledger', fromBeginning: true });
    let seen = 0;
    await new Promise<void>((resolve) => {
      void c.run({
        autoCommit: false,
        eachMessage: async ({ topic, partition, message }) => {
          await c.commitOffsets([{ topic, partition, offset: String(Number(message.offset) + 1) }]);
          if (++seen === 3) resolve();
        },
      });
    });
    const offsets = await admin.fetchOffsets({ groupId: 'ledger-readers', topics: ['ledger'] });
    assert.equal(offsets[0]!.partitions[0]!.offset, '3');
    const { groups } = await admin.listGroups();
    assert.ok(groups.some((g) => g.groupId === 'ledger-readers' && g.protocolType === 'consumer'));
    const described = await admin.describeGroups(['ledger-readers']);
    assert.equal(described.groups[0]!.state, 'Stable');
    assert.equal(described.groups[0]!.members.length, 1);

    await assert.rejects(
      admin.deleteGroups(['ledger-readers']),
      (error: { groups?: { error?: { type?: string } }[] }) => error.groups?.[0]?.error?.type === 'NON_EMPTY_GROUP',
      'a group with members stays',
    );
    await c.disconnect();
    const [deleted] = await admin.deleteGroups(['ledger-readers']);
    assert.equal(deleted!.errorCode, 0);
    const after = await admin.fetchOffsets({ groupId: 'ledger-readers', topics: ['ledger'] });
    assert.equal(after[0]!.partitions[0]!.offset, '-1', 'its offsets went with it');
  });
});
