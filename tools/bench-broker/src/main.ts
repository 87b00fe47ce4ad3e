/**
 * Benchmark of apps/broker with kafkajs, on a fresh data directory (fsync on, the default):
 *   1. produce throughput: 1 KiB records, batches of 100, acks=-1, kafkajs producers in their own
 *      threads, several sends in flight each, and the broker alone over the raw protocol;
 *   2. consume throughput: one consumer reading everything back;
 *   3. produce-to-consume latency (p50/p99) at a fixed rate, and whether the consumer keeps up.
 *
 * npm run bench -w @hearth/bench-broker [-- --records 200000 --rate 5000 --seconds 10 --in-flight 8 --producers 2 --partitions 4 --fsync always]
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { Kafka, logLevel, type Consumer } from 'kafkajs';
import { startBroker } from '@hearth/testing';
import { rawProduceThroughput } from './raw-producer';
import type { ProducerJob } from './throughput-producer';

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';
const RECORD_BYTES = 1024;
const BATCH = 100;

const { values: args } = parseArgs({
  options: {
    records: { type: 'string', default: '200000' },
    rate: { type: 'string', default: '5000' },
    seconds: { type: 'string', default: '10' },
    'in-flight': { type: 'string', default: '8' },
    producers: { type: 'string', default: '2' },
    partitions: { type: 'string', default: '4' },
    fsync: { type: 'string', default: 'always' },
  },
});
const RECORDS = Number(args.records);
const RATE = Number(args.rate);
const SECONDS = Number(args.seconds);
const IN_FLIGHT = Number(args['in-flight']);
const PRODUCERS = Number(args.producers);
const PARTITIONS = Number(args.partitions);
const FSYNC = args.fsync === 'never' ? 'never' : 'always';

const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

async function drain(consumer: Consumer, topic: string, expected: number): Promise<void> {
  await consumer.subscribe({ topic, fromBeginning: true });
  let seen = 0;
  await new Promise<void>((resolve) => {
    void consumer.run({
      eachBatch: async ({ batch }) => {
        seen += batch.messages.length;
        if (seen >= expected) resolve();
      },
    });
  });
}

async function main(): Promise<void> {
  const broker = await startBroker({ env: { HEARTH_BROKER_DEFAULT_PARTITIONS: String(PARTITIONS), HEARTH_BROKER_FSYNC: FSYNC } });
  const kafka = new Kafka({ clientId: 'bench', brokers: broker.brokers, logLevel: logLevel.ERROR });
  try {
    console.log(`broker on ${broker.brokers[0]} (fsync=${FSYNC}), ${PARTITIONS} partitions, data in ${broker.dataDir}`);
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'bench-throughput', numPartitions: PARTITIONS }, { topic: 'bench-latency', numPartitions: PARTITIONS }] });
    await admin.disconnect();

    // 1. Produce throughput with kafkajs, PRODUCERS producers in their own threads.
    const workers = Array.from({ length: PRODUCERS }, () => new Worker(path.join(__dirname, 'throughput-producer.js'), {
      workerData: {
        brokers: broker.brokers, topic: 'bench-throughput', partitions: PARTITIONS, records: Math.ceil(RECORDS / PRODUCERS),
        batch: BATCH, recordBytes: RECORD_BYTES, inFlight: IN_FLIGHT,
      } satisfies ProducerJob,
    }));
    // One listener per worker for its whole life: a Worker drops messages while it has none.
    const ready: Promise<void>[] = [];
    const done: Promise<number>[] = [];
    for (const w of workers) {
      let onReady!: () => void;
      let onDone!: (records: number) => void;
      ready.push(new Promise<void>((resolve) => (onReady = resolve)));
      done.push(new Promise<number>((resolve, reject) => {
        onDone = resolve;
        w.on('error', reject);
      }));
      w.on('message', (m: 'ready' | { done: number }) => (m === 'ready' ? onReady() : onDone(m.done)));
    }
    await Promise.all(ready);
    const started = process.hrtime.bigint();
    for (const w of workers) w.postMessage('go');
    const sent = (await Promise.all(done)).reduce((a, b) => a + b, 0) + PRODUCERS; // + the warm-up records
    const produceSeconds = Number(process.hrtime.bigint() - started) / 1e9;
    await Promise.all(workers.map((w) => w.terminate()));
    console.log(
      `produce (kafkajs, ${PRODUCERS} producers, ${IN_FLIGHT} sends in flight each): ${fmt(sent)} records of ${RECORD_BYTES} B ` +
        `in batches of ${BATCH}, acks=-1: ${fmt(sent / produceSeconds)} records/s, ${fmt((sent * RECORD_BYTES) / produceSeconds / 1e6, 1)} MB/s`,
    );

    // 1b. The broker alone: the same stored batch re-sent over a raw connection, many requests in flight,
    // so client-side encoding (kafkajs needs about one core for 50k records/s) is out of the figure.
    const raw = await rawProduceThroughput(broker.port, 'bench-throughput', PARTITIONS, RECORDS, IN_FLIGHT * 2, BATCH);
    console.log(
      `produce (raw protocol, pre-encoded batches of ${BATCH}, acks=-1, ${IN_FLIGHT * 2} in flight): ` +
        `${fmt(raw.records / raw.seconds)} records/s, ${fmt((raw.records * RECORD_BYTES) / raw.seconds / 1e6, 1)} MB/s`,
    );
    const consumed = sent + raw.records;

    // 2. Consume throughput.
    const reader = kafka.consumer({ groupId: 'bench-reader', maxBytes: 50 * 1024 * 1024, maxBytesPerPartition: 10 * 1024 * 1024 });
    await reader.connect();
    const readStart = process.hrtime.bigint();
    await drain(reader, 'bench-throughput', consumed);
    const consumeSeconds = Number(process.hrtime.bigint() - readStart) / 1e9;
    await reader.disconnect();
    console.log(
      `consume (kafkajs, one consumer): ${fmt(consumed)} records in ${fmt(consumeSeconds, 2)} s: ` +
        `${fmt(consumed / consumeSeconds)} records/s, ${fmt((consumed * RECORD_BYTES) / consumeSeconds / 1e6, 1)} MB/s`,
    );

    // 3. Latency at a fixed rate, the consumer in its own thread.
    const producer = kafka.producer();
    await producer.connect();
    const total = RATE * SECONDS;
    const worker = new Worker(path.join(__dirname, 'latency-consumer.js'), {
      workerData: { brokers: broker.brokers, topic: 'bench-latency', total },
    });
    let latencies: number[] = [];
    const finished = new Promise<void>((resolve, reject) => {
      worker.on('error', reject);
      worker.on('message', (m: { ready?: boolean; latencies?: number[] }) => {
        if (m.latencies) {
          latencies = m.latencies;
          resolve();
        }
      });
    });
    await new Promise<void>((resolve) => worker.once('message', () => resolve())); // joined its group
    await new Promise((r) => setTimeout(r, 500)); // and parked in its first fetch
    const tickMs = 10;
    const perTick = Math.max(1, Math.round((RATE * tickMs) / 1000));
    let produced = 0;
    const t0 = Date.now();
    while (produced < total) {
      const due = Math.min(total, Math.floor(((Date.now() - t0) / 1000) * RATE) + perTick);
      if (due > produced) {
        const batch = Array.from({ length: due - produced }, () => {
          const value = Buffer.alloc(RECORD_BYTES);
          value.writeBigInt64BE(process.hrtime.bigint() / 1000n, 0);
          return { value };
        });
        produced = due;
        void producer.send({ topic: 'bench-latency', acks: -1, messages: batch });
      }
      await new Promise((r) => setTimeout(r, tickMs));
    }
    const lastSent = Date.now();
    await finished;
    const drainMs = Date.now() - lastSent;
    await worker.terminate();
    const sorted = [...latencies].sort((a, b) => a - b);
    console.log(
      `latency at ${fmt(RATE)} records/s for ${SECONDS} s (${fmt(sorted.length)} records, acks=-1): ` +
        `p50 ${fmt(percentile(sorted, 50), 2)} ms, p99 ${fmt(percentile(sorted, 99), 2)} ms, max ${fmt(sorted[sorted.length - 1]!, 2)} ms; ` +
        `the consumer had everything ${fmt(drainMs)} ms after the last send`,
    );
    await producer.disconnect();
  } finally {
    await broker.dispose();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
