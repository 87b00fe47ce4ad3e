/**
 * Test harness for the archive: a real broker, a real PostgreSQL, the compiled service spawned
 * with its env, a gRPC client for hearth.archive.Archive, and a producer that appends events as
 * the messaging service and the account service would.
 */
import { randomUUID } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { Kafka, logLevel } from 'kafkajs';
import {
  AccountDeleted, chatKeyOf, createEvent, encodeEvent, MessageAccepted, protoPath, topicOf, type Envelope, type PayloadOf,
} from '@hearth/contracts';
import { startBroker, startPostgres, startService, type RunningBroker, type RunningService, type TestPostgres } from '@hearth/testing';

export const JWT_SECRET = 'test-jwt-secret-0123456789abcdef';
export const ADMIN_TOKEN = 'test-admin-token-0123456789abcdef';

export interface RsmFields { max?: number; has_max?: boolean; after?: string; before?: string; has_before?: boolean; index?: number; has_index?: boolean }
export interface QueryFields {
  requester: string; owner: string; with?: string; start?: string; end?: string; before_id?: string; after_id?: string;
  ids?: string[]; rsm?: RsmFields; flip_page?: boolean;
}
export interface QueryReply {
  messages: { archive_id: string; stanza: string; accepted_at: string }[];
  first: string; last: string; count: string; first_index: string; has_first_index: boolean; complete: boolean;
}
export type GrpcError = Error & { code: number; metadata: grpc.Metadata };

type Unary = (request: object, callback: (error: grpc.ServiceError | null, reply: unknown) => void) => void;

export class ArchiveClient {
  private readonly client: grpc.Client & Record<string, Unary>;

  constructor(port: number) {
    const definition = protoLoader.loadSync(protoPath('archive'), { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true });
    const loaded = grpc.loadPackageDefinition(definition) as unknown as { hearth: { archive: { Archive: grpc.ServiceClientConstructor } } };
    this.client = new loaded.hearth.archive.Archive(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as grpc.Client & Record<string, Unary>;
  }

  call<T>(method: string, request: object): Promise<T> {
    return new Promise((resolve, reject) => this.client[method]!.call(this.client, request, (error, reply) => (error ? reject(error) : resolve(reply as T))));
  }

  query(request: QueryFields): Promise<QueryReply> {
    return this.call('Query', request);
  }

  close(): void {
    this.client.close();
  }
}

let sequence = 0;

/** A MessageAccepted as messaging appends it when `from` sends `to` a chat message. */
export function chatMessage(from: string, to: string, options: { body?: string; acceptedAt?: Date; stanzaId?: string; resource?: string } = {}):
  Envelope<'MessageAccepted', PayloadOf<typeof MessageAccepted>> {
  const n = ++sequence;
  const stanzaId = options.stanzaId ?? `sid-${String(n).padStart(6, '0')}-${randomUUID().slice(0, 8)}`;
  const body = options.body ?? `message ${n}`;
  const chatKey = chatKeyOf(from, to);
  const fromFull = `${from}/${options.resource ?? 'phone'}`;
  return createEvent(MessageAccepted, {
    stanzaId, chatKey, sender: from, senderFullJid: fromFull, recipient: to, to, messageType: 'chat', clientMessageId: `origin-${n}`, body,
    stanza: `<message xmlns='jabber:client' from='${fromFull}' to='${to}' type='chat' id='origin-${n}'><body>${body}</body><stanza-id xmlns='urn:xmpp:sid:0' by='${to}' id='${stanzaId}'/></message>`,
    acceptedAt: (options.acceptedAt ?? new Date()).toISOString(), gateway: 'gw-test',
  }, { key: chatKey, producer: 'test' });
}

export const accountDeleted = (account: string, at = new Date()) =>
  createEvent(AccountDeleted, { account }, { key: account, producer: 'test', occurredAt: at });

export interface ArchiveHarness {
  broker: RunningBroker;
  postgres: TestPostgres;
  databaseUrl: string;
  service: RunningService;
  client: ArchiveClient;
  kafka: Kafka;
  /** Appends events in order (one request per call), acks from all in-sync replicas. */
  produce(events: Envelope[]): Promise<void>;
  /** Polls until `check` holds (bounded), for the projection to catch up. */
  eventually<T>(check: () => Promise<T | undefined | false>, what: string, timeoutMs?: number): Promise<T>;
  close(): Promise<void>;
}

export async function startArchive(env: Record<string, string> = {}): Promise<ArchiveHarness> {
  const cleanups: (() => Promise<unknown>)[] = [];
  const close = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  };
  try {
    const broker = await startBroker();
    cleanups.push(() => broker.dispose());
    const postgres = await startPostgres();
    cleanups.push(() => postgres.stop());
    const databaseUrl = await postgres.freshDatabase('archive');
    const service = await startService({
      app: 'archive',
      env: { DATABASE_URL: databaseUrl, HEARTH_KAFKA_BROKERS: broker.brokers.join(','), HEARTH_JWT_SECRET: JWT_SECRET, HEARTH_ADMIN_TOKEN: ADMIN_TOKEN, ...env },
    });
    cleanups.push(() => service.stop());
    const client = new ArchiveClient(service.grpcPort);
    cleanups.push(async () => client.close());
    const kafka = new Kafka({ clientId: 'archive-test', brokers: broker.brokers, logLevel: logLevel.NOTHING });
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    cleanups.push(() => producer.disconnect());
    return {
      broker, postgres, databaseUrl, service, client, kafka, close,
      async produce(events) {
        const byTopic = new Map<string, { key: string; value: Buffer }[]>();
        for (const event of events) {
          const list = byTopic.get(topicOf(event)) ?? [];
          list.push({ key: event.key, value: encodeEvent(event) });
          byTopic.set(topicOf(event), list);
        }
        await producer.sendBatch({ acks: -1, topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })) });
      },
      async eventually(check, what, timeoutMs = 20_000) {
        const deadline = Date.now() + timeoutMs;
        for (;;) {
          const result = await check();
          if (result !== undefined && result !== false) return result;
          if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      },
    };
  } catch (error) {
    await close();
    throw error;
  }
}

/** The XMPP condition a refused call carries (trailing metadata `hearth-condition`). */
export function conditionOf(error: unknown): string | undefined {
  const value = (error as GrpcError).metadata?.get('hearth-condition')[0];
  return value === undefined ? undefined : String(value);
}
