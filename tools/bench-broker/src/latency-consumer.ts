/**
 * The latency phase's consumer, in its own thread (own event loop) as a consuming service would
 * be its own process: reads `total` records, each stamped with the monotonic clock (µs) when it
 * was handed to the producer, and posts back the produce-to-consume latencies in ms.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Kafka, logLevel } from 'kafkajs';

interface Job {
  brokers: string[];
  topic: string;
  total: number;
}

async function run(): Promise<void> {
  const { brokers, topic, total } = workerData as Job;
  const kafka = new Kafka({ clientId: 'bench-latency', brokers, logLevel: logLevel.ERROR });
  const consumer = kafka.consumer({ groupId: 'bench-live', maxWaitTimeInMs: 500 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  consumer.on(consumer.events.GROUP_JOIN, () => parentPort!.postMessage({ ready: true }));
  const latencies: number[] = [];
  await new Promise<void>((resolve) => {
    void consumer.run({
      autoCommitInterval: 1000, // commit once a second, as a service would, not after every batch
      eachBatch: async ({ batch }) => {
        const now = process.hrtime.bigint() / 1000n;
        for (const m of batch.messages) latencies.push(Number(now - m.value!.readBigInt64BE(0)) / 1000);
        if (latencies.length >= total) resolve();
      },
    });
  });
  await consumer.disconnect();
  parentPort!.postMessage({ latencies });
}

void run();
