/**
 * Idempotent producers (KIP-98): a retried batch is answered with its first offset and stored
 * once, including across a broker restart; out-of-order sequences are refused.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Kafka, logLevel } from 'kafkajs';
import { startBroker, type RunningBroker } from '@hearth/testing';
import { ErrorCode } from '../src/protocol/error-codes';
import { encodeBatch } from '../src/protocol/record-batch';
import { RawClient } from './support/raw-client';
import { startLossyProxy, type LossyProxy } from './support/lossy-proxy';

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';
const PRODUCE = 0;
const FETCH = 1;
const CREATE_TOPICS = 19;
const INIT_PRODUCER_ID = 22;

async function produceRaw(client: RawClient, topic: string, batch: Buffer): Promise<{ errorCode: number; baseOffset: number }> {
  const r = await client.request(PRODUCE, 3, (w) =>
    w.nullableString(null).int16(-1).int32(5000)
      .array([topic], (w, t) => w.string(t).array([0], (w, p) => w.int32(p).bytes(batch))),
  );
  r.int32(); // topics
  r.string();
  r.int32(); // partitions
  r.int32(); // index
  return { errorCode: r.int16(), baseOffset: r.int64() };
}

async function highWatermark(client: RawClient, topic: string): Promise<number> {
  const r = await client.request(FETCH, 4, (w) =>
    w.int32(-1).int32(0).int32(0).int32(1 << 20).int8(0)
      .array([topic], (w, t) => w.string(t).array([0], (w, p) => w.int32(p).int64(0).int32(1 << 20))),
  );
  r.int32(); // throttle
  r.int32();
  r.string();
  r.int32();
  r.int32(); // partition
  assert.equal(r.int16(), ErrorCode.NONE);
  return r.int64();
}

describe('idempotent producer', () => {
  let broker: RunningBroker;
  let proxy: LossyProxy;
  let client: RawClient | undefined;

  before(async () => {
    broker = await startBroker();
  });
  after(async () => {
    client?.close();
    await proxy?.close();
    await broker?.dispose();
  });

  it('answers a retried batch with its first offset and stores it once, also after a restart', async () => {
    client = await RawClient.connect(broker.port);
    const created = await client.request(CREATE_TOPICS, 0, (w) =>
      w.array(['payments'], (w, t) => w.string(t).int32(1).int16(1).array([], () => undefined).array([], () => undefined)).int32(5000),
    );
    created.int32();
    created.string();
    assert.equal(created.int16(), ErrorCode.NONE);
    const init = await client.request(INIT_PRODUCER_ID, 0, (w) => w.nullableString(null).int32(60000));
    init.int32();
    assert.equal(init.int16(), ErrorCode.NONE);
    const producerId = init.int64();
    const producerEpoch = init.int16();
    const batch = (baseSequence: number, values: string[]) =>
      encodeBatch(values.map((v) => ({ value: Buffer.from(v) })), { producerId, producerEpoch, baseSequence });

    assert.deepEqual(await produceRaw(client, 'payments', batch(0, ['p1', 'p2', 'p3'])), { errorCode: 0, baseOffset: 0 });
    assert.deepEqual(await produceRaw(client, 'payments', batch(0, ['p1', 'p2', 'p3'])), { errorCode: 0, baseOffset: 0 }, 'retry');
    assert.equal(await highWatermark(client, 'payments'), 3);

    const gap = await produceRaw(client, 'payments', batch(5, ['p6']));
    assert.equal(gap.errorCode, ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
    assert.deepEqual(await produceRaw(client, 'payments', batch(3, ['p4', 'p5'])), { errorCode: 0, baseOffset: 3 });

    client.close();
    broker = await broker.restart();
    client = await RawClient.connect(broker.port);
    assert.deepEqual(await produceRaw(client, 'payments', batch(3, ['p4', 'p5'])), { errorCode: 0, baseOffset: 3 }, 'retry after restart');
    assert.equal(await highWatermark(client, 'payments'), 5);
    const stale = encodeBatch([{ value: Buffer.from('old') }], { producerId, producerEpoch: producerEpoch - 1, baseSequence: 0 });
    assert.equal((await produceRaw(client, 'payments', stale)).errorCode, ErrorCode.INVALID_PRODUCER_EPOCH);
  });

  it('kafkajs retries a batch whose answer was lost, and the topic holds each record once', async () => {
    proxy = await startLossyProxy(PRODUCE, 2);
    const behindProxy = await startBroker({ env: { HEARTH_BROKER_ADVERTISED_PORT: String(proxy.port) } });
    try {
      proxy.setTarget(behindProxy.port);
      const kafka = new Kafka({
        clientId: 'retrying', brokers: [`127.0.0.1:${proxy.port}`], logLevel: logLevel.NOTHING,
        retry: { initialRetryTime: 50, retries: 10 },
      });
      const admin = kafka.admin();
      await admin.connect();
      await admin.createTopics({ topics: [{ topic: 'transfers', numPartitions: 1 }] });
      const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
      await producer.connect();
      for (let i = 0; i < 5; i++) {
        await producer.send({ topic: 'transfers', acks: -1, messages: [{ value: `t${i}a` }, { value: `t${i}b` }] });
      }
      assert.equal(proxy.lost, 2, 'two answers were lost and their batches retried');
      const [offsets] = await admin.fetchTopicOffsets('transfers');
      assert.equal(offsets!.high, '10', 'ten records, none stored twice');
      await producer.disconnect();
      await admin.disconnect();
    } finally {
      await behindProxy.dispose();
    }
  });
});
