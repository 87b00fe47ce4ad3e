import { Partitioners, type Batch, type Consumer, type Kafka, type KafkaMessage, type Producer } from 'kafkajs';
import { decodeEvent, topics as topicNames, type Envelope } from '@hearth/contracts';
import type { Logger } from '@hearth/runtime';
import { isTransient } from './errors';
import { checkpoints, type ProjectionDatabase } from './projection-database';
import type { RecordDecoding } from './shared-decoding';

/** An event read from the log, with where it was read from. */
export interface ConsumedEvent {
  event: Envelope;
  topic: string;
  partition: number;
  offset: bigint;
}

export interface ProjectionOptions<Tx> {
  kafka: Kafka;
  /** Consumer group id and checkpoint owner, e.g. `archive`. */
  name: string;
  topics: string[];
  database: ProjectionDatabase<Tx>;
  /**
   * Applies a batch of events inside the transaction that will also record the checkpoint.
   * Must be deterministic, so a rebuild from offset 0 gives the same projection.
   */
  apply(events: ConsumedEvent[], tx: Tx): Promise<void>;
  /** Called after the transaction committed (e.g. to tell live sessions); never re-run on replay. */
  afterCommit?(events: ConsumedEvent[]): Promise<void> | void;
  logger: Logger;
  retry?: Partial<RetryPolicy>;
  /** kafkajs session timeout; tests shorten it. */
  sessionTimeoutMs?: number;
  /** Upper bound of one fetched batch per partition, and of one transaction (default 1 MiB). */
  maxBatchBytes?: number;
  /**
   * Lets events gather for up to this long (default 0): a fetch waits that long for a full batch
   * unless one is there, and transactions start at most that often. A projection that pays per
   * fetch and per transaction trades this much lag for fewer, larger ones under steady traffic.
   */
  lingerMs?: number;
  /** How records are decoded (default: decodeEvent); see sharedDecoding. */
  decoding?: RecordDecoding;
  /**
   * Whether a record that cannot be decoded goes to the dead-letter topic (default true).
   * Projections of one process that read the same records (the archive's shards) let one of them
   * report it, so it is dead-lettered once; the others skip it with a warning.
   */
  deadLetterUndecodable?: boolean;
}

export interface RetryPolicy {
  /** Attempts for an error that is not known to be transient before the record is dead-lettered. */
  attempts: number;
  initialDelayMs: number;
  maxDelayMs: number;
}

export interface RunningProjection {
  /** True once the consumer has joined its group and has partitions assigned (readiness). */
  isJoined(): boolean;
  /** Stops fetching, finishes the batch in hand, commits, leaves the group. */
  stop(): Promise<void>;
}

const DEFAULT_RETRY: RetryPolicy = { attempts: 3, initialDelayMs: 100, maxDelayMs: 5_000 };
/** With a linger, a fetch returns at once when this much is there (see lingerMs). */
const FULL_FETCH_BYTES = 1024 * 1024;

/** A fetched batch (the part not applied yet), decoded, waiting for its transaction. */
interface QueuedBatch {
  batch: Batch;
  messages: KafkaMessage[];
  decoded: ConsumedEvent[];
  rejected: { message: KafkaMessage; reason: string }[];
  nextOffset: bigint;
  bytes: number;
}

/**
 * Runs a projection: consumes its topics and applies each batch in one database transaction
 * together with the checkpoint (next offset per partition). After a restart or a rebalance it
 * resumes from the checkpoint in its own database, not from Kafka's committed offsets (which are
 * committed too, but only as a hint for tooling): a projection dropped for a rebuild starts
 * again at offset 0 even though the group has committed offsets. The seek happens as soon as a
 * partition is assigned, not when it next delivers a batch, so the rebuild of an idle topic starts
 * at once.
 *
 * Group commit: the next batch is fetched and decoded while a transaction runs, and the batches
 * waiting (of any partition, in the order consumed) are applied together by the next transaction,
 * one transaction at a time.
 *
 * Failures: transient ones (database briefly unreachable) are retried with backoff without
 * limit — the partition waits rather than losing events. Anything else (an event that breaks its
 * contract, a bug) is isolated to the one record that causes it, which goes to the dead-letter
 * topic with the reason, and the partition moves on.
 */
export async function runProjection<Tx>(options: ProjectionOptions<Tx>): Promise<RunningProjection> {
  const { kafka, name, database, logger } = options;
  const retry = { ...DEFAULT_RETRY, ...options.retry };
  const maxBatchBytes = options.maxBatchBytes ?? 1024 * 1024;
  const decoding: RecordDecoding = options.decoding ?? { decode: (value) => decodeEvent(value) };
  const consumer: Consumer = kafka.consumer({
    groupId: name,
    sessionTimeout: options.sessionTimeoutMs ?? 30_000,
    heartbeatInterval: Math.min(3_000, Math.floor((options.sessionTimeoutMs ?? 30_000) / 3)),
    allowAutoTopicCreation: true,
    maxBytesPerPartition: maxBatchBytes,
    ...(options.lingerMs ? { minBytes: Math.min(maxBatchBytes, FULL_FETCH_BYTES), maxWaitTimeInMs: options.lingerMs } : {}),
  });
  const deadLetters: Producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
  await Promise.all([consumer.connect(), deadLetters.connect()]);

  let joined = false;
  // Next offset to apply per partition: the checkpoint, loaded from the database (and sought to)
  // when the partition is assigned, then advanced by each committed batch.
  let checkpointLoads = new Map<string, Promise<bigint>>();
  let positions = new Map<string, bigint>();
  const seeked = new Set<string>();
  // Batches waiting for the next transaction, and the loop applying them (while there are any).
  let queue: QueuedBatch[] = [];
  let applying: Promise<void> | null = null;
  let lastStart = 0;
  const seekToCheckpoint = async (topic: string, partition: number): Promise<bigint> => {
    await applying;
    const next = (await withTransientRetry(() => checkpoints.load(database.read, name, topic, partition), retry, logger)) ?? 0n;
    logger.info({ topic, partition, from: next.toString() }, 'partition assigned: resuming from the projection checkpoint');
    // kafkajs drops any fetch response for a partition with a pending seek, so nothing fetched
    // from the group's committed offset is applied after this. If retention removed the offset,
    // the fetch restarts at the earliest one still there (subscribed fromBeginning).
    consumer.seek({ topic, partition, offset: next.toString() });
    return next;
  };
  consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
    joined = true;
    positions = new Map();
    seeked.clear();
    checkpointLoads = new Map();
    for (const [topic, partitions] of Object.entries(payload.memberAssignment)) {
      for (const partition of partitions) {
        const load = seekToCheckpoint(topic, partition);
        // Awaited by the partition's first batch, which fails (and is retried by kafkajs) if this did.
        load.catch((error: unknown) => logger.error({ err: error, topic, partition }, 'could not load the projection checkpoint'));
        checkpointLoads.set(`${topic}:${partition}`, load);
      }
    }
  });
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    joined = false;
    logger.error({ err: payload.error, restart: payload.restart }, 'projection consumer crashed');
  });

  for (const topic of options.topics) await consumer.subscribe({ topic, fromBeginning: true });

  await consumer.run({
    eachBatchAutoResolve: false,
    autoCommit: false,
    eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
      const tp = `${batch.topic}:${batch.partition}`;
      let next = positions.get(tp);
      if (next === undefined) {
        const loads = checkpointLoads;
        let load = loads.get(tp);
        if (load === undefined) loads.set(tp, (load = seekToCheckpoint(batch.topic, batch.partition)));
        try {
          next = await load;
        } catch (error) {
          loads.delete(tp);
          throw error;
        }
        positions.set(tp, next);
        const first = BigInt(batch.firstOffset() ?? batch.highWatermark);
        // A batch fetched from Kafka's group offset before the seek took effect: the group is
        // ahead of our database (the projection was dropped for a rebuild). Skip it and seek
        // again. Only once per assignment: if retention removed those offsets, the fetch
        // restarts at the earliest one still there, and that is where we continue.
        if (first > next && !seeked.has(tp)) {
          seeked.add(tp);
          positions.delete(tp);
          consumer.seek({ topic: batch.topic, partition: batch.partition, offset: next.toString() });
          return;
        }
      }
      const fresh = batch.messages.filter((m) => BigInt(m.offset) >= next!);
      if (fresh.length === 0 || !isRunning() || isStale()) return;
      const newNext = BigInt(fresh[fresh.length - 1]!.offset) + 1n;
      if (decoding.pace) {
        await decoding.pace(batch.topic, batch.partition, next, newNext);
        if (!isRunning() || isStale()) return;
      }
      positions.set(tp, newNext);
      const bytes = fresh.reduce((n, m) => n + (m.value?.length ?? 0), 0);
      queue.push({ batch, messages: fresh, ...decodeBatch(fresh, batch), nextOffset: newNext, bytes });
      applying ??= applyQueued();
      resolveOffset(fresh[fresh.length - 1]!.offset);
      // Fetching runs ahead of the database by the batches waiting here, no further: a consumer
      // fetching freely while transactions run made every event of push and read-state slower.
      if (queue.length > 1) await applying;
      await heartbeat();
    },
  });

  function decodeBatch(messages: KafkaMessage[], batch: Batch): Pick<QueuedBatch, 'decoded' | 'rejected'> {
    const decoded: ConsumedEvent[] = [];
    const rejected: { message: KafkaMessage; reason: string }[] = [];
    for (const message of messages) {
      try {
        const event = decoding.decode(message.value, { topic: batch.topic, partition: batch.partition, offset: message.offset });
        decoded.push({ event, topic: batch.topic, partition: batch.partition, offset: BigInt(message.offset) });
      } catch (error) {
        rejected.push({ message, reason: (error as Error).message });
      }
    }
    return { decoded, rejected };
  }

  /**
   * Applies what is queued, one transaction at a time, until nothing is. `applying` is cleared in
   * the same turn as the queue is found empty, so a batch queued after that starts a new loop.
   */
  async function applyQueued(): Promise<void> {
    await Promise.resolve(); // never done synchronously: the caller's `applying = …` comes first
    try {
      while (queue.length > 0) {
        const wait = lastStart + (options.lingerMs ?? 0) - Date.now();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        lastStart = Date.now();
        let count = 0;
        for (let bytes = 0; count < queue.length && (count === 0 || bytes + queue[count]!.bytes <= maxBatchBytes); count++) bytes += queue[count]!.bytes;
        const taken = queue.splice(0, count);
        try {
          for (const q of taken) for (const { message, reason } of q.rejected) await rejectUndecodable(q.batch, message, reason);
          await applyTogether(taken);
        } catch (error) {
          // Not applied (a dead letter could not be written, or the projection is stopping): forget
          // the positions of these partitions and fetch them again from the last applied offset.
          logger.error({ err: error }, 'batches not applied; fetching them again');
          for (const q of [...taken, ...queue]) {
            const tp = `${q.batch.topic}:${q.batch.partition}`;
            if (!positions.delete(tp)) continue;
            checkpointLoads.delete(tp);
            seeked.delete(tp);
            try {
              consumer.seek({ topic: q.batch.topic, partition: q.batch.partition, offset: q.messages[0]!.offset });
            } catch {
              // Stopping: the next start resumes from the checkpoint anyway.
            }
          }
          queue = [];
          return;
        }
        // Only a hint for tooling (see above): a failure here loses nothing. Not awaited: on the
        // broker connection it waits behind the fetch in flight, which may be waiting for data.
        const hints = new Map(taken.map((q) => [`${q.batch.topic}:${q.batch.partition}`, { topic: q.batch.topic, partition: q.batch.partition, offset: q.nextOffset.toString() }]));
        void consumer.commitOffsets([...hints.values()]).catch(() => undefined);
      }
    } finally {
      applying = null;
    }
  }

  /** One transaction for all the batches; if it fails, each batch on its own, then each event (applyAlone). */
  async function applyTogether(batches: QueuedBatch[]): Promise<void> {
    const events = batches.flatMap((q) => q.decoded);
    // A partition's last batch holds its checkpoint.
    const reached = [...new Map(batches.map((q) => [`${q.batch.topic}:${q.batch.partition}`, { topic: q.batch.topic, partition: q.batch.partition, nextOffset: q.nextOffset }])).values()];
    try {
      await withRetry(() => commit(events, reached), retry, logger);
    } catch (error) {
      if (batches.length === 1) return applyAlone(batches[0]!, error);
      logger.warn({ err: error, batches: batches.length, events: events.length }, 'batches failed together; applying them one at a time');
      for (const q of batches) await applyTogether([q]);
      return;
    }
    await notifyCommitted(events);
  }

  function applyAlone(q: QueuedBatch, error: unknown): Promise<void> {
    logger.warn({ err: error, topic: q.batch.topic, partition: q.batch.partition, events: q.decoded.length },
      'batch failed; applying its events one by one to isolate the cause');
    return applyOneByOne(q.decoded, q.messages, q.batch);
  }

  /** One by one: the record that fails again goes to the dead-letter topic, the rest apply. */
  async function applyOneByOne(decoded: ConsumedEvent[], messages: KafkaMessage[], batch: Batch): Promise<void> {
    for (const consumed of decoded) {
      const after = consumed.offset + 1n;
      try {
        await withRetry(() => commit([consumed], [{ topic: batch.topic, partition: batch.partition, nextOffset: after }]), retry, logger);
      } catch (error) {
        const message = messages.find((m) => BigInt(m.offset) === consumed.offset)!;
        await deadLetter(batch, message, `${name} could not apply ${consumed.event.type}: ${(error as Error).message}`);
        await withTransientRetry(() => commit([], [{ topic: batch.topic, partition: batch.partition, nextOffset: after }]), retry, logger);
        continue;
      }
      await notifyCommitted([consumed]);
    }
  }

  /**
   * afterCommit's side effects (telling live sessions) come after the commit and are not part of
   * it: when they fail, the events stay applied and are not re-applied or dead-lettered, which
   * would duplicate or lose what the transaction already recorded. Logged, and the stream moves on.
   */
  async function notifyCommitted(events: ConsumedEvent[]): Promise<void> {
    if (events.length === 0 || !options.afterCommit) return;
    try {
      await options.afterCommit(events);
    } catch (error) {
      const first = events[0]!;
      logger.error({ err: error, topic: first.topic, partition: first.partition, fromOffset: first.offset.toString(), events: events.length },
        'afterCommit failed; the batch stays committed and is not applied again');
    }
  }

  /** Applies the events and moves the checkpoints in one transaction. */
  function commit(events: ConsumedEvent[], reached: { topic: string; partition: number; nextOffset: bigint }[]): Promise<void> {
    return database.transaction(async (tx) => {
      if (events.length > 0) await options.apply(events, tx);
      for (const { topic, partition, nextOffset } of reached) await checkpoints.save(database.sql(tx), name, topic, partition, nextOffset);
    });
  }

  async function rejectUndecodable(batch: Batch, message: KafkaMessage, reason: string): Promise<void> {
    if (options.deadLetterUndecodable ?? true) return deadLetter(batch, message, reason);
    logger.warn({ topic: batch.topic, partition: batch.partition, offset: message.offset, reason }, 'undecodable event skipped: another consumer in this process dead-letters it');
  }

  async function deadLetter(batch: Batch, message: KafkaMessage, reason: string): Promise<void> {
    logger.error({ topic: batch.topic, partition: batch.partition, offset: message.offset, reason }, 'event sent to the dead-letter topic');
    await withTransientRetry(() => deadLetters.send({
      topic: topicNames.deadLetter,
      acks: -1,
      messages: [{
        key: `${batch.topic}/${batch.partition}/${message.offset}`,
        value: message.value,
        headers: {
          'hearth-dlq-consumer': name,
          'hearth-dlq-reason': reason.slice(0, 1000),
          'hearth-dlq-topic': batch.topic,
          'hearth-dlq-partition': String(batch.partition),
          'hearth-dlq-offset': message.offset,
        },
      }],
    }), retry, logger);
  }

  return {
    isJoined: () => joined,
    async stop() {
      await consumer.disconnect();
      await applying;
      await deadLetters.disconnect();
      joined = false;
    },
  };
}

/** Retries transient errors without limit and anything else `attempts` times, with jittered backoff. */
async function withRetry<T>(work: () => Promise<T>, policy: RetryPolicy, logger: Logger): Promise<T> {
  for (let attempt = 1, failures = 0; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      const transient = isTransient(error);
      if (!transient) failures++;
      if (!transient && failures >= policy.attempts) throw error;
      const delay = Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** Math.min(attempt - 1, 10));
      logger.warn({ err: error, attempt, transient, delayMs: delay }, 'retrying after a failure');
      await new Promise((resolve) => setTimeout(resolve, delay * (0.5 + Math.random() / 2)));
    }
  }
}

function withTransientRetry<T>(work: () => Promise<T>, policy: RetryPolicy, logger: Logger): Promise<T> {
  return withRetry(work, { ...policy, attempts: 1 }, logger);
}
