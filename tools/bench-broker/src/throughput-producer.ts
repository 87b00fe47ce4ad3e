/**
 * One kafkajs producer of the throughput phase, in its own thread: kafkajs spends about a core
 * encoding 50k records/s, so the benchmark runs several to load the broker rather than the client.
 * Sends `records` records of RECORD_BYTES in batches of BATCH (one partition per send,
 * round-robin), acks=-1, `inFlight` sends at a time; posts 'ready', waits for 'go', posts 'done'.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Kafka, logLevel } from 'kafkajs';

export interface ProducerJob {
  brokers: string[];
  topic: string;
  partitions: number;
  records: number;
  batch: number;
  recordBytes: number;
  inFlight: number;
}

async function run(): Promise<void> {
  const job = workerData as ProducerJob;
  const kafka = new Kafka({ clientId: 'bench-producer', brokers: job.brokers, logLevel: logLevel.ERROR });
  const producer = kafka.producer({ maxInFlightRequests: job.inFlight });
  await producer.connect();
  const payload = Buffer.alloc(job.recordBytes, 'x');
  const batches = Array.from({ length: job.partitions }, (_, partition) =>
    Array.from({ length: job.batch }, () => ({ value: payload, partition })),
  );
  await producer.send({ topic: job.topic, acks: -1, messages: batches[0]!.slice(0, 1) }); // warm up the connection
  parentPort!.postMessage('ready');
  await new Promise((resolve) => parentPort!.once('message', resolve));
  let sent = 0;
  let turn = Math.floor(Math.random() * job.partitions);
  await Promise.all(
    Array.from({ length: job.inFlight }, async () => {
      while (sent < job.records) {
        sent += job.batch;
        await producer.send({ topic: job.topic, acks: -1, messages: batches[turn++ % job.partitions]! });
      }
    }),
  );
  parentPort!.postMessage({ done: sent });
  await producer.disconnect();
}

void run();
