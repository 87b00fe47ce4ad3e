import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { Client } from 'pg';
import type { Consumer } from 'kafkajs';
import { decodeEvent, protoPath, topics, type Envelope } from '@hearth/contracts';
import { createKafka } from '@hearth/kafka';
import { createLogger } from '@hearth/runtime';
import { startBroker, startPostgres, startService, type RunningBroker, type RunningService, type TestPostgres } from '@hearth/testing';

/**
 * A pubsub service on a real broker and PostgreSQL, driven over its gRPC API the way the
 * gateway's pubsub module will, with a kafkajs reader of hearth.pubsub (what the gateway and push
 * consume for notifications).
 */

export const SERVICE = 'pubsub.localhost';
const CALL_TIMEOUT_MS = 15_000;
const logger = createLogger('pubsub-test', 'silent');

export type Form = Record<string, string>;
export interface WireError { condition: string; type: string; pubsub_condition: string; feature: string; text: string }
type Message = Record<string, unknown>;

const definition = protoLoader.loadSync(protoPath('pubsub'), { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true });
const { hearth } = grpc.loadPackageDefinition(definition) as unknown as { hearth: { pubsub: { Pubsub: grpc.ServiceClientConstructor } } };

/** A data form as the wire carries it. */
export const form = (fields: Form) => Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, { values: [v] }]));

export class PubsubClient {
  private readonly client: grpc.Client;
  constructor(port: number) {
    this.client = new hearth.pubsub.Pubsub(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  }

  call(method: string, request: Message): Promise<Message> {
    const fn = (this.client as unknown as Record<string, (r: Message, o: grpc.CallOptions, cb: (e: Error | null, r: Message) => void) => void>)[method]!;
    return new Promise((resolve, reject) =>
      fn.call(this.client, { service: SERVICE, ...request }, { deadline: Date.now() + CALL_TIMEOUT_MS }, (error, response) => (error ? reject(error) : resolve(response))));
  }

  /** The call's `ok` result; fails the test with the refusal otherwise. */
  async ok<T = Message>(method: string, request: Message): Promise<T> {
    const response = await this.call(method, request);
    assert.equal(response.outcome, 'ok', `${method} refused: ${JSON.stringify(response.error)}`);
    return response.ok as T;
  }

  /** The call's refusal; fails the test if it succeeded. */
  async refused(method: string, request: Message): Promise<WireError> {
    const response = await this.call(method, request);
    assert.equal(response.outcome, 'error', `${method} should have been refused, got ${JSON.stringify(response.ok)}`);
    return response.error as WireError;
  }

  close(): void {
    this.client.close();
  }
}

/** Every event on hearth.pubsub, in log order per partition, read by an independent kafkajs consumer. */
export class PubsubTopicReader {
  readonly events: Envelope[] = [];
  private constructor(private readonly consumer: Consumer) {}

  static async start(brokers: string[]): Promise<PubsubTopicReader> {
    const consumer = createKafka({ brokers, clientId: 'pubsub-test-reader', logger }).consumer({ groupId: `pubsub-test-reader-${process.pid}-${Date.now()}` });
    await consumer.connect();
    await consumer.subscribe({ topic: topics.pubsub, fromBeginning: true });
    const reader = new PubsubTopicReader(consumer);
    await consumer.run({ eachMessage: async ({ message }) => void reader.events.push(decodeEvent(message.value)) });
    return reader;
  }

  /** Resolves with the first event (already read or to come) that matches. */
  async waitFor<P>(what: string, match: (event: Envelope) => event is Envelope<string, P>, timeoutMs = 15_000): Promise<Envelope<string, P>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.events.find(match);
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`no ${what} on ${topics.pubsub} within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  stop(): Promise<void> {
    return this.consumer.disconnect();
  }
}

export interface PubsubStack {
  broker: RunningBroker;
  postgres: TestPostgres;
  service: RunningService;
  databaseUrl: string;
  pubsub: PubsubClient;
  reader: PubsubTopicReader;
  /** Another pubsub service instance on a fresh database (same broker), e.g. for a rebuild. */
  startAnother(env?: Record<string, string>): Promise<{ service: RunningService; databaseUrl: string }>;
  dispose(): Promise<void>;
}

export async function startPubsubStack(env: Record<string, string> = {}): Promise<PubsubStack> {
  const [broker, postgres] = await Promise.all([startBroker({ env: { HEARTH_BROKER_DEFAULT_PARTITIONS: '3' } }), startPostgres()]);
  const started: RunningService[] = [];
  const cleanup: (() => Promise<unknown>)[] = [];
  const startAnother = async (extra: Record<string, string> = {}) => {
    const databaseUrl = await postgres.freshDatabase('pubsub');
    const service = await startService({ app: 'pubsub', env: {
      DATABASE_URL: databaseUrl, HEARTH_KAFKA_BROKERS: broker.brokers.join(','), HEARTH_DOMAINS: 'localhost', LOG_LEVEL: 'info', ...env, ...extra,
    } });
    started.push(service);
    return { service, databaseUrl };
  };
  try {
    const { service, databaseUrl } = await startAnother();
    const pubsub = new PubsubClient(service.grpcPort);
    cleanup.push(async () => pubsub.close());
    const reader = await PubsubTopicReader.start(broker.brokers);
    cleanup.push(() => reader.stop());
    return {
      broker, postgres, service, databaseUrl, pubsub, reader, startAnother,
      async dispose() {
        for (const step of cleanup.reverse()) await step().catch(() => undefined);
        for (const s of started) await s.stop();
        await Promise.all([broker.dispose(), postgres.stop()]);
      },
    };
  } catch (error) {
    for (const s of started) await s.kill();
    await Promise.all([broker.dispose(), postgres.stop()]);
    throw error;
  }
}

/** The projection's tables, row for row in a stable order (for rebuild comparisons). */
export async function dumpProjection(databaseUrl: string): Promise<Record<string, unknown[]>> {
  const db = new Client({ connectionString: databaseUrl });
  await db.connect();
  try {
    const tables: Record<string, string> = {
      pubsub_nodes: 'service, node',
      pubsub_affiliations: 'service, node, jid',
      pubsub_subscriptions: 'service, node, subid',
      pubsub_items: 'service, node, item_id',
    };
    const dump: Record<string, unknown[]> = {};
    for (const [table, order] of Object.entries(tables)) dump[table] = (await db.query(`SELECT * FROM ${table} ORDER BY ${order}`)).rows;
    return dump;
  } finally {
    await db.end();
  }
}
