/**
 * Benchmark of apps/pubsub, spawned with a real broker (apps/broker) and embedded PostgreSQL:
 *   1. publish-to-notification latency (p50/p99): one node with 1,000 subscribers; each publish
 *      is timed from the gRPC Publish call until a kafkajs consumer of hearth.pubsub (where the
 *      gateway and push read notifications) has the PubsubItemPublished with its 1,000 recipients;
 *   2. throughput: publishes/s (acknowledged, i.e. appended and applied) spread over 10,000 nodes,
 *      with a number of calls in flight, as many gateways would send them.
 *
 * npm run bench -w @hearth/bench-pubsub [-- --subscribers 1000 --samples 200 --nodes 10000 --publishes 20000 --in-flight 64]
 */
import { parseArgs } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { Kafka, logLevel } from 'kafkajs';
import { decodeEvent, protoPath, PubsubItemPublished, topics } from '@hearth/contracts';
import { startBroker, startPostgres, startService } from '@hearth/testing';

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';
const SERVICE = 'pubsub.localhost';
const OWNER = 'owner@localhost/bench';
const PAYLOAD = `<joined xmlns='urn:example:meal' who='someone@localhost'/>`;

const { values: args } = parseArgs({
  options: {
    subscribers: { type: 'string', default: '1000' },
    samples: { type: 'string', default: '200' },
    nodes: { type: 'string', default: '10000' },
    publishes: { type: 'string', default: '20000' },
    'in-flight': { type: 'string', default: '64' },
    partitions: { type: 'string', default: '4' },
  },
});
const SUBSCRIBERS = Number(args.subscribers);
const SAMPLES = Number(args.samples);
const NODES = Number(args.nodes);
const PUBLISHES = Number(args.publishes);
const IN_FLIGHT = Number(args['in-flight']);

type Message = Record<string, unknown>;
type Call = (request: Message, options: grpc.CallOptions, callback: (error: Error | null, response: Message) => void) => void;

function pubsubClient(port: number) {
  const definition = protoLoader.loadSync(protoPath('pubsub'), { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true });
  const { hearth } = grpc.loadPackageDefinition(definition) as unknown as { hearth: { pubsub: { Pubsub: grpc.ServiceClientConstructor } } };
  const client = new hearth.pubsub.Pubsub(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  return {
    async ok(method: string, request: Message): Promise<Message> {
      const call = (client as unknown as Record<string, Call>)[method]!.bind(client);
      const response = await new Promise<Message>((resolve, reject) =>
        call({ service: SERVICE, actor: OWNER, ...request }, { deadline: Date.now() + 60_000 }, (e, r) => (e ? reject(e) : resolve(r))));
      if (response.outcome !== 'ok') throw new Error(`${method} refused: ${JSON.stringify(response.error)}`);
      return response.ok as Message;
    },
    close: () => client.close(),
  };
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;

/** Runs `total` jobs with at most `inFlight` at once. */
async function pool(total: number, inFlight: number, job: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(inFlight, total) }, async () => {
    while (next < total) await job(next++);
  }));
}

async function main(): Promise<void> {
  const [broker, postgres] = await Promise.all([startBroker({ env: { HEARTH_BROKER_DEFAULT_PARTITIONS: args.partitions } }), startPostgres()]);
  const service = await startService({ app: 'pubsub', env: {
    DATABASE_URL: await postgres.freshDatabase('bench_pubsub'), HEARTH_KAFKA_BROKERS: broker.brokers.join(','), LOG_LEVEL: 'info',
    HEARTH_PUBSUB_AUTO_SUBSCRIBE_CREATOR: 'false', HEARTH_PUBSUB_MAX_ITEMS: '10',
  } });
  const pubsub = pubsubClient(service.grpcPort);
  const kafka = new Kafka({ clientId: 'bench-pubsub', brokers: broker.brokers, logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: 'bench-pubsub-notifications', maxWaitTimeInMs: 100 });
  try {
    console.log(`pubsub benchmark: ${SUBSCRIBERS} subscribers / ${SAMPLES} timed publishes; ${PUBLISHES} publishes over ${NODES} nodes, ${IN_FLIGHT} in flight`);

    // 1. Latency with 1,000 subscribers on one node.
    const node = '/bench/fan-out';
    await pubsub.ok('CreateNode', { node });
    const SUBSCRIBE_BATCH = 250;
    for (let start = 0; start < SUBSCRIBERS; start += SUBSCRIBE_BATCH) {
      const subscriptions = Array.from({ length: Math.min(SUBSCRIBE_BATCH, SUBSCRIBERS - start) },
        (_, i) => ({ jid: `user${start + i}@localhost`, subscription: 'subscribed' }));
      await pubsub.ok('SetSubscriptions', { node, subscriptions });
    }
    const arrived = new Map<string, { at: number; recipients: number }>();
    const waiting = new Map<string, () => void>();
    await consumer.connect();
    await consumer.subscribe({ topic: topics.pubsub, fromBeginning: false });
    let joined = false;
    consumer.on(consumer.events.GROUP_JOIN, () => (joined = true));
    await consumer.run({
      eachMessage: async ({ message }) => {
        const event = decodeEvent(message.value);
        if (event.type !== PubsubItemPublished.type) return;
        const payload = event.payload as { itemId: string; recipients: unknown[] };
        arrived.set(payload.itemId, { at: performance.now(), recipients: payload.recipients.length });
        waiting.get(payload.itemId)?.();
      },
    });
    while (!joined) await new Promise((resolve) => setTimeout(resolve, 50));
    // Warm-up publishes (connections, JIT) until the consumer sees them.
    for (let i = 0; i < 5; i++) {
      const itemId = `warm-${i}`;
      const seen = new Promise<void>((resolve) => waiting.set(itemId, resolve));
      await pubsub.ok('Publish', { node, item_id: itemId, payload: PAYLOAD });
      await seen;
    }
    const notification: number[] = [];
    const ack: number[] = [];
    for (let i = 0; i < SAMPLES; i++) {
      const itemId = `timed-${i}`;
      const seen = new Promise<void>((resolve) => waiting.set(itemId, resolve));
      const started = performance.now();
      await pubsub.ok('Publish', { node, item_id: itemId, payload: PAYLOAD });
      ack.push(performance.now() - started);
      await seen;
      const got = arrived.get(itemId)!;
      if (got.recipients !== SUBSCRIBERS) throw new Error(`expected ${SUBSCRIBERS} recipients, got ${got.recipients}`);
      notification.push(got.at - started);
    }
    notification.sort((a, b) => a - b);
    ack.sort((a, b) => a - b);
    console.log(`publish → notification on hearth.pubsub, ${SUBSCRIBERS} subscribers: p50 ${percentile(notification, 50).toFixed(1)} ms, p99 ${percentile(notification, 99).toFixed(1)} ms (n=${SAMPLES})`);
    console.log(`publish acknowledged (appended + applied):      p50 ${percentile(ack, 50).toFixed(1)} ms, p99 ${percentile(ack, 99).toFixed(1)} ms`);
    await consumer.stop();

    // 2. Throughput over many nodes.
    let created = performance.now();
    await pool(NODES, IN_FLIGHT, async (i) => void (await pubsub.ok('CreateNode', { node: `/bench/node/${i}` })));
    created = performance.now() - created;
    console.log(`created ${NODES} nodes in ${(created / 1000).toFixed(1)} s (${Math.round(NODES / (created / 1000))} creates/s)`);
    const started = performance.now();
    await pool(PUBLISHES, IN_FLIGHT, async (i) => void (await pubsub.ok('Publish', { node: `/bench/node/${(i * 7919) % NODES}`, payload: PAYLOAD })));
    const seconds = (performance.now() - started) / 1000;
    console.log(`publishes across ${NODES} nodes: ${Math.round(PUBLISHES / seconds)} publishes/s (${PUBLISHES} in ${seconds.toFixed(1)} s, ${IN_FLIGHT} in flight)`);
  } finally {
    await consumer.disconnect().catch(() => undefined);
    pubsub.close();
    await service.stop();
    await Promise.all([broker.dispose(), postgres.stop()]);
  }
}

void main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
