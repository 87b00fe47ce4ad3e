import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Admin, Consumer, Kafka } from 'kafkajs';
import { decodeEvent, isEvent, topicOf, type Envelope, type EventContract, type EventOf } from '@hearth/contracts';
import { createEventProducer, createKafka, type EventProducer } from '@hearth/kafka';
import type { Logger } from '@hearth/runtime';
import { RecentIds } from './recent-ids';
import { appends, appendSeconds, consumerLag } from '../metrics/gateway-metrics';

/** How often the live-event consumer commits its positions (never per batch: see `start`). */
const LIVE_COMMIT_INTERVAL_MS = 5_000;

/** The log could not take the event in time: the caller answers with a `wait` error (resource-constraint). */
export class LogUnavailableError extends Error {
  constructor(reason: string) {
    super(`the event log is unavailable: ${reason}`);
    this.name = 'LogUnavailableError';
  }
}

export type EventHandler<C> = (event: EventOf<C>) => void | Promise<void>;

/**
 * The gateway's two ends of the log. `append` is how a command becomes a fact (acks = -1, then
 * and only then the caller acknowledges). `on` is how this gateway hears what happened anywhere
 * (a message accepted by another gateway, an unread count that changed, a pubsub notification):
 * every gateway instance reads every subscribed topic with its own consumer group and delivers
 * to the sessions it holds.
 */
export interface EventLog {
  /** This process's identity in session events and consumer group names. */
  readonly instanceId: string;
  /**
   * Appends one event; events appended together are sent in one batch. Resolves once every
   * in-sync replica has it; rejects with LogUnavailableError when that does not happen in time.
   */
  append(event: Envelope): Promise<void>;
  /** Registers a handler for live events of one type; call during module setup, before `start`. */
  on<T extends string, P>(contract: EventContract<T, P>, handler: EventHandler<EventContract<T, P>>): void;
}

export interface LogOptions {
  brokers: string[];
  instanceId: string;
  /** How long appends wait to be grouped into one batch (kafkajs does no batching of its own). */
  lingerMs: number;
  maxBatch: number;
  appendTimeoutMs: number;
  /**
   * Producers sending in parallel, each with one batch in flight. An event's key picks its lane,
   * so the events of one chat keep their order while other chats' batches proceed beside them.
   */
  lanes: number;
  logger: Logger;
}

export function defaultInstanceId(): string {
  return `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
}

interface PendingAppend {
  event: Envelope;
  resolve(): void;
  reject(error: Error): void;
}

/** Event ids remembered to hand each live event to the handlers once: well over a minute of traffic. */
const RECENT_EVENT_IDS = 200_000;

/** Handlers by event type, shared by both implementations. */
class Handlers {
  private readonly byType = new Map<string, { contract: EventContract<string, unknown>; handlers: EventHandler<never>[] }>();
  /**
   * The log delivers at least once (a consumer that rejoins re-reads a little; a message whose
   * append was not confirmed is appended again with the same event id): handlers see an id once.
   */
  private readonly seen = new RecentIds(RECENT_EVENT_IDS);

  add<T extends string, P>(contract: EventContract<T, P>, handler: EventHandler<EventContract<T, P>>): void {
    const entry = this.byType.get(contract.type) ?? { contract: contract as EventContract<string, unknown>, handlers: [] };
    entry.handlers.push(handler as EventHandler<never>);
    this.byType.set(contract.type, entry);
  }

  topics(): string[] {
    return [...new Set([...this.byType.values()].map(({ contract }) => topicOf(contract)))];
  }

  async dispatch(event: Envelope, logger: Logger): Promise<void> {
    const entry = this.byType.get(event.type);
    if (!entry || !isEvent(event, entry.contract) || !this.seen.firstTime(event.id)) return;
    for (const handler of entry.handlers) {
      try {
        await (handler as EventHandler<EventContract<string, unknown>>)(event as EventOf<EventContract<string, unknown>>);
      } catch (error) {
        // A delivery that fails for one session must not stop delivery to everyone else.
        logger.error({ err: error, type: event.type, id: event.id }, 'live event handler failed');
      }
    }
  }
}

/** The log on a Kafka cluster (or apps/broker). */
export class KafkaEventLog implements EventLog {
  readonly instanceId: string;
  private readonly kafka: Kafka;
  private readonly handlers = new Handlers();
  private lanes: AppendLane[] = [];
  private consumer: Consumer | null = null;
  private admin: Admin | null = null;
  /** The live consumer's next offsets not committed yet, by topic/partition. */
  private readonly positions = new Map<string, { topic: string; partition: number; offset: string }>();
  private commitTimer: NodeJS.Timeout | null = null;
  /** The live-event consumer is in its group (or there is none to join); readiness. */
  private joined = false;

  constructor(private readonly options: LogOptions) {
    this.instanceId = options.instanceId;
    this.kafka = createKafka({ brokers: options.brokers, clientId: `hearth-gateway-${options.instanceId}`, logger: options.logger });
  }

  on<T extends string, P>(contract: EventContract<T, P>, handler: EventHandler<EventContract<T, P>>): void {
    if (this.consumer) throw new Error('register live event handlers before the log starts');
    this.handlers.add(contract, handler);
  }

  /**
   * Connects the producer and, when modules asked for live events, joins a consumer group of
   * this instance alone, starting at the end of each topic. Resolves once the group is joined, so
   * nothing appended after start-up is missed.
   */
  async start(): Promise<void> {
    for (let i = 0; i < this.options.lanes; i++) this.lanes.push(new AppendLane(await createEventProducer(this.kafka), this.options));
    this.admin = this.kafka.admin();
    await this.admin.connect();
    const topics = this.handlers.topics();
    if (topics.length === 0) {
      this.joined = true;
      return;
    }
    const consumer = this.kafka.consumer({ groupId: `hearth-gateway-${this.instanceId}`, allowAutoTopicCreation: true, maxWaitTimeInMs: 100 });
    this.consumer = consumer;
    await consumer.connect();
    const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => {
      this.joined = true;
      resolve();
    }));
    consumer.on(consumer.events.CRASH, () => { this.joined = false; });
    consumer.on(consumer.events.STOP, () => { this.joined = false; });
    consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
      consumerLag.set({ topic: payload.topic, partition: String(payload.partition) }, Number(payload.offsetLag));
      this.positions.set(`${payload.topic}/${payload.partition}`, { topic: payload.topic, partition: payload.partition, offset: String(BigInt(payload.lastOffset) + 1n) });
    });
    // Positions are committed now and then, off the delivery path, only so that a consumer that
    // rejoins (after a broker hiccup) resumes where it was instead of skipping to the end.
    this.commitTimer = setInterval(() => void this.commitPositions(consumer), LIVE_COMMIT_INTERVAL_MS).unref();
    for (const topic of topics) await consumer.subscribe({ topic, fromBeginning: false });
    await consumer.run({
      // No commit per batch (a broker round trip between fetches, on the delivery path): the
      // group starts at the end anyway; positions are committed in the background (see below).
      autoCommit: false,
      eachMessage: async ({ message }) => {
        let event: Envelope;
        try {
          event = decodeEvent(message.value);
        } catch (error) {
          // The projections dead-letter bad records; a gateway only skips them.
          this.options.logger.warn({ err: error }, 'skipping an undecodable event');
          return;
        }
        await this.handlers.dispatch(event, this.options.logger);
      },
    });
    await joined;
  }

  private async commitPositions(consumer: Consumer): Promise<void> {
    if (this.positions.size === 0) return;
    const offsets = [...this.positions.values()];
    this.positions.clear();
    try {
      await consumer.commitOffsets(offsets);
    } catch (error) {
      this.options.logger.debug({ err: error }, 'could not commit live-event positions');
    }
  }

  /** The live-event consumer has joined its group: events appended anywhere reach this gateway's sessions. */
  isJoined(): boolean {
    return this.joined;
  }

  /** The broker answers a metadata request (readiness). */
  async isReachable(): Promise<boolean> {
    if (!this.admin) return false;
    await this.admin.describeCluster();
    return true;
  }

  append(event: Envelope): Promise<void> {
    if (this.lanes.length === 0) return Promise.reject(new LogUnavailableError('not connected'));
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const timer = setTimeout(() => {
        settled = true;
        reject(new LogUnavailableError(`no acknowledgement within ${this.options.appendTimeoutMs} ms`));
      }, this.options.appendTimeoutMs);
      this.lanes[laneOf(event.key, this.lanes.length)]!.add({
        event,
        resolve: () => { clearTimeout(timer); if (!settled) resolve(); },
        reject: (error) => { clearTimeout(timer); if (!settled) reject(error); },
      });
    });
  }

  async stop(): Promise<void> {
    await Promise.all(this.lanes.map((lane) => lane.close()));
    if (this.commitTimer) clearInterval(this.commitTimer);
    await this.consumer?.disconnect();
    await this.admin?.disconnect();
  }
}

/** One producer and its queue: appends arriving within the linger go out as one batch, one batch in flight. */
class AppendLane {
  private pending: PendingAppend[] = [];
  private flushing: Promise<void> | null = null;
  private lingerTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly producer: EventProducer,
    private readonly options: LogOptions,
  ) {}

  add(append: PendingAppend): void {
    this.pending.push(append);
    if (this.pending.length >= this.options.maxBatch) void this.flush();
    else this.lingerTimer ??= setTimeout(() => void this.flush(), this.options.lingerMs);
  }

  private flush(): Promise<void> {
    if (this.lingerTimer) clearTimeout(this.lingerTimer);
    this.lingerTimer = null;
    if (this.flushing || this.pending.length === 0) return this.flushing ?? Promise.resolve();
    this.flushing = this.send(this.pending.splice(0, this.options.maxBatch)).finally(() => {
      this.flushing = null;
      if (this.pending.length > 0) void this.flush();
    });
    return this.flushing;
  }

  private async send(batch: PendingAppend[]): Promise<void> {
    const timer = appendSeconds.startTimer();
    try {
      await this.producer.publish(batch.map((p) => p.event));
      timer({ outcome: 'ok' });
      appends.inc({ outcome: 'ok' }, batch.length);
      for (const p of batch) p.resolve();
    } catch (error) {
      timer({ outcome: 'failed' });
      appends.inc({ outcome: 'failed' }, batch.length);
      this.options.logger.error({ err: error, events: batch.length }, 'append failed');
      const failure = error instanceof Error && error.name === 'ContractViolation' ? error : new LogUnavailableError(String((error as Error).message ?? error));
      for (const p of batch) p.reject(failure);
    }
  }

  async close(): Promise<void> {
    while (this.pending.length > 0 || this.flushing) await this.flush();
    await this.producer.disconnect();
  }
}

/** A stable lane for a key (FNV-1a), so one chat's events always share a producer. */
function laneOf(key: string, lanes: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) hash = Math.imul(hash ^ key.charCodeAt(i), 0x01000193);
  return (hash >>> 0) % lanes;
}

/** No brokers configured (a development gateway on its own): nothing can be appended. */
export class UnconfiguredEventLog implements EventLog {
  readonly instanceId = defaultInstanceId();
  on(): void {}
  append(): Promise<void> {
    return Promise.reject(new LogUnavailableError('HEARTH_KAFKA_BROKERS is not set'));
  }
}
