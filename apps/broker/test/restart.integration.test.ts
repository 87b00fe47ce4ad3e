/**
 * Broker restarts: graceful (SIGTERM) and crash (kill -9, plus a torn write at the end of a
 * segment). Every acknowledged record and every committed offset must survive.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { startBroker, type RunningBroker } from '@hearth/testing';
import { ErrorCode } from '../src/protocol/error-codes';
import { RawClient } from './support/raw-client';
import { readAll } from './support/read-all';

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';

/** OffsetCommit v2 outside any group membership (generation -1), as admin tools commit. */
async function commitOffsets(broker: RunningBroker, groupId: string, topic: string, offsets: Record<number, number>): Promise<void> {
  const raw = await RawClient.connect(broker.port);
  try {
    const answer = await raw.request(8, 2, (w) =>
      w.string(groupId).int32(-1).string('').int64(-1)
        .array([topic], (w, t) => w.string(t).array(Object.entries(offsets), (w, [p, o]) => w.int32(Number(p)).int64(o).nullableString(null))),
    );
    answer.int32();
    answer.string();
    for (const p of answer.array((r) => (r.int32(), r.int16()))) assert.equal(p, ErrorCode.NONE);
  } finally {
    raw.close();
  }
}

function client(broker: RunningBroker): Kafka {
  return new Kafka({ brokers: broker.brokers, logLevel: logLevel.NOTHING, retry: { retries: 3, initialRetryTime: 100 } });
}

describe('broker restart', () => {
  let broker: RunningBroker;

  before(async () => {
    broker = await startBroker();
  });
  after(async () => {
    await broker?.dispose();
  });

  it('keeps every record and committed offset across a graceful restart', async () => {
    let kafka = client(broker);
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'rooms', numPartitions: 3 }] });
    const producer = kafka.producer();
    await producer.connect();
    const sent = Array.from({ length: 500 }, (_, i) => `msg-${i}`);
    for (let i = 0; i < sent.length; i += 100) {
      await producer.send({ topic: 'rooms', acks: -1, messages: sent.slice(i, i + 100).map((value) => ({ key: value, value })) });
    }
    await commitOffsets(broker, 'room-projection', 'rooms', { 0: 7, 2: 11 });
    await producer.disconnect();
    await admin.disconnect();

    broker = await broker.restart();
    kafka = client(broker);
    const records = await readAll(kafka, 'rooms');
    assert.deepEqual(records.map((r) => r.value).sort(), [...sent].sort());
    const again = kafka.admin();
    await again.connect();
    const [offsets] = await again.fetchOffsets({ groupId: 'room-projection', topics: ['rooms'] });
    const byPartition = Object.fromEntries(offsets!.partitions.map((p) => [p.partition, p.offset]));
    assert.deepEqual(byPartition, { 0: '7', 1: '-1', 2: '11' });
    await again.disconnect();
  });

  it('loses no acknowledged record to kill -9 during produce, and truncates a torn tail', async () => {
    let kafka = client(broker);
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'receipts', numPartitions: 2 }] });
    await admin.disconnect();
    const producer = kafka.producer({ retry: { retries: 0 } });
    await producer.connect();

    const acked: string[] = [];
    let next = 0;
    let stopped = false;
    const writer = async () => {
      while (!stopped) {
        const values = Array.from({ length: 20 }, () => `r-${next++}`);
        try {
          await producer.send({ topic: 'receipts', acks: -1, messages: values.map((value) => ({ key: value, value })) });
          acked.push(...values);
        } catch {
          return; // the broker is gone: these were never acknowledged
        }
      }
    };
    const writers = [writer(), writer(), writer(), writer()];
    while (acked.length < 2000) await new Promise((r) => setTimeout(r, 5));
    await commitOffsets(broker, 'receipt-mailer', 'receipts', { 1: 42 });
    await broker.kill();
    stopped = true;
    await Promise.all(writers);
    await producer.disconnect().catch(() => undefined);

    // A write torn by the crash: half a batch header at the end of partition 0's segment.
    const segment = path.join(broker.dataDir, 'topics/receipts/0/00000000000000000000.log');
    const sizeBefore = fs.statSync(segment).size;
    fs.appendFileSync(segment, Buffer.from('00000000000000ff0000004c00000000027f', 'hex'));

    broker = await broker.restart();
    assert.ok(broker.logs().some((l) => l.includes('truncating torn log tail')), 'torn tail reported');
    assert.equal(fs.statSync(segment).size, sizeBefore, 'torn bytes removed');
    kafka = client(broker);
    const stored = await readAll(kafka, 'receipts');
    const storedValues = new Set(stored.map((r) => r.value));
    const missing = acked.filter((v) => !storedValues.has(v));
    assert.deepEqual(missing, [], 'every acknowledged record is there');
    for (const p of [0, 1]) {
      const offsets = stored.filter((r) => r.partition === p).map((r) => r.offset);
      assert.deepEqual(offsets, offsets.map((_, i) => i), `partition ${p} offsets are contiguous`);
    }

    const checker = kafka.admin();
    await checker.connect();
    const [committed] = await checker.fetchOffsets({ groupId: 'receipt-mailer', topics: ['receipts'] });
    assert.equal(committed!.partitions.find((p) => p.partition === 1)!.offset, '42', 'committed offset survives kill -9');
    await checker.disconnect();

    // The log goes on from where it was.
    const after = kafka.producer();
    await after.connect();
    const [result] = await after.send({ topic: 'receipts', acks: -1, messages: [{ key: 'x', value: 'after-crash' }] });
    const end = stored.filter((r) => r.partition === result!.partition).length;
    assert.equal(result!.baseOffset, String(end));
    await after.disconnect();
  });
});
